"""A seeded generator of well-typed SeeDot programs, with weights and data, across the language.

``generate(seed)`` gives the text of one program, its weights (random scale and sparsity), calibration
rows drawn from a sub-range of the declared input range, and test rows that include the declared
range's edges. Programs are built as a chain of ``let``s over a current value:

- an image phase (when the input is NHWC): conv2d with random strides, paddings, dilations and
  groups, per-channel bias, relu, maxpool (paddings below the kernel), then a reshape to a column;
- a vector phase: dense ``*`` and sparse ``|*|`` products, ``+ - <*> <+>``, scalar products,
  negation, relu/relu6/tanh/sigmoid/exp, ``init``, splices at literal and computed starts, indexing
  at computed indices, sums ``$`` and loops (nested too), integer and tensor conditionals whose
  thresholds may lie outside the operand's range;
- an output: ``argmax``, ``sgn`` or the tensor itself.

Every program is type-checked by the frontend before it is returned (a generator bug fails there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlsfix.frontend.seedot import parse_program
from hlsfix.ir.graph import Graph

OUTPUTS = ("argmax", "sgn", "tensor")


@dataclass(frozen=True)
class RandomProgram:
    seed: int
    text: str
    weights: dict[str, np.ndarray] = field(repr=False)
    calib: np.ndarray = field(repr=False)
    test: np.ndarray = field(repr=False)
    bits: int = 16
    round_all: bool = False  # round_out on every kernel where it is safe, at any width

    def graph(self) -> Graph:
        return parse_program(self.text, self.weights, name=f"rand{self.seed}")


def _fmt(v: float) -> str:
    return f"{v:.6g}" if v != int(v) or abs(v) >= 1e6 else f"{v:.1f}"


class _Builder:
    def __init__(self, rng: np.random.Generator, ops: int) -> None:
        self.rng = rng
        self.decls: list[str] = []
        self.lets: list[str] = []
        self.weights: dict[str, np.ndarray] = {}
        self.n = 0
        self.budget = ops

    # -- names and parameters ----------------------------------------------------------------
    def fresh(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def param(self, shape: tuple[int, ...], scale: float | None = None, sparsity: float = 0.0) -> str:
        r = self.rng
        name = self.fresh("P")
        scale = float(10 ** r.uniform(-1.5, 0.5)) if scale is None else scale
        w = r.uniform(-scale, scale, size=shape)
        if sparsity > 0:
            w[r.random(shape) < sparsity] = 0.0
        if r.random() < 0.1:  # a tensor of one sign
            w = np.abs(w)
        w = np.round(w, 4)
        if not np.any(w):
            w.flat[0] = scale / 2
        lo, hi = float(np.floor(w.min() * 100) / 100), float(np.ceil(w.max() * 100) / 100)
        self.decls.append(f"let {name} = ({', '.join(map(str, shape))}) in [{lo:.2f}, {hi:.2f}] in")
        self.weights[name] = w
        return name

    def let(self, expr: str, stem: str = "v") -> str:
        name = self.fresh(stem)
        self.lets.append(f"let {name} = {expr} in")
        return name

    # -- the image phase ---------------------------------------------------------------------
    def image(self, v: str, shape: tuple[int, int, int, int]) -> tuple[str, int]:
        r = self.rng
        n, h, w, c = shape
        for _ in range(int(r.integers(1, 3))):
            groups = int(r.choice([g for g in (1, 2, 3) if c % g == 0]))
            cout = int(r.integers(1, 4))
            hf, wf = int(r.integers(1, min(h, 3) + 1)), int(r.integers(1, min(w, 3) + 1))
            s = int(r.integers(1, 3))
            d = int(r.integers(1, 3)) if h >= 2 * hf and w >= 2 * wf else 1
            p = [int(r.integers(0, 2)) for _ in range(4)]
            f = self.param((groups, hf, wf, c // groups, cout), sparsity=float(r.choice([0.0, 0.3])))
            pads = " ".join(map(str, p))
            conv = f"conv2d({v}, {f}, {{s {s} {s}}}, {{p {pads}}}, {{d {d} {d}}}, {{g {groups}}})"
            ho = (h + p[0] + p[1] - d * (hf - 1) - 1) // s + 1
            wo = (w + p[2] + p[3] - d * (wf - 1) - 1) // s + 1
            c = groups * cout
            if r.random() < 0.7:
                conv = f"{conv} <+> {self.param((c,), scale=0.3)}"
            if r.random() < 0.7:
                conv = f"relu({conv})"
            v, h, w = self.let(conv), ho, wo
            if r.random() < 0.6 and min(h, w) >= 2:
                k = int(r.integers(1, 3))
                pads = [int(r.integers(0, k)) for _ in range(4)]
                st = int(r.integers(1, 3))
                v = self.let(
                    f"maxpool({v}, {{k {k} {k}}}, {{p {' '.join(map(str, pads))}}}, {{s {st} {st}}})"
                )
                h = (h + pads[0] + pads[1] - k) // st + 1
                w = (w + pads[2] + pads[3] - k) // st + 1
        size = n * h * w * c
        order = "(1, 2, 3, 4)" if r.random() < 0.7 else "(1, 3, 2, 4)"
        return self.let(f"reshape({v}, ({size}, 1), {order})"), size

    # -- the vector phase --------------------------------------------------------------------
    def threshold(self) -> str:
        r = self.rng
        t = float(r.choice([0.0, r.uniform(-1, 1), 1.0, -1.0, 128.0, -128.0, 1e4, -1e4, 0.5]))
        return _fmt(t)

    def int_cond(self, v: str, m: int, limit: int) -> str:
        """A computed integer in 0..limit-1 from a conditional on v (its first element)."""
        a, b = (int(self.rng.integers(0, limit)) for _ in range(2))
        first = v if m == 1 else f"{v}[0:+1]"
        if self.rng.random() < 0.5 and limit > 1:
            # integer arithmetic on the result, kept in range
            k = self.let(f"({first}) >= {self.threshold()} ? {a} : {b}", "k")
            return self.let(f"{k} * 0 + {k}", "k") if self.rng.random() < 0.5 else k
        return self.let(f"({first}) >= {self.threshold()} ? {a} : {b}", "k")

    def step(self, v: str, m: int, depth: int) -> tuple[str, int]:  # noqa: C901 - one op per branch
        r = self.rng
        kinds = [
            "dense", "dense", "sparse", "bias", "sub", "hadamard", "scalar", "neg", "act", "act",
            "exp", "init", "splice", "index", "cond", "bcast",
        ]  # fmt: skip
        if depth < 2:
            kinds += ["sum", "loop"]
        kind = str(r.choice(kinds))
        if kind in ("dense", "sparse"):
            out = int(r.integers(1, 9))
            sp = float(r.choice([0.0, 0.5, 0.8])) if kind == "sparse" else float(r.choice([0.0, 0.0, 0.3]))
            w = self.param((out, m), sparsity=sp)
            op = "|*|" if kind == "sparse" else "*"
            return self.let(f"{w} {op} {v}"), out
        if kind in ("bias", "sub", "hadamard"):
            b = self.param((m, 1), scale=float(r.choice([0.1, 1.0, 4.0])))
            op = {"bias": "+", "sub": "-", "hadamard": "<*>"}[kind]
            expr = f"{b} {op} {v}" if r.random() < 0.5 else f"{v} {op} {b}"
            return self.let(expr), m
        if kind == "bcast":
            b = self.param((m,), scale=0.5)
            op = "<+>" if r.random() < 0.5 else "<->"
            return self.let(
                f"({v}^T {op} {b})^T"
                if r.random() < 0.3
                else f"reshape(reshape({v}, (1, {m}), (1, 2)) {op} {b}, ({m}, 1), (1, 2))"
            ), m
        if kind == "scalar":
            c = _fmt(float(r.choice([0.5, 2.0, 0.125, 3.0, -1.5])))
            return self.let(f"{c} * {v}" if r.random() < 0.5 else f"{self.param((1, 1))} * {v}"), m
        if kind == "neg":
            return self.let(f"-{v}"), m
        if kind == "act":
            fn = str(r.choice(["relu", "relu6", "tanh", "sigmoid"]))
            return self.let(f"{fn}({v})"), m
        if kind == "exp":
            return self.let(f"exp({_fmt(float(r.choice([-0.5, -1.0, 0.25])))} * relu({v}))"), m
        if kind == "init":
            return self.let(f"{v} + init([{m}, 1], {_fmt(float(r.choice([0.0, 0.5, -2.0])))})"), m
        if kind == "splice" and m > 1:
            size = int(r.integers(1, m))
            if r.random() < 0.5:
                return self.let(f"{v}[{int(r.integers(0, m - size + 1))}:+{size}]"), size
            k = self.int_cond(v, m, m - size + 1)
            return self.let(f"{v}[{k}:+{size}]"), size
        if kind == "index":
            rows, out = int(r.integers(2, 4)), int(r.integers(1, 7))
            p = self.param((rows, out, m))
            k = self.int_cond(v, m, rows)
            return self.let(f"{p}[{k}] * {v}"), out
        if kind == "cond":  # a tensor-valued conditional
            first = v if m == 1 else f"{v}[0:+1]"
            return self.let(f"({first}) >= {self.threshold()} ? relu({v}) : {_fmt(0.5)} * {v}"), m
        if kind == "sum":
            n = int(r.integers(1, 4))
            p = self.param((n, m, m))
            idx = self.fresh("i")
            inner = f"({p}[{idx}] * {v})"
            if depth == 0 and r.random() < 0.3:  # a nested sum
                q = self.param((2, m, 1), scale=0.5)
                j = self.fresh("j")
                inner = f"({p}[{idx}] * ($({j} = [0:2]) ({q}[{j}] <*> {v})))"
            return self.let(f"$({idx} = [0:{n}]) {inner}"), m
        if kind == "loop":
            n = int(r.integers(1, 4))
            u = self.param((m, m), scale=float(r.choice([0.2, 0.5])))
            b = self.param((n, m, 1), scale=0.5)
            idx, h = self.fresh("t"), self.fresh("H")
            h0 = self.let(f"tanh({v})", "H")
            body = f"(tanh({u} * {h0} + {b}[{idx}]))"
            if depth == 0 and r.random() < 0.3:  # a sum nested in the loop
                j = self.fresh("j")
                body = f"(tanh({u} * {h0} + ($({j} = [0:2]) ({b}[{idx}]))))"
            del h
            return self.let(f"loop({idx} = [0:{n}], {h0}) {body}"), m
        return self.let(f"relu({v})"), m


def generate(seed: int, ops: int | None = None) -> RandomProgram:
    r = np.random.default_rng(seed)
    b = _Builder(r, ops or int(r.integers(2, 7)))
    image = r.random() < 0.3
    lo = float(r.choice([0.0, -1.0, -4.0, 0.0]))
    hi = float(r.choice([1.0, 2.0, 8.0])) if lo == 0.0 else -lo
    if image:
        shape: tuple[int, ...] = (1, int(r.integers(3, 7)), int(r.integers(3, 7)), int(r.integers(1, 4)))
    else:
        shape = (int(r.integers(1, 13)), 1)
    v = "X"
    if image:
        v, m = b.image("X", shape)  # type: ignore[arg-type]
    else:
        m = shape[0]
    for _ in range(b.budget):
        v, m = b.step(v, m, 0 if r.random() < 0.7 else 1)
    out = str(r.choice(OUTPUTS))
    if out == "argmax":
        result = f"argmax({v})"
    elif out == "sgn":
        result = f"sgn({v})" if m == 1 else f"sgn({v}[0:+1])"
    else:
        result = v
    head = f"let X = ({', '.join(map(str, shape))}) in [{_fmt(lo)}, {_fmt(hi)}] in"
    text = "\n".join([head, *b.decls, *b.lets, result]) + "\n"
    # calibration: a random sub-range of the declared one; test: whole range, edges included
    c_lo = lo + (hi - lo) * float(r.uniform(0, 0.4))
    c_hi = hi - (hi - lo) * float(r.uniform(0, 0.4))
    calib = r.uniform(c_lo, c_hi, size=(64, *shape))
    test = r.uniform(lo, hi, size=(24, *shape))
    test[0], test[1] = lo, hi
    test[2] = np.where(r.random(shape) < 0.5, lo, hi)
    bits = int(r.choice([16, 16, 16, 8]))
    prog = RandomProgram(seed, text, b.weights, calib, test, bits, bool(r.random() < 0.5))
    prog.graph()  # type-checks: a generator bug must fail here, not in a backend
    return prog
