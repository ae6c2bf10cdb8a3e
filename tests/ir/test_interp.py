"""The float reference (``run_float``) against independent per-sample numpy loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hlsfix.errors import DataError
from hlsfix.frontend.seedot import parse_program
from hlsfix.ir.interp import run_float

N = 6  # rows per batch


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def run(text: str, weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    graph = parse_program(text, weights, filename="m.sd")
    return run_float(graph, x)


def rows(x: np.ndarray, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Each data row reshaped to the input's declared shape."""
    return [x[n].reshape(shape) for n in range(x.shape[0])]


def matmul_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            for k in range(a.shape[1]):
                out[i, j] += a[i, k] * b[k, j]
    return out


# ---------------------------------------------------------------------------------------------
# Linear algebra
# ---------------------------------------------------------------------------------------------


def test_matmul():
    r = rng(1)
    W = r.uniform(-1, 1, (3, 5))
    A = r.uniform(-1, 1, (5, 2))
    x = r.uniform(0, 1, (N, 5))
    out = run("let X = (5, 1) in [0, 1] in\nlet W = (3, 5) in [-1, 1] in\nW * X", {"W": W}, x)
    assert out.shape == (N, 3, 1)
    for n, xn in enumerate(rows(x, (5, 1))):
        np.testing.assert_allclose(out[n], matmul_ref(W, xn))
    # the data on the left
    out = run("let X = (5, 1) in [0, 1] in\nlet A = (5, 2) in [-1, 1] in\nX^T * A", {"A": A}, x)
    assert out.shape == (N, 1, 2)
    for n, xn in enumerate(rows(x, (5, 1))):
        np.testing.assert_allclose(out[n], matmul_ref(xn.T, A))


def test_sparse_matmul():
    r = rng(2)
    Z = r.uniform(-1, 1, (4, 6))
    Z[r.uniform(size=Z.shape) < 0.5] = 0.0
    x = r.uniform(0, 1, (N, 6))
    out = run("let X = (6, 1) in [0, 1] in\nlet Z = (4, 6) in [-1, 1] in\nZ |*| X", {"Z": Z}, x)
    for n in range(N):
        expected = [sum(Z[i, k] * x[n, k] for k in range(6) if Z[i, k] != 0) for i in range(4)]
        np.testing.assert_allclose(out[n, :, 0], expected)


@pytest.mark.parametrize(
    "expr, factor",
    [("s * X", 0.75), ("X * s", 0.75), ("2.5 * X", 2.5), ("X * 0.5", 0.5), ("3 * X", 3.0), ("-2 * X", -2.0)],
)
def test_scalar_mul(expr, factor):
    x = rng(3).uniform(-1, 1, (N, 8))
    out = run(
        "let X = (4, 2) in [-1, 1] in\nlet s = (1, 1) in [0, 1] in\n" + expr, {"s": np.array([[0.75]])}, x
    )
    for n, xn in enumerate(rows(x, (4, 2))):
        for i in range(4):
            for j in range(2):
                assert out[n, i, j] == pytest.approx(factor * xn[i, j])


def test_scalar_mul_by_a_data_dependent_scalar():
    x = rng(4).uniform(-1, 1, (N, 4))
    out = run("let X = (4, 1) in [-1, 1] in\nX[1:+1] * X", {}, x)
    for n in range(N):
        np.testing.assert_allclose(out[n, :, 0], [x[n, 1] * x[n, i] for i in range(4)])


@pytest.mark.parametrize(
    "expr, fn",
    [
        ("X + P", lambda x, p, c, s: x + p),
        ("X - P", lambda x, p, c, s: x - p),
        ("X <*> P", lambda x, p, c, s: x * p),
        ("X + 1.5", lambda x, p, c, s: x + 1.5),
        ("1 - X", lambda x, p, c, s: 1 - x),
        ("X - s", lambda x, p, c, s: x - s),
        ("s - X", lambda x, p, c, s: s - x),
        ("X + c", lambda x, p, c, s: x + c),  # c is (1, 1, 1): one element of higher rank
        ("c - X", lambda x, p, c, s: c - x),
        ("X[0:+1][0:+1] + X", None),  # a data-dependent one-element operand
    ],
)
def test_elementwise_with_broadcast(expr, fn):
    r = rng(5)
    P = r.uniform(-1, 1, (3, 2))
    weights = {"P": P, "s": np.array([[0.25]]), "c": np.array([[[-0.5]]])}
    x = r.uniform(-1, 1, (N, 6))
    text = (
        "let X = (3, 2) in [-1, 1] in\nlet P = (3, 2) in [-1, 1] in\n"
        "let s = (1, 1) in [0, 1] in\nlet c = (1, 1, 1) in [-1, 0] in\n" + expr
    )
    out = run(text, weights, x)
    assert out.shape == (N, 3, 2)
    for n, xn in enumerate(rows(x, (3, 2))):
        for i in range(3):
            for j in range(2):
                if fn is None:
                    expected = xn[0, 0] + xn[i, j]
                else:
                    expected = fn(xn[i, j], P[i, j], -0.5, 0.25)
                assert out[n, i, j] == pytest.approx(expected)


def test_bias_add_and_sub_2d_and_4d():
    r = rng(6)
    b = r.uniform(-1, 1, 4)
    x = r.uniform(-1, 1, (N, 12))
    out = run("let X = (3, 4) in [-1, 1] in\nlet b = (4) in [-1, 1] in\nX <+> b", {"b": b}, x)
    sub = run("let X = (3, 4) in [-1, 1] in\nlet b = (4) in [-1, 1] in\nX <-> b", {"b": b}, x)
    for n, xn in enumerate(rows(x, (3, 4))):
        for i in range(3):
            for j in range(4):
                assert out[n, i, j] == pytest.approx(xn[i, j] + b[j])
                assert sub[n, i, j] == pytest.approx(xn[i, j] - b[j])
    x4 = r.uniform(-1, 1, (N, 2 * 3 * 4))
    out = run("let X = (1, 2, 3, 4) in [-1, 1] in\nlet b = (4) in [-1, 1] in\nX <+> b", {"b": b}, x4)
    for n, xn in enumerate(rows(x4, (1, 2, 3, 4))):
        for h in range(2):
            for w in range(3):
                for ch in range(4):
                    assert out[n, 0, h, w, ch] == pytest.approx(xn[0, h, w, ch] + b[ch])


def test_transpose():
    x = rng(7).uniform(-1, 1, (N, 6))
    out = run("let X = (3, 2) in [-1, 1] in\nX^T", {}, x)
    assert out.shape == (N, 2, 3)
    for n, xn in enumerate(rows(x, (3, 2))):
        for i in range(3):
            for j in range(2):
                assert out[n, j, i] == xn[i, j]


def test_reshape_identity_order_is_row_major():
    x = rng(8).uniform(-1, 1, (N, 6))
    out = run("let X = (2, 3) in [-1, 1] in\nreshape(X, (3, 2), (1, 2))", {}, x)
    for n, xn in enumerate(rows(x, (2, 3))):
        flat = [xn[i, j] for i in range(2) for j in range(3)]
        assert [out[n, a, b] for a in range(3) for b in range(2)] == flat


def test_reshape_order_2_1_reads_columns_first():
    x = rng(9).uniform(-1, 1, (N, 6))
    out = run("let X = (2, 3) in [-1, 1] in\nreshape(X, (3, 2), (2, 1))", {}, x)
    for n, xn in enumerate(rows(x, (2, 3))):
        # the outermost loop runs over axis 2 (columns), then axis 1
        flat = [xn[i, j] for j in range(3) for i in range(2)]
        assert [out[n, a, b] for a in range(3) for b in range(2)] == flat


def test_reshape_order_3_1_2():
    x = rng(10).uniform(-1, 1, (N, 24))
    out = run("let X = (2, 3, 4) in [-1, 1] in\nreshape(X, (4, 6), (3, 1, 2))", {}, x)
    assert out.shape == (N, 4, 6)
    for n, xn in enumerate(rows(x, (2, 3, 4))):
        flat = [xn[i, j, k] for k in range(4) for i in range(2) for j in range(3)]
        assert [out[n, a, b] for a in range(4) for b in range(6)] == flat


# ---------------------------------------------------------------------------------------------
# Indexing and splicing
# ---------------------------------------------------------------------------------------------

IDX_HEAD = "let X = (4, 1) in [0, 1] in\nlet B = (7, 2, 4) in [-1, 1] in\n"


def test_index_static():
    r = rng(11)
    B = r.uniform(-1, 1, (7, 2, 4))
    x = r.uniform(0, 1, (N, 4))
    out = run(IDX_HEAD + "B[5] * X", {"B": B}, x)
    for n, xn in enumerate(rows(x, (4, 1))):
        np.testing.assert_allclose(out[n], matmul_ref(B[5], xn))


def test_index_by_loop_index():
    r = rng(12)
    B = r.uniform(-1, 1, (7, 2, 4))
    x = r.uniform(0, 1, (N, 4))
    out = run(IDX_HEAD + "$(i = [2:5]) (B[i] * X)", {"B": B}, x)
    for n, xn in enumerate(rows(x, (4, 1))):
        expected = matmul_ref(B[2], xn) + matmul_ref(B[3], xn) + matmul_ref(B[4], xn)
        np.testing.assert_allclose(out[n], expected)


def test_index_dynamic_per_sample_bonsai_like():
    r = rng(13)
    B = r.uniform(-1, 1, (7, 2, 4))
    x = r.uniform(0, 1, (40, 4))
    text = IDX_HEAD + (
        "let k1 = X[0:+1] >= 0.5 ? 1 : 2 in\n"
        "let k2 = X[1:+1] >= 0.5 ? 2 * k1 + 1 : 2 * k1 + 2 in\n"
        "B[0] * X + B[k1] * X + B[k2] * X"
    )
    out = run(text, {"B": B}, x)
    seen = set()
    for n, xn in enumerate(rows(x, (4, 1))):
        k1 = 1 if xn[0, 0] >= 0.5 else 2
        k2 = 2 * k1 + 1 if xn[1, 0] >= 0.5 else 2 * k1 + 2
        seen.add(k2)
        expected = matmul_ref(B[0], xn) + matmul_ref(B[k1], xn) + matmul_ref(B[k2], xn)
        np.testing.assert_allclose(out[n], expected)
    assert seen == {3, 4, 5, 6}  # every leaf is reached by some row


def test_index_data_by_static_index():
    x = rng(14).uniform(0, 1, (N, 12))
    out = run("let X = (3, 4, 1) in [0, 1] in\nX[2]", {}, x)
    for n, xn in enumerate(rows(x, (3, 4, 1))):
        np.testing.assert_array_equal(out[n], xn[2])


def test_splice_static():
    x = rng(15).uniform(0, 1, (N, 20))
    out = run("let X = (4, 5) in [0, 1] in\nX[1:+2][2:+3]", {}, x)
    assert out.shape == (N, 2, 3)
    for n, xn in enumerate(rows(x, (4, 5))):
        for i in range(2):
            for j in range(3):
                assert out[n, i, j] == xn[1 + i, 2 + j]


def test_splice_dynamic_start_per_sample():
    x = rng(16).uniform(0, 1, (30, 20))
    text = "let X = (4, 5) in [0, 1] in\nlet a = X[0:+1][0:+1] >= 0.5 ? 2 : 0 in\nX[a:+2][a + 1:+2]"
    out = run(text, {}, x)
    for n, xn in enumerate(rows(x, (4, 5))):
        a = 2 if xn[0, 0] >= 0.5 else 0
        for i in range(2):
            for j in range(2):
                assert out[n, i, j] == xn[a + i, a + 1 + j]


def test_splice_of_a_parameter_at_a_loop_index():
    r = rng(17)
    P = r.uniform(-1, 1, (5, 1))
    x = r.uniform(0, 1, (N, 2))
    out = run(
        "let X = (2, 1) in [0, 1] in\nlet P = (5, 1) in [-1, 1] in\n$(i = [0:4]) (P[i:+2] <*> X)", {"P": P}, x
    )
    for n in range(N):
        for r_ in range(2):
            expected = sum(P[i + r_, 0] * x[n, r_] for i in range(4))
            assert out[n, r_, 0] == pytest.approx(expected)


# ---------------------------------------------------------------------------------------------
# Convolution and pooling
# ---------------------------------------------------------------------------------------------


def conv_ref(x, f, strides, pads, dils, groups):
    """Naive NHWC grouped convolution; filter [G, HF, WF, CIN/G, COUT] as in SeeDot: group g has
    its own COUT filters, reads in-channels g*CIN/G .. (g+1)*CIN/G - 1 and writes out-channels
    g*COUT .. (g+1)*COUT - 1, so the output has G*COUT channels."""
    bn, h, w, c = x.shape
    g, hf, wf, cin_g, cout = f.shape
    (sh, sw), (pt, pb, pl, pr), (dh, dw) = strides, pads, dils
    ho = (h + pt + pb - dh * (hf - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (wf - 1) - 1) // sw + 1
    out = np.zeros((bn, ho, wo, groups * cout))
    for b in range(bn):
        for oy in range(ho):
            for ox in range(wo):
                for o in range(groups * cout):
                    gi, oc = divmod(o, cout)
                    acc = 0.0
                    for ky in range(hf):
                        for kx in range(wf):
                            iy = oy * sh - pt + ky * dh
                            ix = ox * sw - pl + kx * dw
                            if not (0 <= iy < h and 0 <= ix < w):
                                continue
                            for ci in range(cin_g):
                                acc += x[b, iy, ix, gi * cin_g + ci] * f[gi, ky, kx, ci, oc]
                    out[b, oy, ox, o] = acc
    return out


CONV_CASES = [
    # x shape, f shape, strides, pads, dilations, groups
    ((1, 5, 5, 2), (1, 3, 3, 2, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((1, 7, 6, 2), (1, 3, 3, 2, 2), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    ((1, 6, 5, 1), (1, 3, 2, 1, 2), (2, 1), (1, 0, 2, 1), (1, 1), 1),
    ((1, 7, 7, 2), (1, 3, 3, 2, 2), (1, 1), (1, 1, 1, 1), (2, 2), 1),
    ((1, 5, 5, 4), (2, 3, 3, 2, 4), (1, 1), (1, 1, 1, 1), (1, 1), 2),
    ((2, 6, 6, 4), (2, 3, 3, 2, 6), (2, 2), (1, 0, 1, 0), (2, 1), 2),
]


@pytest.mark.parametrize("xs, fs, strides, pads, dils, groups", CONV_CASES)
def test_conv2d_against_naive_loops(xs, fs, strides, pads, dils, groups):
    r = rng(18)
    f = r.uniform(-1, 1, fs)
    x = r.uniform(-1, 1, (3, math.prod(xs)))
    text = (
        f"let X = ({', '.join(map(str, xs))}) in [-1, 1] in\n"
        f"let F = ({', '.join(map(str, fs))}) in [-1, 1] in\n"
        f"conv2d(X, F, {{s {strides[0]} {strides[1]}}}, {{p {' '.join(map(str, pads))}}}, "
        f"{{d {dils[0]} {dils[1]}}}, {{g {groups}}})"
    )
    out = run(text, {"F": f}, x)
    for n, xn in enumerate(rows(x, xs)):
        expected = conv_ref(xn, f, strides, pads, dils, groups)
        assert out[n].shape == expected.shape
        np.testing.assert_allclose(out[n], expected, atol=1e-12)


def test_grouped_conv_ignores_other_groups_channels():
    # with groups 2 of 2 filters each, out-channels 0, 1 (group 0) must not depend on
    # in-channels 2, 3 (group 1's), and out-channels 2, 3 must

    r = rng(19)
    f = r.uniform(-1, 1, (2, 1, 1, 2, 2))
    text = (
        "let X = (1, 2, 2, 4) in [-1, 1] in\nlet F = (2, 1, 1, 2, 2) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 1}, {p 0 0 0 0}, {d 1 1}, {g 2})"
    )
    x = r.uniform(-1, 1, (1, 16))
    x2 = x.reshape(1, 2, 2, 4).copy()
    x2[..., 2:] += 1.0
    a, b = run(text, {"F": f}, x), run(text, {"F": f}, x2.reshape(1, 16))
    assert a.shape[-1] == 4
    np.testing.assert_array_equal(a[..., :2], b[..., :2])
    assert not np.allclose(a[..., 2:], b[..., 2:])


def maxpool_ref(x, kernel, pads, strides):
    bn, h, w, c = x.shape
    (kh, kw), (pt, pb, pl, pr), (sh, sw) = kernel, pads, strides
    ho = (h + pt + pb - kh) // sh + 1
    wo = (w + pl + pr - kw) // sw + 1
    out = np.zeros((bn, ho, wo, c))
    for b in range(bn):
        for oy in range(ho):
            for ox in range(wo):
                for ch in range(c):
                    best = None
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = oy * sh - pt + ky, ox * sw - pl + kx
                            if 0 <= iy < h and 0 <= ix < w:  # padding never wins
                                v = x[b, iy, ix, ch]
                                best = v if best is None else max(best, v)
                    out[b, oy, ox, ch] = best
    return out


@pytest.mark.parametrize(
    "xs, kernel, pads, strides",
    [
        ((1, 4, 4, 2), (2, 2), (0, 0, 0, 0), (2, 2)),
        ((1, 5, 5, 2), (3, 3), (1, 1, 1, 1), (2, 2)),
        ((1, 5, 4, 1), (2, 3), (1, 0, 0, 2), (1, 2)),
    ],
)
def test_maxpool_with_padding(xs, kernel, pads, strides):
    # all-negative data: a zero padding would win, the true maxpool ignores it
    x = rng(20).uniform(-2, -0.1, (N, math.prod(xs)))
    text = (
        f"let X = ({', '.join(map(str, xs))}) in [-2, 0] in\n"
        f"maxpool(X, {{k {kernel[0]} {kernel[1]}}}, {{p {' '.join(map(str, pads))}}}, "
        f"{{s {strides[0]} {strides[1]}}})"
    )
    out = run(text, {}, x)
    for n, xn in enumerate(rows(x, xs)):
        np.testing.assert_array_equal(out[n], maxpool_ref(xn, kernel, pads, strides))
    assert np.all(out < 0)


# ---------------------------------------------------------------------------------------------
# Functions and classes
# ---------------------------------------------------------------------------------------------

UNARY = {
    "relu": lambda v: v if v > 0 else 0.0,
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "exp": math.exp,
    "tanh": math.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
}


@pytest.mark.parametrize("fn", sorted(UNARY))
def test_unary_functions(fn):
    x = rng(21).uniform(-9, 9, (N, 8))
    x[0, :3] = [0.0, 6.0, -6.0]
    out = run(f"let X = (8, 1) in [-9, 9] in\n{fn}(X)", {}, x)
    for n in range(N):
        for i in range(8):
            assert out[n, i, 0] == pytest.approx(UNARY[fn](x[n, i]), rel=1e-12, abs=1e-15)


def test_negation():
    x = rng(22).uniform(-1, 1, (N, 3))
    out = run("let X = (3, 1) in [-1, 1] in\n-X", {}, x)
    for n in range(N):
        assert list(out[n, :, 0]) == [-v for v in x[n]]


def test_argmax_first_on_ties():
    x = np.array(
        [
            [0.1, 0.9, 0.3, 0.9],  # tie between 1 and 3 -> 1
            [0.5, 0.5, 0.5, 0.5],  # all equal -> 0
            [0.0, 0.0, 0.2, 0.2],  # -> 2
            [0.7, 0.1, 0.2, 0.3],  # -> 0
            [-1.0, -2.0, -0.5, -0.5],  # -> 2
        ]
    )
    out = run("let X = (2, 2) in [-2, 1] in\nargmax(X)", {}, x)
    assert out.dtype.kind == "i"
    assert list(out) == [1, 0, 2, 0, 2]
    # independent first-max scan
    for n in range(x.shape[0]):
        best = 0
        for i in range(4):
            if x[n, i] > x[n, best]:
                best = i
        assert out[n] == best


def test_sgn():
    x = np.array([[0.5], [-0.5], [0.0], [1e-9], [-1e-9]])
    out = run("let X = (1, 1) in [-1, 1] in\nsgn(X)", {}, x)
    assert out.dtype.kind == "i"
    assert list(out) == [1, 0, 0, 1, 0]


def test_integer_arithmetic_selects_slices():
    r = rng(23)
    B = r.uniform(-1, 1, (6, 3, 1))
    x = r.uniform(0, 1, (N, 3))
    text = (
        "let X = (3, 1) in [0, 1] in\nlet B = (6, 3, 1) in [-1, 1] in\n"
        "let k = 2 * 3 - 4 in\n"  # 2
        "let j = -k + 7 in\n"  # 5
        "B[k + 1] + B[j] - B[k * k - 3] + X"  # B[3] + B[5] - B[1] + X
    )
    out = run(text, {"B": B}, x)
    for n in range(N):
        np.testing.assert_allclose(out[n, :, 0], B[3, :, 0] + B[5, :, 0] - B[1, :, 0] + x[n])


def test_integer_program_output():
    x = np.zeros((3, 1))
    out = run("let X = (1, 1) in [0, 1] in\nlet k = 4 in\n2 * k - 11", {}, x)
    assert out.dtype.kind == "i" and list(out) == [-3, -3, -3]


def test_cond_on_tensors_and_integers():
    r = rng(24)
    W = r.uniform(-1, 1, (2, 3))
    x = r.uniform(-1, 1, (40, 3))
    t_text = (
        "let X = (3, 1) in [-1, 1] in\nlet W = (2, 3) in [-1, 1] in\n"
        "X[2:+1] >= -0.25 ? W * X : -(W * X) + 1.0"
    )
    out = run(t_text, {"W": W}, x)
    i_text = "let X = (3, 1) in [-1, 1] in\nX[2:+1] >= -0.25 ? 7 : 3"
    out_i = run(i_text, {}, x)
    for n, xn in enumerate(rows(x, (3, 1))):
        y = matmul_ref(W, xn)
        taken = xn[2, 0] >= -0.25
        np.testing.assert_allclose(out[n], y if taken else 1.0 - y)
        assert out_i[n] == (7 if taken else 3)
    assert 0 < np.count_nonzero(x[:, 2] >= -0.25) < 40


def test_cond_threshold_is_inclusive():
    x = np.array([[0.5], [0.4999], [0.5001]])
    out = run("let X = (1, 1) in [0, 1] in\nX >= 0.5 ? 1 : 0", {}, x)
    assert list(out) == [1, 0, 1]


# ---------------------------------------------------------------------------------------------
# Sum, loop, init
# ---------------------------------------------------------------------------------------------


def test_sum_protonn_like():
    r = rng(25)
    B = r.uniform(-1, 1, (5, 3, 1))
    Z = r.uniform(-1, 1, (5, 2, 1))
    x = r.uniform(-1, 1, (N, 3))
    text = (
        "let X = (3, 1) in [-1, 1] in\nlet B = (5, 3, 1) in [-1, 1] in\nlet Z = (5, 2, 1) in [-1, 1] in\n"
        "$(j = [0:5]) (\n  let D = X - B[j] in\n  Z[j] * exp(-0.5 * (D^T * D))\n)"
    )
    out = run(text, {"B": B, "Z": Z}, x)
    assert out.shape == (N, 2, 1)
    for n in range(N):
        acc = [0.0, 0.0]
        for j in range(5):
            d2 = sum((x[n, i] - B[j, i, 0]) ** 2 for i in range(3))
            for c in range(2):
                acc[c] += Z[j, c, 0] * math.exp(-0.5 * d2)
        np.testing.assert_allclose(out[n, :, 0], acc)


def test_loop_recurrence():
    # H_{t+1} = 0.5 * H_t + X[t] (+ t as a real through a loop-indexed parameter)
    r = rng(26)
    x = r.uniform(-1, 1, (N, 10))
    T = np.arange(5, dtype=float).reshape(5, 1, 1) / 10
    text = (
        "let X = (5, 2, 1) in [-1, 1] in\nlet T = (5, 1, 1) in [0, 1] in\n"
        "let H = init([2, 1], 1.0) in\n"
        "loop(t = [0:5], H) (0.5 * H + X[t] + T[t])"
    )
    out = run(text, {"T": T}, x)
    for n, xn in enumerate(rows(x, (5, 2, 1))):
        h = [1.0, 1.0]
        for t in range(5):
            h = [0.5 * h[i] + xn[t, i, 0] + t / 10 for i in range(2)]
        np.testing.assert_allclose(out[n, :, 0], h)


def test_loop_with_offset_range_runs_stop_minus_start_times():
    x = np.zeros((2, 1))
    out = run(
        "let X = (1, 1) in [0, 1] in\nlet H = init([1, 1], 1.0) in\nloop(i = [3:7], H) (2.0 * H + X)", {}, x
    )
    np.testing.assert_array_equal(out[:, 0, 0], [16.0, 16.0])  # 1 doubled 4 times


def test_fastgrnn_like_loop():
    r = rng(27)
    W = r.uniform(-1, 1, (3, 2))
    U = r.uniform(-1, 1, (3, 3))
    x = r.uniform(0, 1, (N, 8))
    text = (
        "let X = (4, 2, 1) in [0, 1] in\nlet W = (3, 2) in [-1, 1] in\nlet U = (3, 3) in [-1, 1] in\n"
        "let H0 = init([3, 1], 0.0) in\n"
        "loop(t = [0:4], H0) (\n  let z = sigmoid(W * X[t] + U * H0) in\n"
        "  ((1.0 - z) <*> tanh(W * X[t])) + (z <*> H0)\n)"
    )
    out = run(text, {"W": W, "U": U}, x)
    for n, xn in enumerate(rows(x, (4, 2, 1))):
        h = np.zeros((3, 1))
        for t in range(4):
            pre = matmul_ref(W, xn[t]) + matmul_ref(U, h)
            z = np.array([[1 / (1 + math.exp(-v))] for v in pre[:, 0]])
            c = np.array([[math.tanh(v)] for v in matmul_ref(W, xn[t])[:, 0]])
            h = (1 - z) * c + z * h
        np.testing.assert_allclose(out[n], h)


def test_init():
    x = rng(28).uniform(0, 1, (N, 6))
    out = run("let X = (2, 3) in [0, 1] in\ninit([2, 3], -1.5) + X", {}, x)
    for n, xn in enumerate(rows(x, (2, 3))):
        for i in range(2):
            for j in range(3):
                assert out[n, i, j] == pytest.approx(xn[i, j] - 1.5)
    const = run("let X = (2, 3) in [0, 1] in\ninit([2, 2], 0.25)", {}, x)
    assert const.shape == (N, 2, 2) and np.all(const == 0.25)


# ---------------------------------------------------------------------------------------------
# Batching and input validation
# ---------------------------------------------------------------------------------------------

MLP = (
    "let X = (6, 1) in [0, 1] in\nlet W1 = (5, 6) in [-1, 1] in\nlet b1 = (5, 1) in [-1, 1] in\n"
    "let W2 = (3, 5) in [-1, 1] in\nlet Z = (4, 1, 5) in [-1, 1] in\n"
    "let h = relu(W1 * X + b1) in\nlet k = (Z[0] * h) >= 0 ? 1 : 2 in\nargmax(W2 * h + (Z[k] * h))"
)


def mlp_weights():
    r = rng(29)
    return {
        "W1": r.uniform(-1, 1, (5, 6)),
        "b1": r.uniform(-1, 1, (5, 1)),
        "W2": r.uniform(-1, 1, (3, 5)),
        "Z": r.uniform(-1, 1, (4, 1, 5)),
    }


def test_batched_equals_single_rows():
    graph = parse_program(MLP, mlp_weights())
    x = rng(30).uniform(0, 1, (25, 6))
    batched = run_float(graph, x)
    single = np.array([run_float(graph, x[n : n + 1])[0] for n in range(25)])
    np.testing.assert_array_equal(batched, single)
    assert len(set(batched.tolist())) > 1  # the rows do not all give one class
    # and the same for a real-valued output with a per-row index and a loop
    text = IDX_HEAD + (
        "let k = X[0:+1] >= 0.5 ? 1 : 4 in\nlet H = init([2, 1], 0.0) in\n"
        "loop(t = [0:3], H) (H + B[k + t] * X)"
    )
    g2 = parse_program(text, {"B": rng(31).uniform(-1, 1, (7, 2, 4))})
    x2 = rng(32).uniform(0, 1, (12, 4))
    batched = run_float(g2, x2)
    for n in range(12):
        np.testing.assert_array_equal(batched[n], run_float(g2, x2[n : n + 1])[0])


def test_input_of_declared_shape_is_accepted():
    graph = parse_program("let X = (2, 3) in [0, 1] in\nX^T", {})
    x = rng(33).uniform(0, 1, (4, 2, 3))
    np.testing.assert_array_equal(run_float(graph, x), run_float(graph, x.reshape(4, 6)))
    assert run_float(graph, x).shape == (4, 3, 2)


@pytest.mark.parametrize(
    "x, fragment",
    [
        (np.zeros((3, 5)), "input rows must have 6 values"),
        (np.zeros((3, 7)), "input rows must have 6 values"),
        (np.zeros((0, 6)), "at least one row"),
        (np.zeros(()), "at least one row"),
        (np.array([[0.0] * 5 + [np.nan]] * 2), "must be finite, not hold 2 NaN/Inf"),
        (np.array([[np.inf] + [0.0] * 5]), "must be finite, not hold 1 NaN/Inf"),
        (np.array([["a"] * 6]), "must be numeric"),
    ],
)
def test_input_validation(x, fragment):
    graph = parse_program(MLP, mlp_weights())
    with pytest.raises(DataError) as info:
        run_float(graph, x)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_recorder_sees_every_loop_iteration():
    seen: list[str] = []
    text = "let X = (1, 1) in [0, 1] in\nlet H = init([1, 1], 0.0) in\nloop(t = [0:3], H) (H + X)"
    graph = parse_program(text, {})
    run_float(graph, np.ones((2, 1)), recorder=lambda name, value: seen.append(name))
    loop = [n for n in graph.walk() if type(n.op).__name__ == "Loop"][0]
    assert seen.count(loop.op.carried) == 3
    assert seen.count(loop.op.body.result) == 3
