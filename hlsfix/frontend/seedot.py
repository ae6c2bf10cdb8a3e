"""The SeeDot frontend: .sd text + weights → ``ir.Graph``.

Parameters are declared ``let W = (16, 32) in [-1.24, 1.44] in``; their values come from an .npz
(name → array) and must have the declared shape, be finite and lie in the declared range. The value
named ``X`` is the model's input. Every error is one line with the source line:column.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from hlsfix.errors import ModelError, ParseError, SourceLoc, WeightsError
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph, GraphBuilder, check_elements
from hlsfix.ir.types import InputSpec, Param, real

INPUT_NAME = "X"
# Limits that keep parsing fast and its recursion within Python's stack: far above any model that
# fits the hardware (the zoo's largest program has under 400 tokens).
MAX_SOURCE_BYTES = 1 << 20
MAX_TOKENS = 4000
MAX_NESTING = 400  # expression levels inside one another (let chains are not nesting)
MAX_INDEX = 32767  # loop and sum indices are 16-bit integers in the generated code
FUNCTIONS = (
    "relu",
    "relu6",
    "exp",
    "tanh",
    "sigmoid",
    "sgn",
    "argmax",
    "reshape",
    "conv2d",
    "maxpool",
    "init",
)
_TOKEN = re.compile(r"//[^\n]*|\s+|\w+|<\*>|\|\*\||<[+-]>|:\+|>=|\^T|\S")
# How far outside its declared range a weight may lie before we call the file inconsistent:
# declared ranges are usually written rounded to two decimals.
RANGE_SLACK = 1e-3

_TOKEN_TEXT = {
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "EQUAL": "'='",
    "COLON": "':'",
    "QMARK": "'?'",
    "IN": "'in'",
    "LET": "'let'",
    "NAME": "a name",
    "INT": "an integer",
    "NUMBER": "a number",
    "ADDOP": "an operator",
    "MULOP": "an operator",
    "FN": "a function",
    "MORETHAN": "'>='",
    "SIGN": "a sign",
    "$END": "the end of the program",
}


@cache
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, parser="earley", propagate_positions=True, ambiguity="resolve")


def _terminal_text(name: str) -> str:
    if name in _TOKEN_TEXT:
        return _TOKEN_TEXT[name]
    if name.startswith('"'):
        return repr(name.strip('"').lower())
    for t in _parser().terminals:  # anonymous terminals (__ANON_0 …) and keywords: show their text
        if t.name == name and t.pattern.type == "str":
            return repr(t.pattern.value)
    return name


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_terminal_text(e) for e in expected})
    if len(names) > 6:
        names = names[:6] + ["…"]
    return " or ".join(names)


def check_size(text: str, filename: str | None) -> None:
    """Refuse, before parsing, a program longer than MAX_TOKENS tokens (naming where it passes it)."""
    count = 0
    for m in _TOKEN.finditer(text):
        if m.group()[0].isspace() or m.group().startswith("//"):
            continue
        count += 1
        if count > MAX_TOKENS:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            raise ParseError(
                f"program must have at most {MAX_TOKENS} tokens, not more (split it with let)",
                SourceLoc(line, col, filename),
            )


def _unknown_function(text: str, pos: int, loc: SourceLoc) -> None:
    """A name directly followed by '(' where '(' is unexpected: a call of an unknown function."""
    if text[pos : pos + 1] != "(":
        return
    m = re.search(r"([A-Za-z_]\w*)\s*$", text[:pos])
    if m and m.group(1) not in FUNCTIONS:
        name_col = loc.col - (pos - m.start(1))
        raise ParseError(
            f"unknown function {m.group(1)} (known: {', '.join(FUNCTIONS)})",
            SourceLoc(loc.line, max(name_col, 1), loc.file),
        )


def parse_text(text: str, filename: str | None = None) -> Tree:
    try:
        return _parser().parse(text)
    except UnexpectedEOF:
        lines = text.rstrip().splitlines() or [""]
        loc = SourceLoc(len(lines), len(lines[-1]) + 1, filename)
        raise ParseError("program must end with an expression, not stop here", loc) from None
    except UnexpectedCharacters as e:
        loc = SourceLoc(e.line, e.column, filename)
        _unknown_function(text, e.pos_in_stream or 0, loc)
        word = re.compile(r"\w+|\S").match(text, e.pos_in_stream or 0)
        char = word.group() if word else "?"
        expected = _describe_expected(set(e.allowed or ()))
        hint = f"expected {expected}, not {char!r}" if expected else f"unexpected character {char!r}"
        raise ParseError(hint, loc) from None
    except UnexpectedToken as e:
        loc = SourceLoc(e.line, e.column, filename)
        if e.token.start_pos is not None:
            _unknown_function(text, e.token.start_pos, loc)
        raise ParseError(
            f"expected {_describe_expected(set(e.expected))}, not {str(e.token)!r}", loc
        ) from None
    except UnexpectedInput as e:  # pragma: no cover - lark's other error kinds
        raise ParseError(str(e).splitlines()[0], SourceLoc(e.line, e.column, filename)) from None


@dataclass
class _Binding:
    value: str


class _Lowering:
    """Walks the parse tree, resolving names through nested scopes and building the graph."""

    def __init__(self, weights: Mapping[str, np.ndarray], filename: str | None) -> None:
        self.b = GraphBuilder()
        self.weights = weights
        self.filename = filename
        self.scopes: list[dict[str, str]] = [{}]
        self.params: dict[str, Param] = {}
        self.sparse: set[str] = set()
        self.input: InputSpec | None = None

    # -- helpers -------------------------------------------------------------------------------
    def loc(self, item: Tree | Token) -> SourceLoc | None:
        if isinstance(item, Token):
            return SourceLoc(item.line or 0, item.column or 0, self.filename)
        meta = item.meta
        if getattr(meta, "empty", True):
            return None
        return SourceLoc(meta.line, meta.column, self.filename)

    def lookup(self, name: Token) -> str:
        for scope in reversed(self.scopes):
            if str(name) in scope:
                return scope[str(name)]
        raise ModelError(f"name {str(name)!r} must be declared before use", self.loc(name))

    def bind(self, name: str, value: str) -> None:
        self.scopes[-1][name] = value

    def int_literal(self, value: int, loc: SourceLoc | None) -> str:
        return self.b.add(ops.IntConst(value), loc, "c")

    def literal(self, value: str) -> int | None:
        """The value of an integer literal (also when let-bound or negated), else None."""
        for block in reversed(self.b._blocks):
            for node in block:
                if node.out == value:
                    return node.op.value if isinstance(node.op, ops.IntConst) else None
        return None

    def as_real(self, value: str, loc: SourceLoc | None) -> str:
        """Integer literals meet real tensors as real constants; computed integers may not."""
        if not self.b.types[value].is_int:
            return value
        lit = self.literal(value)
        if lit is not None:
            return self.b.add(ops.RealConst(float(lit)), loc, "c")
        raise ModelError("operand must be a real tensor, not a computed integer", loc)

    # -- declarations --------------------------------------------------------------------------
    def declare(self, tree: Tree) -> str:
        name_tok, shape_tree, range_tree, body = tree.children
        name = str(name_tok)
        shape = tuple(int(t) for t in shape_tree.children if t is not None)
        lo, hi = (self.number(c) for c in range_tree.children)
        loc = self.loc(name_tok)
        if any(d <= 0 for d in shape):
            raise ModelError(f"dimensions of {name} must be positive, not {shape}", loc)
        check_elements(shape, name, loc)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ModelError(f"range of {name} must be finite, not [{lo}, {hi}]", loc)
        if lo > hi:
            raise ModelError(f"range of {name} must have low ≤ high, not [{lo}, {hi}]", loc)
        if name in self.params or (self.input and self.input.name == name):
            raise ModelError(f"{name} must be declared once, not again", loc)
        if name == INPUT_NAME:
            self.input = InputSpec(name, shape, (lo, hi))
        else:
            self.params[name] = Param(name, shape, (lo, hi), loc=loc)
        self.b.declare(name, real(shape))
        self.bind(name, name)
        return self.expr(body)

    @staticmethod
    def number(tree: Tree) -> float:
        sign = -1.0 if len(tree.children) == 2 and str(tree.children[0]) == "-" else 1.0
        return sign * float(tree.children[-1])

    # -- expressions ---------------------------------------------------------------------------
    def expr(self, tree: Tree | Token) -> str:  # noqa: C901 - one dispatch over the grammar's rules
        if isinstance(tree, Token):  # pragma: no cover - the grammar wraps every token
            raise AssertionError(tree)
        loc = self.loc(tree)
        kind = tree.data
        c = tree.children
        if kind == "let_decl":
            return self.declare(tree)
        if kind == "let_bind":
            value = self.expr(c[1])
            self.scopes.append({str(c[0]): value})
            try:
                return self.expr(c[2])
            finally:
                self.scopes.pop()
        if kind == "number":
            text = str(c[0])
            if text.isdigit():
                return self.int_literal(int(text), loc)
            return self.b.add(ops.RealConst(float(text)), loc, "c")
        if kind == "name":
            return self.lookup(c[0])
        if kind == "neg":
            x = self.expr(c[0])
            if self.b.types[x].is_int:
                lit = self.literal(x)
                if lit is not None:
                    return self.int_literal(-lit, loc)
                zero = self.int_literal(0, loc)
                return self.b.add(ops.IntBinary("-", zero, x), loc, "i")
            return self.b.add(ops.Unary("neg", x), loc)
        if kind == "binary":
            return self.binary(tree)
        if kind == "transpose":
            return self.b.add(ops.Transpose(self.expr(c[0])), loc)
        if kind == "index":
            x = self.expr(c[0])
            i = self.expr(c[1])
            node = self.b.add(ops.Index(x, i), loc)
            lit, extent = self.literal(i), self.b.types[x].shape[0]
            if lit is not None and not 0 <= lit < extent:
                raise ModelError(f"index must be in 0..{extent - 1}, not {lit}", loc)
            return node
        if kind == "splice":
            return self.splice(tree)
        if kind == "call":
            return self.call(str(c[0]), self.expr(c[1]), loc)
        if kind == "reshape":
            shape = tuple(int(t) for t in c[1].children if t is not None)
            order = tuple(int(t) for t in c[2].children if t is not None)
            return self.b.add(ops.Reshape(self.expr(c[0]), shape, order), loc)
        if kind == "conv2d":
            x, f = self.expr(c[0]), self.expr(c[1])
            n = [int(t) for t in c[2:]]
            op = ops.Conv2d(x, f, (n[0], n[1]), (n[2], n[3], n[4], n[5]), (n[6], n[7]), n[8])
            return self.b.add(op, loc, "conv")
        if kind == "maxpool":
            n = [int(t) for t in c[1:]]
            op = ops.MaxPool(self.expr(c[0]), (n[0], n[1]), (n[2], n[3], n[4], n[5]), (n[6], n[7]))
            return self.b.add(op, loc, "pool")
        if kind == "init":
            shape = tuple(int(t) for t in c[:-1])
            if any(d <= 0 for d in shape):
                raise ModelError(f"dimensions of init must be positive, not {shape}", loc)
            check_elements(shape, "init", loc)
            return self.b.add(ops.Init(shape, self.number(c[-1])), loc, "init")
        if kind == "cond":
            x = self.as_real(self.expr(c[0]), loc)
            threshold = self.number(c[1])
            a, b = self.expr(c[2]), self.expr(c[3])
            return self.b.add(ops.Cond(x, threshold, a, b), loc, "sel")
        if kind == "sum":
            return self.sum(tree)
        if kind == "loop":
            return self.loop(tree)
        raise AssertionError(f"unhandled rule {kind}")  # pragma: no cover

    def binary(self, tree: Tree) -> str:
        left, op_tok, right = tree.children
        loc = self.loc(op_tok)
        a, b = self.expr(left), self.expr(right)
        op = str(op_tok)
        ta, tb = self.b.types[a], self.b.types[b]
        if ta.is_int and tb.is_int and op in "+-*":
            return self.b.add(ops.IntBinary(op, a, b), loc, "i")  # type: ignore[arg-type]
        a, b = self.as_real(a, loc), self.as_real(b, loc)
        ta, tb = self.b.types[a], self.b.types[b]
        if op in ("+", "-"):
            return self.b.add(ops.Elementwise("add" if op == "+" else "sub", a, b), loc)
        if op in ("<+>", "<->"):
            return self.b.add(ops.BiasAdd(a, b, subtract=op == "<->"), loc)
        if op == "<*>":
            return self.b.add(ops.Elementwise("mul", a, b), loc)
        if op == "|*|":
            if a not in self.params:
                raise ModelError(
                    "left operand of |*| must be a declared parameter, not a computed value", loc
                )
            self.sparse.add(a)
            return self.b.add(ops.SparseMatMul(a, b), loc)
        # "*": matrix product when the shapes conform, else scalar multiplication.
        if ta.rank == 2 and tb.rank == 2 and ta.shape[1] == tb.shape[0]:
            return self.b.add(ops.MatMul(a, b), loc)
        if ta.size == 1:
            return self.b.add(ops.ScalarMul(a, b), loc)
        if tb.size == 1:
            return self.b.add(ops.ScalarMul(b, a), loc)
        return self.b.add(ops.MatMul(a, b), loc)  # raises the located shape error

    def splice(self, tree: Tree) -> str:
        # x[a:+n][b:+m] nests as splice(splice(x, a, n), b, m): collect the chain outermost-first.
        ranges: list[tuple[Tree, int]] = []
        node = tree
        while isinstance(node, Tree) and node.data == "splice":
            ranges.append((node.children[1], int(node.children[2])))
            node = node.children[0]
        ranges.reverse()
        x = self.expr(node)
        starts = tuple(self.expr(start) for start, _ in ranges)
        sizes = tuple(size for _, size in ranges)
        node = self.b.add(ops.Splice(x, starts, sizes), self.loc(tree))
        extents = self.b.types[x].shape[: len(sizes)]  # Splice.infer checked there are enough
        for dim, (start, size, extent) in enumerate(zip(starts, sizes, extents, strict=True)):
            lit = self.literal(start)
            if lit is not None and not 0 <= lit <= extent - size:
                raise ModelError(
                    f"start of the splice of dimension {dim + 1} must be in 0..{extent - size}, not {lit}",
                    self.loc(tree),
                )
        return node

    def call(self, fn: str, x: str, loc: SourceLoc | None) -> str:
        if fn == "argmax":
            return self.b.add(ops.Argmax(x), loc, "class")
        if fn == "sgn":
            return self.b.add(ops.Sgn(x), loc, "class")
        return self.b.add(ops.Unary(fn, x), loc, fn)  # type: ignore[arg-type]

    def _range(self, tree: Tree, start_tok: Token, stop_tok: Token) -> tuple[int, int]:
        start, stop = int(start_tok), int(stop_tok)
        if stop <= start:
            raise ModelError(f"range must be non-empty, not [{start}:{stop}]", self.loc(start_tok))
        if stop > MAX_INDEX:
            raise ModelError(f"range must end at most at {MAX_INDEX}, not at {stop}", self.loc(stop_tok))
        return start, stop

    def sum(self, tree: Tree) -> str:
        index_tok, start_tok, stop_tok, body_tree = tree.children
        start, stop = self._range(tree, start_tok, stop_tok)
        index = self.b.fresh(str(index_tok))
        self.b.declare(index, ops.INT)
        self.scopes.append({str(index_tok): index})
        self.b.open_block()
        try:
            result = self.expr(body_tree)
        finally:
            self.scopes.pop()
        body = self.b.close_block(result)
        return self.b.add(ops.Sum(index, start, stop, body), self.loc(tree), "sum")

    def loop(self, tree: Tree) -> str:
        index_tok, start_tok, stop_tok, carried_tok, body_tree = tree.children
        start, stop = self._range(tree, start_tok, stop_tok)
        init = self.lookup(carried_tok)
        if self.b.types[init].is_int:
            raise ModelError(
                "carried value of loop must be a real tensor, not an integer", self.loc(carried_tok)
            )
        index = self.b.fresh(str(index_tok))
        carried = self.b.fresh(str(carried_tok))
        self.b.declare(index, ops.INT)
        self.b.declare(carried, self.b.types[init])
        self.scopes.append({str(index_tok): index, str(carried_tok): carried})
        self.b.open_block()
        try:
            result = self.expr(body_tree)
        finally:
            self.scopes.pop()
        body = self.b.close_block(result)
        return self.b.add(ops.Loop(index, start, stop, init, carried, body), self.loc(tree), "loop")


def _check_weights(params: Mapping[str, Param], weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    checked: dict[str, np.ndarray] = {}
    for name, p in params.items():
        if name not in weights:
            raise WeightsError(f"weights file must hold an array {name!r}, not lack it", p.loc)
        arr = np.asarray(weights[name])
        if arr.dtype.kind not in "fiu":
            raise WeightsError(f"array {name!r} must be numeric, not {arr.dtype}", p.loc)
        if arr.shape != p.shape:
            raise WeightsError(
                f"array {name!r} must have the declared shape {p.shape}, not {arr.shape}", p.loc
            )
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            bad = int(np.count_nonzero(~np.isfinite(arr)))
            raise WeightsError(f"array {name!r} must be finite, not hold {bad} NaN/Inf values", p.loc)
        lo, hi = p.declared_range
        slack = RANGE_SLACK * max(1.0, abs(lo), abs(hi))
        if arr.size and (arr.min() < lo - slack or arr.max() > hi + slack):
            raise WeightsError(
                f"values of {name!r} must lie in the declared range [{lo}, {hi}], "
                f"not [{arr.min():.4g}, {arr.max():.4g}]",
                p.loc,
            )
        checked[name] = arr
    return checked


def _depths(tree: Tree) -> tuple[int, int]:
    """(expression nesting, tree depth): the first leaves ``let`` chains out (they are a
    sequence, not nesting), the second counts every level."""
    nesting = depth = 0
    stack: list[tuple[Tree, int, int]] = [(tree, 1, 1)]
    while stack:
        node, nest, level = stack.pop()
        nesting, depth = max(nesting, nest), max(depth, level)
        step = 0 if node.data in ("let_decl", "let_bind") else 1
        stack.extend((c, nest + step, level + 1) for c in node.children if isinstance(c, Tree))
    return nesting, depth


@contextmanager
def _recursion_headroom(frames: int) -> Iterator[None]:
    """At least ``frames`` more Python frames than the current depth, for the duration."""
    old = sys.getrecursionlimit()
    frame, here = sys._getframe(), 0
    while frame is not None:
        frame, here = frame.f_back, here + 1
    need = here + frames
    if need > old:
        sys.setrecursionlimit(need)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def parse_program(
    text: str,
    weights: Mapping[str, np.ndarray],
    *,
    name: str = "model",
    filename: str | None = None,
) -> Graph:
    """Parse, type-check and bind weights; raise a located HlsfixError on any mistake."""
    text = text.removeprefix("\ufeff")
    check_size(text, filename)
    tree = parse_text(text, filename)
    nesting, depth = _depths(tree)
    if nesting > MAX_NESTING:
        raise ParseError(
            f"program must nest expressions at most {MAX_NESTING} deep, not {nesting} "
            "(split a long expression with let)",
            SourceLoc(1, 1, filename),
        )
    lowering = _Lowering(weights, filename)
    for decl in tree.find_data("let_decl"):
        lowering.b.reserve(str(decl.children[0]))
    # The lowering recurses once or twice per tree level: give it the frames it needs whatever
    # limit the process runs with, so what parses never depends on who else set the limit.
    with _recursion_headroom(4 * depth + 200):
        result = lowering.expr(tree)
    if lowering.input is None:
        raise ModelError(
            f"program must declare its input {INPUT_NAME}, e.g. let X = (64, 1) in [0, 1] in",
            SourceLoc(1, 1, filename),
        )
    params = {n: p for n, p in lowering.params.items()}
    for n in lowering.sparse:
        p = params[n]
        params[n] = Param(p.name, p.shape, p.declared_range, sparse=True, loc=p.loc)
    arrays = _check_weights(params, weights)
    ordered = tuple(params.values())
    if math.prod(lowering.input.shape) == 0:  # pragma: no cover - guarded by declare()
        raise ModelError("input must have elements", None)
    return lowering.b.finish(name, lowering.input, ordered, result, arrays)


def load_npz(path: Path, what: str = "weights file") -> Mapping[str, np.ndarray]:
    """The arrays of an .npz, each checked and read only when used (see ``frontend.npz``)."""
    from hlsfix.frontend.npz import open_npz

    return open_npz(path, what)


def read_source(sd_path: Path) -> str:
    """The text of a .sd file: UTF-8 (a byte-order mark is skipped), no NUL bytes."""
    try:
        data = Path(sd_path).read_bytes()
    except IsADirectoryError:
        raise ParseError(f"program file must be a file, not a directory: {sd_path}") from None
    except OSError:
        raise ParseError(f"program file must exist and be readable, not {sd_path}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise ParseError(
            f"program file must be at most {MAX_SOURCE_BYTES} bytes, not {len(data)}",
            SourceLoc(1, 1, str(sd_path)),
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ParseError(
            f"program must be UTF-8 text, not hold the byte 0x{data[e.start]:02x}",
            SourceLoc(line, col, str(sd_path)),
        ) from None
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        raise ParseError(
            "program must be text, not hold NUL bytes",
            SourceLoc(line, at - text.rfind("\n", 0, at), str(sd_path)),
        )
    return text


def load_program(sd_path: Path, weights_path: Path | None = None, *, name: str | None = None) -> Graph:
    """Read an .sd file and its weights (``weights.npz`` beside it, or ``<stem>.npz``, unless given)."""
    sd_path = Path(sd_path)
    text = read_source(sd_path)
    if weights_path is None:
        candidates = [sd_path.with_suffix(".npz"), sd_path.parent / "weights.npz"]
        weights_path = next((c for c in candidates if c.exists()), candidates[0])
    weights = load_npz(weights_path)
    return parse_program(text, weights, name=name or sd_path.stem, filename=str(sd_path))
