"""Rounding folded into constants (round_fold.py) and the exploration's kernel cache
(golden_cache.py): both must leave the integers exactly as the one definition computes them."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.explore import Evaluator
from hlsfix.fixedpoint.golden import quantize_input, run_golden, sat_bounds
from hlsfix.fixedpoint.golden_cache import KernelCache, run_golden_cached
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats, demotable_values
from hlsfix.ir.interp import run_float
from hlsfix.zoo import load_model


def _lowered(name: str, bits: int, fold: bool):
    m = load_model(name)
    assert m.data is not None
    x = m.data.x_train[:300]
    prof = profile(m.graph, x)
    fmts = assign_formats(m.graph, prof, FormatPolicy(bits))
    options = LowerOptions(round_fold=fold, round_flags=False)  # the flags: test_round_flags.py
    return lower(m.graph, fmts, prof, options, str(bits)), m.data.x_test


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_folded_adds_round_to_nearest(name: str) -> None:
    """The first add whose constant took the offset computes round-half-up of the exact sum
    (from the unfolded program's operands), saturated to 8 bits."""
    plain, x = _lowered(name, 8, fold=False)
    folded, _ = _lowered(name, 8, fold=True)

    def changed(p: kp.Kernel, f: kp.Kernel) -> bool:
        consts = [r.buffer for r in (f.a, f.b) if r.buffer in folded.constants]  # type: ignore[attr-defined]
        return p != f or any(not np.array_equal(plain.constants[c], folded.constants[c]) for c in consts)

    pairs = [
        (p, f)
        for p, f in zip(plain.walk(), folded.walk(), strict=True)
        if isinstance(f, kp.AddSub) and changed(p, f)
    ]
    assert pairs, "no add took a rounding offset"
    before, after = pairs[0]
    assert before in plain.kernels  # at the top level: its operands are whole buffers
    gp = run_golden(plain, quantize_input(plain, x), keep_buffers=True).buffers
    gf = run_golden(folded, quantize_input(folded, x), keep_buffers=True).buffers

    def operand(ref: kp.Ref) -> np.ndarray:
        return gp[ref.buffer][:, ref.offset : ref.offset + ref.length]

    a, b = operand(before.a), operand(before.b)
    if before.b_mode == "scalar":
        b = b[:, :1]
    elif before.b_mode == "lastdim":
        b = np.tile(b, (1, a.shape[1] // b.shape[1]))
    fa = plain.buffer(before.a.buffer).fmt.frac
    fb = plain.buffer(before.b.buffer).fmt.frac
    fo = plain.buffer(before.out).fmt.frac
    exact_a, exact_b = a * 2.0**-fa, b * 2.0**-fb
    total = (
        (exact_b - exact_a if before.b_first else exact_a - exact_b) if before.subtract else exact_a + exact_b
    )
    lo, hi = sat_bounds(8)
    want = np.clip(np.floor(total * 2.0**fo + 0.5), lo, hi)
    got = gf[after.out]
    assert np.array_equal(got, want)
    # and the plain program floors: the fold changed something on these inputs
    assert not np.array_equal(gp[before.out], want)


def test_16_bit_programs_take_no_offset() -> None:
    plain, _ = _lowered("fastgrnn", 16, fold=False)
    folded, _ = _lowered("fastgrnn", 16, fold=True)
    assert plain.kernels == folded.kernels and plain.buffers == folded.buffers
    assert all(np.array_equal(plain.constants[k], folded.constants[k]) for k in plain.constants)


@pytest.mark.parametrize("name", ["cnn", "fastgrnn"])
def test_the_kernel_cache_computes_what_the_golden_model_computes(name: str) -> None:
    """Candidates of a search share one cache; every output and saturation count is the plain
    golden model's, and later candidates reuse earlier kernels."""
    m = load_model(name)
    assert m.data is not None
    x = m.data.x_train[::9]
    prof = profile(m.graph, x)
    ev = Evaluator(m.graph, prof, x, m.data.y_train[::9], run_float(m.graph, x))
    cache = KernelCache()
    values = demotable_values(m.graph)
    policies = [FormatPolicy(16)] + [FormatPolicy(16).with_override(v, 8, 1) for v in values[-4:]]
    policies += [FormatPolicy(8), FormatPolicy(8, 1, 1)]
    for policy in policies:
        program = ev.build(policy, "table", "mixed")
        x_q = quantize_input(program, x)
        want, got = run_golden(program, x_q), run_golden_cached(program, x_q, cache)
        assert np.array_equal(want.output, got.output)
        assert want.saturations == got.saturations
    assert cache.hits > 0
