"""The SeeDot frontend: every construct's op and type, the zoo programs, and located errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hlsfix.errors import HlsfixError, ModelError, ParseError, WeightsError
from hlsfix.frontend.seedot import parse_program
from hlsfix.ir import ops
from hlsfix.ir.interp import run_float
from hlsfix.ir.types import INT, real

ZOO = Path(__file__).resolve().parents[2] / "hlsfix" / "zoo"
ZOO_MODELS = ["bonsai", "bonsai-binary", "cnn", "fastgrnn", "mlp", "protonn"]

_DECL = re.compile(r"let\s+(\w+)\s*=\s*\(([\d,\s]+)\)\s*in\s*\[\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*\]\s*in")


def declarations(text: str) -> dict[str, tuple[tuple[int, ...], float, float]]:
    """name -> (shape, lo, hi) of every ``let NAME = (dims) in [lo, hi] in``, read by a regex."""
    out = {}
    for m in _DECL.finditer(text):
        shape = tuple(int(d) for d in m.group(2).replace(" ", "").split(",") if d)
        out[m.group(1)] = (shape, float(m.group(3)), float(m.group(4)))
    return out


def fabricate(text: str, seed: int = 0) -> dict[str, np.ndarray]:
    """In-range random weights of the declared shapes for every parameter (not X)."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.uniform(min(lo, hi), max(lo, hi), size=shape)
        for name, (shape, lo, hi) in declarations(text).items()
        if name != "X"
    }


def parse(text: str, weights: dict[str, np.ndarray] | None = None):
    return parse_program(text, fabricate(text) if weights is None else weights, filename="m.sd")


def nodes_of(graph, op_type):
    return [n for n in graph.walk() if isinstance(n.op, op_type)]


def only(graph, op_type):
    found = nodes_of(graph, op_type)
    assert len(found) == 1, found
    return found[0]


HEAD = "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1] in\n"


# ---------------------------------------------------------------------------------------------
# Constructs
# ---------------------------------------------------------------------------------------------


def test_let_decl_records_input_and_params():
    g = parse(HEAD + "let b = (3, 1) in [-0.5, 0.25] in\nW * X + b")
    assert g.input.name == "X" and g.input.shape == (4, 1) and g.input.declared_range == (0.0, 1.0)
    assert [p.name for p in g.params] == ["W", "b"]
    b = g.param("b")
    assert b.shape == (3, 1) and b.declared_range == (-0.5, 0.25) and not b.sparse
    assert b.loc is not None and (b.loc.line, b.loc.col) == (3, 5)
    assert g.output_type == real((3, 1))


def test_let_bind_shadowing_and_scope():
    # the inner `a` (a transposed X) is visible only inside its own let
    g = parse(HEAD + "let a = X in\nlet b = (let a = a^T in a) in\na")
    assert g.output_type == real((4, 1))
    assert g.body.result == "X"
    t = only(g, ops.Transpose)
    assert t.op.x == "X" and g.types[t.out] == real((1, 4))
    # shadowing a name by a new let binds the new value
    g2 = parse(HEAD + "let a = X in\nlet a = W * a in\na")
    assert g2.output_type == real((3, 1))
    assert g2.body.result == only(g2, ops.MatMul).out


def test_star_is_matmul_when_shapes_conform():
    g = parse(HEAD + "W * X")
    n = only(g, ops.MatMul)
    assert (n.op.a, n.op.b) == ("W", "X")
    assert g.output_type == real((3, 1))


@pytest.mark.parametrize(
    "expr, scalar_is_const",
    [("s * W", False), ("W * s", False), ("2.5 * W", True), ("W * 0.5", True), ("2 * W", True)],
)
def test_star_is_scalar_multiply(expr, scalar_is_const):
    g = parse(HEAD + "let s = (1, 1) in [0, 2] in\n" + expr)
    n = only(g, ops.ScalarMul)
    assert n.op.x == "W"
    if scalar_is_const:
        const = [m for m in g.walk() if m.out == n.op.scalar][0]
        assert isinstance(const.op, ops.RealConst)
        assert const.op.value == float(re.search(r"[\d.]+", expr).group())
    else:
        assert n.op.scalar == "s"
    assert not nodes_of(g, ops.MatMul)
    assert g.output_type == real((3, 4))


def test_negative_integer_literal_scales_a_tensor():
    g = parse(HEAD + "-2 * W")
    n = only(g, ops.ScalarMul)
    const = [m for m in g.walk() if m.out == n.op.scalar][0]
    assert isinstance(const.op, ops.RealConst) and const.op.value == -2.0


def test_sparse_matmul_marks_param_sparse():
    g = parse(HEAD + "let Z = (6, 4) in [-1, 1] in\nW^T * (Z |*| X)[0:+3]")
    n = only(g, ops.SparseMatMul)
    assert (n.op.matrix, n.op.vector) == ("Z", "X")
    assert g.types[n.out] == real((6, 1))
    assert g.param("Z").sparse is True
    assert g.param("W").sparse is False
    assert g.output_type == real((4, 1))


def test_sparse_through_let_alias_marks_the_param():
    g = parse(HEAD + "let Z = (6, 4) in [-1, 1] in\nlet A = Z in\nA |*| X")
    assert g.param("Z").sparse
    assert g.output_type == real((6, 1))


def test_pointwise_mul_and_bias_add_sub():
    text = HEAD + "let b = (4) in [-1, 1] in\nlet V = (3, 4) in [-1, 1] in\n(W <*> V) <+> b <-> b"
    g = parse(text)
    mul = only(g, ops.Elementwise)
    assert mul.op.kind == "mul" and (mul.op.a, mul.op.b) == ("W", "V")
    adds = nodes_of(g, ops.BiasAdd)
    assert [a.op.subtract for a in adds] == [False, True]
    assert all(a.op.bias == "b" for a in adds)
    assert g.output_type == real((3, 4))


@pytest.mark.parametrize(
    "expr, kind",
    [("X + X", "add"), ("X - X", "sub"), ("X + 1.5", "add"), ("1 - X", "sub"), ("X - s", "sub")],
)
def test_add_sub_with_scalar_broadcast(expr, kind):
    g = parse(HEAD + "let s = (1, 1) in [0, 1] in\n" + expr)
    n = only(g, ops.Elementwise)
    assert n.op.kind == kind
    assert g.output_type == real((4, 1))


def test_unary_minus_and_transpose():
    g = parse(HEAD + "-W^T")
    t = only(g, ops.Transpose)
    neg = only(g, ops.Unary)
    assert neg.op.fn == "neg" and neg.op.x == t.out  # ^T binds tighter than unary minus
    assert g.output_type == real((4, 3))


def test_reshape():
    g = parse(HEAD + "reshape(W, (2, 6), (2, 1))")
    n = only(g, ops.Reshape)
    assert n.op.shape == (2, 6) and n.op.order == (2, 1)
    assert g.output_type == real((2, 6))


def test_index_with_literal_loop_index_and_computed_integer():
    text = "let X = (4, 1) in [0, 1] in\nlet B = (9, 3, 4) in [-1, 1] in\n"
    g = parse(text + "B[2] * X")
    idx = only(g, ops.Index)
    assert g.types[idx.out] == real((3, 4))
    assert isinstance([m for m in g.walk() if m.out == idx.op.index][0].op, ops.IntConst)
    g = parse(text + "$(k = [0:4]) (B[2 * k + 1] * X)")
    idx = only(g, ops.Index)
    arith = nodes_of(g, ops.IntBinary)
    assert sorted(a.op.op for a in arith) == ["*", "+"]
    assert idx.op.index == [a for a in arith if a.op.op == "+"][0].out
    s = only(g, ops.Sum)
    assert (s.op.start, s.op.stop) == (0, 4)
    assert "k" in [a.op.b for a in arith if a.op.op == "*"]
    assert g.output_type == real((3, 1))
    g = parse(text + "$(k = [0:9]) (B[k] * X)")
    assert only(g, ops.Index).op.index == only(g, ops.Sum).op.index


def test_splice_two_ranges():
    g = parse("let X = (6, 5) in [0, 1] in\nlet k = 1 in\nX[k + 1:+3][1:+4]")
    n = only(g, ops.Splice)
    assert n.op.sizes == (3, 4) and len(n.op.starts) == 2
    assert g.output_type == real((3, 4))
    g = parse("let X = (6, 5) in [0, 1] in\nX[0:+2]")
    assert g.output_type == real((2, 5))


@pytest.mark.parametrize(
    "x_shape, f_shape, params, out_shape",
    [
        ((1, 8, 8, 3), (1, 3, 3, 3, 4), "{s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1}", (1, 8, 8, 4)),
        ((1, 8, 8, 3), (1, 3, 3, 3, 4), "{s 2 2}, {p 0 0 0 0}, {d 1 1}, {g 1}", (1, 3, 3, 4)),
        ((1, 9, 7, 3), (1, 3, 3, 3, 2), "{s 2 1}, {p 1 0 0 2}, {d 1 1}, {g 1}", (1, 4, 7, 2)),
        ((1, 8, 8, 3), (1, 3, 3, 3, 4), "{s 1 1}, {p 0 0 0 0}, {d 2 2}, {g 1}", (1, 4, 4, 4)),
        ((1, 6, 6, 4), (2, 3, 3, 2, 6), "{s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 2}", (1, 6, 6, 12)),
        ((2, 7, 7, 6), (3, 1, 1, 2, 3), "{s 3 3}, {p 0 0 0 0}, {d 1 1}, {g 3}", (2, 3, 3, 9)),
    ],
)
def test_conv2d_shapes(x_shape, f_shape, params, out_shape):
    xs = ", ".join(map(str, x_shape))
    fs = ", ".join(map(str, f_shape))
    g = parse(f"let X = ({xs}) in [0, 1] in\nlet F = ({fs}) in [-1, 1] in\nconv2d(X, F, {params})")
    n = only(g, ops.Conv2d)
    assert n.op.groups == f_shape[0]
    assert g.output_type == real(out_shape)
    # output size by the textbook formula, independently of ops.Conv2d
    s = [int(v) for v in re.search(r"\{s (\d+) (\d+)\}", params).groups()]
    p = [int(v) for v in re.search(r"\{p (\d+) (\d+) (\d+) (\d+)\}", params).groups()]
    d = [int(v) for v in re.search(r"\{d (\d+) (\d+)\}", params).groups()]
    ho = (x_shape[1] + p[0] + p[1] - d[0] * (f_shape[1] - 1) - 1) // s[0] + 1
    wo = (x_shape[2] + p[2] + p[3] - d[1] * (f_shape[2] - 1) - 1) // s[1] + 1
    assert out_shape[1:3] == (ho, wo)
    assert n.op.strides == tuple(s) and n.op.pads == tuple(p) and n.op.dilations == tuple(d)


def test_maxpool_shape():
    g = parse("let X = (1, 7, 6, 2) in [0, 1] in\nmaxpool(X, {k 3 2}, {p 1 1 0 0}, {s 2 2})")
    n = only(g, ops.MaxPool)
    assert n.op.kernel == (3, 2) and n.op.pads == (1, 1, 0, 0) and n.op.strides == (2, 2)
    assert g.output_type == real((1, 4, 3, 2))  # (7+2-3)//2+1 = 4, (6-2)//2+1 = 3


@pytest.mark.parametrize("fn", ["relu", "relu6", "exp", "tanh", "sigmoid"])
def test_unary_functions(fn):
    g = parse(HEAD + f"{fn}(W)")
    n = only(g, ops.Unary)
    assert n.op.fn == fn and n.op.x == "W"
    assert g.output_type == real((3, 4))


def test_argmax_and_sgn_give_integers():
    g = parse(HEAD + "argmax(W * X)")
    assert only(g, ops.Argmax) and g.output_type == INT
    g = parse(HEAD + "sgn((W * X)[1:+1])")
    assert only(g, ops.Sgn) and g.output_type == INT


def test_sum_loop_and_init():
    g = parse(HEAD + "let H = init([3, 1], 0.25) in\nloop(t = [1:4], H) (H + W * X)")
    init = only(g, ops.Init)
    assert init.op.shape == (3, 1) and init.op.value == 0.25
    loop = only(g, ops.Loop)
    assert (loop.op.start, loop.op.stop, loop.op.init) == (1, 4, init.out)
    add = only(g, ops.Elementwise)
    assert add.op.a == loop.op.carried  # inside the body, H is the carried value
    assert add in loop.op.body.nodes
    assert g.output_type == real((3, 1))
    g = parse(HEAD + "$(i = [0:3]) (W * X)")
    s = only(g, ops.Sum)
    assert (s.op.start, s.op.stop) == (0, 3)
    assert only(g, ops.MatMul) in s.op.body.nodes
    assert g.output_type == real((3, 1))


def test_cond_with_integer_and_tensor_branches():
    g = parse(HEAD + "let k = (W * X)[0:+1] >= -0.5 ? 1 : 2 in\nk")
    c = only(g, ops.Cond)
    assert c.op.threshold == -0.5
    assert g.output_type == INT
    g = parse(HEAD + "(W * X)[0:+1] >= 0 ? W : -W")
    assert only(g, ops.Cond).op.threshold == 0.0
    assert g.output_type == real((3, 4))


def test_comments_and_integer_scalars():
    text = (
        "// leading comment\n"
        "let X = (4, 1) in [0, 1] in // the input\n"
        "let B = (5, 4, 1) in [-1, 1] in\n"
        "let k = 3 in // an integer scalar\n"
        "let j = k * 2 - 5 in\n"
        "B[j] + B[-j + 2] // ints: j = 1\n"
    )
    g = parse(text)
    assert g.output_type == real((4, 1))
    assert len(nodes_of(g, ops.IntBinary)) >= 2
    g = parse("let X = (4, 1) in [0, 1] in\n3")
    assert g.output_type == INT


def test_integer_literal_bound_outside_a_sum_scales_inside_it():
    g = parse(HEAD + "let k = 2 in\n$(i = [0:3]) (k * X)")
    n = only(g, ops.ScalarMul)
    const = [m for m in g.walk() if m.out == n.op.scalar][0]
    assert isinstance(const.op, ops.RealConst) and const.op.value == 2.0
    assert g.output_type == real((4, 1))


def test_trailing_comma_and_1d_shapes():
    g = parse("let X = (4,) in [0, 1] in\nlet b = (4) in [0, 1] in\nX + b")
    assert g.input.shape == (4,) and g.param("b").shape == (4,)
    assert g.output_type == real((4,))


def test_param_declared_after_an_expression_keeps_its_name():
    # a value named by the builder (e.g. "t") must not capture a later parameter of that name
    text = "let X = (2, 2) in [0, 1] in\nlet y = X^T in\nlet t = (2, 2) in [0, 1] in\ny + t"
    g = parse(text, {"t": np.full((2, 2), 0.5)})
    x = np.array([[0.0, 0.25, 0.5, 0.75]])
    np.testing.assert_allclose(run_float(g, x)[0], x.reshape(2, 2).T + 0.5)


# ---------------------------------------------------------------------------------------------
# The zoo
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ZOO_MODELS)
def test_zoo_program_parses_to_a_class(model):
    text = (ZOO / model / "model.sd").read_text()
    decls = declarations(text)
    assert "X" in decls
    weights = fabricate(text, seed=1)
    g = parse_program(text, weights, name=model, filename=f"{model}.sd")
    assert g.output_type == INT
    assert g.name == model
    assert {p.name for p in g.params} == set(decls) - {"X"}
    for p in g.params:
        assert p.shape == decls[p.name][0]
    x_shape, lo, hi = decls["X"]
    x = np.random.default_rng(2).uniform(lo, hi, size=(5, int(np.prod(x_shape))))
    classes = run_float(g, x)
    assert classes.shape == (5,) and classes.dtype.kind == "i"
    n_classes = 2 if model == "bonsai-binary" else 10
    assert np.all((classes >= 0) & (classes < n_classes))


# ---------------------------------------------------------------------------------------------
# Errors: kind, message and place
# ---------------------------------------------------------------------------------------------

H2 = "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1] in\nlet b = (3) in [-1, 1] in\n"  # 3 lines

ERRORS = [
    # syntax
    (
        "missing in",
        ParseError,
        "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1]\nW * X",
        3,
        1,
        "expected 'in', not 'W'",
    ),
    ("unbalanced paren", ParseError, H2 + "let y = (W * X in\ny", 4, 16, "not 'in'"),
    ("extra paren", ParseError, H2 + "W * X)", 4, 6, "')'"),
    ("bad token", ParseError, H2 + "W @ X", 4, 3, "expected '>=' or '[' or '^T' or an operator, not '@'"),
    ("truncated", ParseError, H2 + "let y = W *", 4, 12, "program must end with an expression"),
    (
        "truncated after in",
        ParseError,
        H2 + "let y = W * X in\n",
        4,
        17,
        "program must end with an expression",
    ),
    ("unknown function", ParseError, H2 + "softmax(W * X)", 4, 1, "unknown function softmax (known: relu, "),
    # names
    ("undeclared", ModelError, H2 + "W *\n  Y", 5, 3, "name 'Y' must be declared before use"),
    (
        "out of let scope",
        ModelError,
        H2 + "let y = (let z = W * X in z) in\ny + z",
        5,
        5,
        "name 'z' must be declared before use",
    ),
    ("redeclared", ModelError, H2 + "let W = (3, 4) in [-1, 1] in\nW", 4, 5, "W must be declared once"),
    ("redeclared input", ModelError, H2 + "let X = (4, 1) in [0, 1] in\nX", 4, 5, "X must be declared once"),
    ("no X", ModelError, "let W = (3, 4) in [-1, 1] in\nW", 1, 1, "program must declare its input X"),
    (
        "zero dimension",
        ModelError,
        H2 + "let V = (3, 0) in [0, 1] in\nV",
        4,
        5,
        "dimensions of V must be positive",
    ),
    ("range reversed", ModelError, H2 + "let V = (3, 2) in [1, 0] in\nV", 4, 5, "must have low ≤ high"),
    # shapes and types
    (
        "matmul inner",
        ModelError,
        H2 + "let y = W * W in\ny",
        4,
        11,
        "inner dimensions of * must agree, not (3, 4) * (3, 4)",
    ),
    ("<*> shapes", ModelError, H2 + "W <*> X", 4, 3, "operands of <*> must have equal shapes"),
    (
        "<+> bias length",
        ModelError,
        H2 + "W <+> b",
        4,
        3,
        "right operand of <+> must have 4 elements (the last dimension of (3, 4)), not shape (3)",
    ),
    (
        "|*| computed left",
        ModelError,
        H2 + "(W + W) |*| X",
        4,
        9,
        "left operand of |*| must be a declared parameter",
    ),
    (
        "index of 1-D",
        ModelError,
        H2 + "let y = b[0] in\ny",
        4,
        9,
        "indexed value must have at least 2 dimensions, not (3)",
    ),
    (
        "literal index out of range",
        ModelError,
        H2 + "let V = (3, 4, 1) in [0, 1] in\nV[3]",
        5,
        1,
        "index must be in 0..2, not 3",
    ),
    (
        "splice out of range",
        ModelError,
        H2 + "  X[3:+2]",
        4,
        3,
        "start of the splice of dimension 1 must be in 0..2, not 3",
    ),
    ("splice too big", ModelError, H2 + "  X[0:+5]", 4, 3, "splice size of dimension 1 must be in 1..4"),
    (
        "int as tensor operand",
        ModelError,
        H2 + "let k = 1 + 1 in\nW * k",
        5,
        3,
        "operand must be a real tensor, not a computed integer",
    ),
    (
        "int as function argument",
        ModelError,
        H2 + "let k = 1 + 1 in\nrelu(k)",
        5,
        1,
        "operand of relu must be a real tensor, not an integer",
    ),
    (
        "tensor as index",
        ModelError,
        H2 + "let V = (3, 4, 1) in [0, 1] in\nV[X]",
        5,
        1,
        "index must be an integer, not a tensor of shape (4, 1)",
    ),
    (
        "reshape count",
        ModelError,
        H2 + "reshape(W, (5, 2), (1, 2))",
        4,
        1,
        "reshape must keep the element count 12 of (3, 4), not 10 of (5, 2)",
    ),
    (
        "reshape order",
        ModelError,
        H2 + "reshape(W, (4, 3), (1, 1))",
        4,
        1,
        "order of reshape must be a permutation of 1..2, not (1, 1)",
    ),
    (
        "conv2d channels",
        ModelError,
        "let X = (1, 4, 4, 2) in [0, 1] in\nlet F = (1, 3, 3, 3, 4) in [-1, 1] in\n"
        "  conv2d(X, F, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1})",
        3,
        3,
        "filter input channels × groups must equal the input's 2 channels, not 3",
    ),
    (
        "conv2d groups",
        ModelError,
        "let X = (1, 4, 4, 4) in [0, 1] in\nlet F = (2, 3, 3, 2, 4) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1})",
        3,
        1,
        "first filter dimension must equal the groups 1, not 2",
    ),
    ("empty range", ModelError, H2 + "$(i = [3:3]) W", 4, 8, "range must be non-empty, not [3:3]"),
    (
        "loop body type",
        ModelError,
        H2 + "let H = init([3, 1], 0.0) in\nloop(i = [0:2], H) (W)",
        5,
        1,
        "body of loop must give the carried value's type real(3, 1), not real(3, 4)",
    ),
    (
        "cond branch types",
        ModelError,
        H2 + "let y = (W * X)[0:+1] >= 0 ? W : X in\ny",
        4,
        9,
        "branches of ?: must have one type, not real(3, 4) and real(4, 1)",
    ),
    (
        "cond int vs tensor",
        ModelError,
        H2 + "(W * X)[0:+1] >= 0 ? 1 : X",
        4,
        1,
        "branches of ?: must have one type, not int and real(4, 1)",
    ),
    (
        "cond on a vector",
        ModelError,
        H2 + "W * X >= 0 ? 1 : 2",
        4,
        1,
        "condition of ?: must have one element, not shape (3, 1)",
    ),
    ("sgn of a vector", ModelError, H2 + "sgn(W * X)", 4, 1, "operand of sgn must have one element"),
    ("sum of ints", ModelError, H2 + "$(i = [0:3]) (i + 1)", 4, 1, "body of $ must be a real tensor"),
    ("init zero dim", ModelError, H2 + "init([3, 0], 1.0)", 4, 1, "dimensions of init must be positive"),
]


@pytest.mark.parametrize(
    "kind, text, line, col, fragment", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_program_error(kind, text, line, col, fragment):
    with pytest.raises(HlsfixError) as info:
        parse(text)
    err = info.value
    assert type(err) is kind, f"{type(err).__name__}: {err}"
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith(f"m.sd:{line}:{col}: "), msg
    assert fragment in msg, msg
    assert (err.loc.line, err.loc.col, err.loc.file) == (line, col, "m.sd")
    assert "__ANON" not in msg and "$END" not in msg  # no lark-internal terminal names


def _weights_ok() -> dict[str, np.ndarray]:
    return {"W": np.full((3, 4), 0.5), "b": np.zeros(3)}


def _with(name: str, value) -> dict[str, np.ndarray]:
    w = _weights_ok()
    if value is None:
        del w[name]
    else:
        w[name] = value
    return w


def _nan_w() -> np.ndarray:
    w = np.full((3, 4), 0.5)
    w[1, 2] = np.nan
    return w


def _inf_w() -> np.ndarray:
    w = np.full((3, 4), 0.5)
    w[0, 0] = -np.inf
    w[2, 3] = np.inf
    return w


WEIGHT_ERRORS = [
    ("missing", _with("W", None), "weights file must hold an array 'W', not lack it"),
    (
        "wrong shape",
        _with("W", np.zeros((4, 3))),
        "array 'W' must have the declared shape (3, 4), not (4, 3)",
    ),
    ("nan", _with("W", _nan_w()), "array 'W' must be finite, not hold 1 NaN/Inf values"),
    ("inf", _with("W", _inf_w()), "array 'W' must be finite, not hold 2 NaN/Inf values"),
    (
        "above range",
        _with("W", np.full((3, 4), 1.5)),
        "values of 'W' must lie in the declared range [-1.0, 1.0]",
    ),
    ("below range", _with("W", np.full((3, 4), -1.01)), "not [-1.01, -1.01]"),
    ("not numeric", _with("W", np.full((3, 4), "a")), "array 'W' must be numeric"),
]


@pytest.mark.parametrize(
    "weights, fragment", [e[1:] for e in WEIGHT_ERRORS], ids=[e[0] for e in WEIGHT_ERRORS]
)
def test_weights_error(weights, fragment):
    with pytest.raises(WeightsError) as info:
        parse_program(H2 + "(W * X)^T <+> b", weights, filename="m.sd")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("m.sd:2:5: "), msg  # where W is declared
    assert fragment in msg, msg


def test_weights_error_names_the_bad_param_location():
    w = _weights_ok()
    w["b"] = np.zeros((3, 1))
    with pytest.raises(WeightsError, match=r"^m\.sd:3:5: array 'b' must have the declared shape"):
        parse_program(H2 + "(W * X)^T <+> b", w, filename="m.sd")


def test_weights_within_rounding_slack_are_accepted():
    # declared ranges are written rounded: 1.0005 is within the 1e-3 slack of [-1, 1]
    g = parse_program(H2 + "W * X", {"W": np.full((3, 4), 1.0005), "b": np.zeros(3)}, filename="m.sd")
    assert g.weights["W"].dtype == np.float64
    np.testing.assert_array_equal(g.weights["W"], np.full((3, 4), 1.0005))


def test_integer_weights_are_accepted_as_floats():
    g = parse_program(H2 + "W * X", {"W": np.ones((3, 4), dtype=np.int8), "b": np.zeros(3)})
    assert g.weights["W"].dtype == np.float64


def test_error_without_filename_has_bare_location():
    with pytest.raises(ModelError) as info:
        parse_program(H2 + "W <*> X", _weights_ok())
    assert str(info.value).startswith("4:3: ")
