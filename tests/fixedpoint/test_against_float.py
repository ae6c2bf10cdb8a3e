"""Each kernel family through the real compiler path (parse → profile → formats → lower → golden)
against the float reference, within an error bound derived from the chosen formats.

Notation for the bounds (all in real units): for a value with ``frac`` f, one step is 2^-f.
Rounding a real to it (inputs, weights) errs by at most half a step, e(f) = 2^-(f+1); a floor
(every right shift) by less than one step. A product a·b with errors ea, eb errs by
|a|·eb + |b|·ea + ea·eb.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.seedot import parse_program
from hlsfix.ir.interp import run_float

N = 300
BITS = [8, 16, 32]


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def step(f: int) -> float:
    return 2.0**-f


def half(f: int) -> float:
    return 2.0 ** -(f + 1)


class Compiled:
    def __init__(self, text: str, weights: dict, x: np.ndarray, bits: int, activation: str = "table"):
        self.graph = parse_program(text, weights)
        self.prof = profile(self.graph, x)
        self.fmts = assign_formats(self.graph, self.prof, FormatPolicy(bits=bits))
        self.prog: KernelProgram = lower(
            self.graph, self.fmts, self.prof, LowerOptions(activation), str(bits)
        )  # type: ignore[arg-type]
        self.x = x
        self.result = run_golden(self.prog, quantize_input(self.prog, x), keep_buffers=True)
        out = self.prog.buffer(self.prog.output)
        self.out_frac = out.fmt.frac
        self.fixed = self.result.output * 2.0**-out.fmt.frac
        self.float = run_float(self.graph, x).reshape(len(x), -1)

    def kernels(self, cls: type) -> list:
        return [k for k in self.prog.walk() if isinstance(k, cls)]

    def frac(self, buffer: str) -> int:
        return self.prog.buffer(buffer).fmt.frac

    @property
    def fx(self) -> int:
        return self.prog.input_buffer.fmt.frac

    def err(self) -> np.ndarray:
        return np.abs(self.fixed - self.float)


def matmul_rounding(c: Compiled, k, a_real: np.ndarray, b_real: np.ndarray) -> float:
    """Errors a MatMul/SparseMatVec adds by itself (operands quantised exactly as lowered):
    rounding of constant operands, the floor of each product, the final floor."""
    fa = c.frac(k.a.buffer) if isinstance(k, kp.MatMul) else c.frac(k.values)
    fb = c.frac(k.b.buffer) if isinstance(k, kp.MatMul) else c.frac(k.x.buffer)
    terms = k.k if isinstance(k, kp.MatMul) else k.nnz
    out = c.frac(k.out)
    # a is the constant (weights): its rounding times Σ|b|
    const_err = float(np.abs(b_real).sum(axis=-2).max()) * half(fa)
    return const_err + terms * 2.0 ** (k.prod_shift - fa - fb) + step(out)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", BITS)
def test_matmul(bits):
    r = rng(1)
    W = r.uniform(-1, 1, (4, 8))
    x = r.uniform(-1, 1, (N, 8))
    c = Compiled("let X = (8, 1) in [-1, 1] in let W = (4, 8) in [-1, 1] in W * X", {"W": W}, x, bits)
    (k,) = c.kernels(kp.MatMul)
    # |err| ≤ ‖W‖∞·e(fx) + Σ|x|·e(fw) + k·2^(ps−fw−fx) + 2^−fo  (+ the e·e term, below e(fx))
    bound = np.abs(W).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, k, W, x[:, :, None]) + half(c.fx)
    assert c.err().max() <= bound
    assert c.err().max() > 0  # the check is not vacuous: fixed point does differ
    assert bound < 2 ** -(bits - 5) * 8  # and the bound is tight: a few steps of an 8..32-bit value


@pytest.mark.parametrize("bits", BITS)
def test_sparse_matmul(bits):
    r = rng(2)
    W = r.uniform(-1, 1, (6, 10)) * (r.uniform(size=(6, 10)) < 0.4)
    x = r.uniform(0, 1, (N, 10))
    c = Compiled("let X = (10, 1) in [0, 1] in let W = (6, 10) in [-1, 1] in W |*| X", {"W": W}, x, bits)
    (k,) = c.kernels(kp.SparseMatVec)
    # the layout keeps the non-zeros only (at 8 bits a tiny weight may round to zero)
    assert k.nnz <= np.count_nonzero(W) and (bits == 8 or k.nnz == np.count_nonzero(W))
    bound = np.abs(W).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, k, W, x[:, :, None]) + half(c.fx)
    assert c.err().max() <= bound
    assert c.err().max() > 0


@pytest.mark.parametrize("bits", BITS)
def test_conv2d_bias_relu_maxpool(bits):
    r = rng(3)
    F = r.uniform(-1, 1, (1, 3, 3, 2, 3))
    cb = r.uniform(-0.5, 0.5, (3,))
    x = r.uniform(0, 1, (N, 50))
    text = (
        "let X = (1, 5, 5, 2) in [0, 1] in let F = (1, 3, 3, 2, 3) in [-1, 1] in "
        "let cb = (3) in [-0.5, 0.5] in "
        "maxpool(relu(conv2d(X, F, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1}) <+> cb), "
        "{k 2 2}, {p 0 1 0 1}, {s 2 2})"
    )
    c = Compiled(text, {"F": F, "cb": cb}, x, bits)
    (conv,) = c.kernels(kp.Conv2d)
    (add,) = c.kernels(kp.AddSub)
    assert add.b_mode == "lastdim"
    ff, fc, fo = c.frac(conv.filters.buffer), c.frac(conv.out), c.frac(add.out)
    terms = 3 * 3 * 2
    # conv: Σ|F|·e(fx) + Σ|x|·e(ff) + terms·2^(ps−fx−ff) + 2^−fc; bias: e(fcb); add's floor: 2^−fo;
    # relu and maxpool are 1-Lipschitz and exact on integers
    conv_err = (
        np.abs(F).sum(axis=(0, 1, 2, 3)).max() * half(c.fx)
        + terms * 1.0 * half(ff)
        + terms * 2.0 ** (conv.prod_shift - c.fx - ff)
        + step(fc)
        + half(c.fx)
    )
    bound = conv_err + half(c.frac(add.b.buffer)) + step(fo)
    assert c.err().max() <= bound
    assert c.err().max() > 0
    assert c.float.shape == (N, 3 * 3 * 3)


@pytest.mark.parametrize("bits", BITS)
def test_maxpool_and_relu_are_exact_on_the_quantised_input(bits):
    x = rng(4).uniform(-2, 2, (N, 32))
    text = "let X = (1, 4, 4, 2) in [-2, 2] in relu(maxpool(X, {k 2 2}, {p 1 1 1 1}, {s 2 2}))"
    c = Compiled(text, {}, x, bits)
    # only the input rounding remains: e(fx)
    assert c.err().max() <= half(c.fx)
    assert c.out_frac == c.fx  # views keep their operand's format: no rescale anywhere
    assert c.float.min() == 0.0


@pytest.mark.parametrize("bits", BITS)
def test_dense_bias_and_sub(bits):
    r = rng(5)
    W = r.uniform(-1, 1, (5, 6))
    b = r.uniform(-1, 1, (5, 1))
    x = r.uniform(-1, 1, (N, 6))
    text = (
        "let X = (6, 1) in [-1, 1] in let W = (5, 6) in [-1, 1] in let b = (5, 1) in [-1, 1] in "
        "relu(W * X + b) - 0.75"
    )
    c = Compiled(text, {"W": W, "b": b}, x, bits)
    (mm,) = c.kernels(kp.MatMul)
    add, sub = c.kernels(kp.AddSub)
    assert sub.subtract and sub.b_mode == "scalar"
    mm_err = np.abs(W).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, mm, W, x[:, :, None]) + half(c.fx)
    # + e(fb) + floor of the add; then the constant 0.75 (rounded: e) and the floor of the sub
    bound = (
        mm_err
        + half(c.frac(add.b.buffer))
        + step(c.frac(add.out))
        + half(c.frac(sub.b.buffer))
        + step(c.frac(sub.out))
    )
    assert c.err().max() <= bound
    assert c.err().max() > 0


@pytest.mark.parametrize("bits", BITS)
def test_scalar_first_subtraction_and_hadamard(bits):
    r = rng(6)
    x = r.uniform(-1, 1, (N, 4))
    text = "let X = (4, 1) in [-1, 1] in let s = (1, 1) in [0.3, 0.4] in (1.5 - X) <*> (s * X)"
    c = Compiled(text, {"s": np.array([[0.35]])}, x, bits)
    sub = c.kernels(kp.AddSub)[0]
    assert sub.b_first and sub.subtract
    # u = 1.5 − x: |err| ≤ e(fx) + e(f1.5) + 2^−fu ; v = s·x: ≤ |x|·e(fs) + |s|·e(fx) + 2^−fv;
    # u∘v: ≤ |u|·ev + |v|·eu + eu·ev + 2^−fo, |u| ≤ 2.5, |v| ≤ 0.4
    muls = c.kernels(kp.Mul)
    eu = half(c.fx) + half(c.frac(sub.b.buffer)) + step(c.frac(sub.out))
    ev = 1.0 * half(c.frac(muls[0].b.buffer)) + 0.35 * half(c.fx) + step(c.frac(muls[0].out))
    bound = 2.5 * ev + 0.4 * eu + eu * ev + step(c.out_frac)
    assert c.err().max() <= bound
    assert c.err().max() > 0


# ---------------------------------------------------------------------------------------------
# exp, sigmoid, tanh


def exp_bound(c: Compiled, k: kp.Exp, x_real: np.ndarray) -> np.ndarray:
    """Per-element bound of e^x by the two tables: the argument is off by the input's rounding
    e(fx) plus at most half the 2^k-step bucket (entries sit at the bucket's centre), so e^x is
    off by a factor e^±d; each table entry by half a step; then the output floor."""
    hf, lf = c.frac(k.hi), c.frac(k.lo)
    d = (2.0 ** (k.k - 1) + 0.5) * step(c.fx)
    peak = math.exp(k.x_top * step(c.fx))
    table = half(hf) * 1.0 + half(lf) * peak + half(hf) * half(lf)
    # beyond the table's span (argument clamped), e^x is below the output's resolution
    return np.exp(x_real) * (math.exp(d) - 1) + table + 2 * step(c.frac(k.out))


@pytest.mark.parametrize("bits", BITS)
def test_exp(bits):
    x = rng(7).uniform(-6, 1.5, (N, 5))
    c = Compiled("let X = (5, 1) in [-6, 1.5] in exp(X)", {}, x, bits)
    (k,) = c.kernels(kp.Exp)
    bound = exp_bound(c, k, x)
    assert (c.err() <= bound).all(), (c.err() - bound).max()
    assert c.err().max() > 0


def test_exp_of_computed_value_with_large_negative_range():
    # protonn's pattern: exp(−γ²·d²), arguments far below the output's resolution included
    r = rng(8)
    x = r.uniform(-3, 3, (N, 4))
    text = "let X = (4, 1) in [-3, 3] in let g = (1, 1) in [-0.8, -0.7] in exp(g * (X^T * X))"
    c = Compiled(text, {"g": np.array([[-0.75]])}, x, 16)
    (k,) = c.kernels(kp.Exp)
    arg = c.result.buffers[k.x.buffer] * step(c.frac(k.x.buffer))  # the fixed argument, exactly
    want = np.exp(arg)
    got = c.fixed
    assert (np.abs(got - want) <= exp_bound(c, k, arg) - 0 * want).all()
    # and against float: the argument's own error (≤ 2^−5 here, a generous bound for a·d² at 16 bits)
    # moves e^x by at most e^x·(e^0.03 − 1)
    assert (c.err() <= exp_bound(c, k, c.float) + c.float * (math.exp(0.03) - 1)).all()


def squash_bound(c: Compiled, k: kp.SigmoidTanh) -> float:
    """σ = 1/(1+e) or e/(1+e) and tanh = (1−e)/(1+e) with e = e^−u: |dσ/de| ≤ 1, |dtanh/de| ≤ 2,
    |de/du| ≤ 1. u = |x| (sigmoid) or 2|x| (tanh) errs by m·e(fx) plus half a 2^k bucket; e by
    that plus the tables' rounding (half a step each) and its own floor; then the output's floor."""
    m = 2.0 if k.fn == "tanh" else 1.0
    du = m * half(c.fx) + 2.0 ** (k.k - 1) * step(c.fx)
    de = du + half(c.frac(k.hi)) + half(c.frac(k.lo)) + step(k.e_frac)
    return (2.0 if k.fn == "tanh" else 1.0) * de + step(k.out_frac)


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_sigmoid_tanh_by_table(bits, fn):
    x = rng(9).uniform(-5, 5, (N, 6))
    c = Compiled(f"let X = (6, 1) in [-5, 5] in {fn}(X)", {}, x, bits, "table")
    (k,) = c.kernels(kp.SigmoidTanh)
    assert c.err().max() <= squash_bound(c, k)
    assert c.err().max() > 0


def clipped(fn: str, x: np.ndarray) -> np.ndarray:
    return np.clip(x, -1, 1) if fn == "tanh" else np.clip(x / 4 + 0.5, 0, 1)


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_sigmoid_tanh_linear_match_the_clipped_forms(bits, fn):
    x = rng(10).uniform(-3, 3, (N, 6))
    c = Compiled(f"let X = (6, 1) in [-3, 3] in {fn}(X)", {}, x, bits, "linear")
    (k,) = c.kernels(kp.HardSigmoidTanh)
    fo = c.out_frac
    # input rounding e(fx) (÷4 for sigmoid), the floor of the rescale, and 1.0 itself may
    # saturate to 1 − 2^−fo when the output has bits−1 fractional bits
    bound = half(c.fx) + step(fo) + step(fo)
    assert np.abs(c.fixed - clipped(fn, x)).max() <= bound
    assert k.fn == fn
    # the clipped form is far from the true function: the test would notice the wrong reference
    assert np.abs(c.fixed - c.float).max() > 0.05


# ---------------------------------------------------------------------------------------------
# sums, loops, dynamic indexing


@pytest.mark.parametrize("bits", BITS)
def test_sum_of_indexed_matmuls(bits):
    r = rng(11)
    W = r.uniform(0, 1, (4, 3, 8))  # non-negative terms: partial sums stay inside the final range
    x = r.uniform(0, 1, (N, 8))
    text = "let X = (8, 1) in [0, 1] in let W = (4, 3, 8) in [0, 1] in $(j = [0:4]) (W[j] * X)"
    c = Compiled(text, {"W": W}, x, bits)
    (mm,) = c.kernels(kp.MatMul)
    (acc,) = c.kernels(kp.AddSub)
    assert mm.a.index is not None and mm.a.stride == 24  # W[j] is a strided view, not a copy
    per_term = max(
        np.abs(W[j]).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, mm, W[j], x[:, :, None])
        for j in range(4)
    )
    bound = 4 * (per_term + half(c.fx) + step(c.frac(acc.out)))
    assert c.err().max() <= bound
    assert c.err().max() > 0


def test_sum_with_partial_sums_beyond_the_final_range():
    r = rng(12)
    W0 = r.uniform(0.5, 1, (3, 8))
    W = np.stack([W0, -W0 + r.uniform(-0.01, 0.01, (3, 8))])  # term 1 ≈ −term 0: the total is small
    x = r.uniform(0, 1, (N, 8))
    text = "let X = (8, 1) in [0, 1] in let W = (2, 3, 8) in [-1, 1] in $(j = [0:2]) (W[j] * X)"
    c = Compiled(text, {"W": W}, x, 16)
    (mm,) = c.kernels(kp.MatMul)
    (acc,) = c.kernels(kp.AddSub)
    per_term = max(
        np.abs(W[j]).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, mm, W[j], x[:, :, None])
        for j in range(2)
    )
    bound = 2 * (per_term + half(c.fx) + step(c.frac(acc.out)))
    assert c.err().max() <= bound


@pytest.mark.parametrize("bits", BITS)
def test_loop_recurrence(bits):
    r = rng(13)
    A = r.uniform(-1, 1, (3, 3))
    A *= 0.5 / np.abs(A).sum(axis=1).max()  # ‖A‖∞ = 0.5: errors shrink by half each step
    W = r.uniform(-1, 1, (4, 3, 5))
    x = r.uniform(-1, 1, (N, 4, 5, 1))
    text = (
        "let X = (4, 5, 1) in [-1, 1] in let A = (3, 3) in [-1, 1] in let W = (4, 3, 5) in [-1, 1] in "
        "let H0 = init([3, 1], 0.0) in "
        "loop(t = [0:4], H0) (tanh(A * H0 + W[t] * X[t]))"
    )
    c = Compiled(text, {"A": A, "W": W}, x.reshape(N, -1), bits)
    mm_a, mm_w = c.kernels(kp.MatMul)
    (add,) = c.kernels(kp.AddSub)
    (sq,) = [k for k in c.prog.walk() if isinstance(k, kp.SigmoidTanh)]
    store = c.kernels(kp.Rescale)[-1]  # the next value into the carried buffer
    assert store.out == c.prog.output
    # One step adds at most: A·H's own rounding (|H| ≤ 1), W[t]·X[t]'s (with X's rounding),
    # the add's floor, tanh's table error (its input error passes through with slope ≤ 1), and the
    # store into the carried value; the carried error is multiplied by ‖A‖∞ = 0.5 each step, so the
    # total stays below twice the local error.
    ones = np.ones((1, 3, 1))
    local = (
        matmul_rounding(c, mm_a, A, ones)
        + max(
            np.abs(W[t]).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, mm_w, W[t], x[:, t])
            for t in range(4)
        )
        + step(c.frac(add.out))
        + squash_bound(c, sq)
        + step(c.frac(store.out))
    )
    bound = 2 * local
    assert c.err().max() <= bound
    assert c.err().max() > 0


@pytest.mark.parametrize("bits", BITS)
def test_bonsai_like_dynamic_index(bits):
    r = rng(14)
    Z = r.uniform(-1, 1, (4, 6)) * (r.uniform(size=(4, 6)) < 0.5)
    T = r.uniform(-1, 1, (1, 4))
    W = r.uniform(-1, 1, (3, 2, 4))
    x = r.uniform(-1, 1, (N, 6))
    text = (
        "let X = (6, 1) in [-1, 1] in let Z = (4, 6) in [-1, 1] in let T = (1, 4) in [-1, 1] in "
        "let W = (3, 2, 4) in [-1, 1] in "
        "let ZX = Z |*| X in let k = (T * ZX) >= 0 ? 1 : 2 in W[k] * ZX"
    )
    c = Compiled(text, {"Z": Z, "T": T, "W": W}, x, bits)
    (sel,) = c.kernels(kp.Select)
    assert sel.is_int
    mm_w = [k for k in c.kernels(kp.MatMul) if k.a.index is not None]
    assert len(mm_w) == 1 and mm_w[0].a.stride == 8  # W[k]: a per-row index into the constant
    (sp,) = c.kernels(kp.SparseMatVec)
    zx = x @ Z.T
    e_zx = np.abs(Z).sum(axis=1).max() * half(c.fx) + matmul_rounding(c, sp, Z, x[:, :, None]) + half(c.fx)
    # rows whose branch score is within the fixed-point error of 0 may take the other branch:
    # score = T·ZX errs by ≤ ‖T‖₁·e_zx + T·ZX's own rounding
    (mm_t,) = [k for k in c.kernels(kp.MatMul) if k.a.index is None]
    score = zx @ T[0]
    e_score = np.abs(T).sum() * e_zx + matmul_rounding(c, mm_t, T, zx[:, :, None])
    clear = np.abs(score) > 1.5 * e_score
    assert clear.sum() > N // 4
    bound = (
        max(np.abs(W[i]).sum(axis=1).max() for i in (1, 2)) * e_zx
        + matmul_rounding(c, mm_w[0], W[1], zx[:, :, None])
        + float(np.abs(zx).sum(axis=1).max()) * half(c.frac(mm_w[0].a.buffer))
    )
    assert c.err()[clear].max() <= bound
    assert c.err()[clear].max() > 0
    # both branches are taken
    assert 0 < (score[clear] >= 0).mean() < 1
