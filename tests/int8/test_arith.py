"""TFLM's integer primitives against their definitions, written out with Python integers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hlsfix.fixedpoint.int8 import arith

INT32_MIN, INT32_MAX = arith.INT32_MIN, arith.INT32_MAX


def srdhm_ref(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc(ab + nudge, 1 << 31)


def _trunc(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def rdbpot_ref(x: int, e: int) -> int:
    """Round half away from zero of x / 2^e."""
    q, r = divmod(abs(x), 1 << e)
    if 2 * r >= (1 << e) and e > 0:
        q += 1
    return q if x >= 0 else -q


def test_srdhm_matches_definition_including_saturation() -> None:
    rng = np.random.default_rng(0)
    edges_a, edges_b = [INT32_MIN, INT32_MAX, 0, -1], [INT32_MIN, INT32_MIN, 5, 1]
    a = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, 4000, endpoint=True), edges_a])
    b = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, 4000, endpoint=True), edges_b])
    got = arith.srdhm(a, b)
    assert got.tolist() == [srdhm_ref(int(x), int(y)) for x, y in zip(a, b, strict=True)]
    assert got[-4] == INT32_MAX  # INT32_MIN · INT32_MIN saturates


@pytest.mark.parametrize("e", [0, 1, 2, 7, 20, 31])
def test_rounding_divide_by_pot_rounds_half_away_from_zero(e: int) -> None:
    rng = np.random.default_rng(e)
    edges = [3, -3, 5, -5, 1 << e, -(1 << e)]
    x = np.concatenate([rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True), edges])
    assert arith.rdbpot(x, e).tolist() == [rdbpot_ref(int(v), e) for v in x]


def test_quantize_multiplier_is_frexp_rounded_to_q31() -> None:
    for real in (0.0, 1e-12, 0.0003, 0.25, 0.5, 0.9999999999, 1.0, 1.75, 3.3e3):
        m, s = arith.quantize_multiplier(real)
        if real < 2**-31 / 2:
            assert (m, s) == (0, 0)
            continue
        assert (1 << 30) <= m < (1 << 31)
        assert math.isclose(m * 2.0 ** (s - 31), real, rel_tol=2**-30)


def test_multiply_by_quantized_multiplier_is_close_to_the_real_product() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 20), 1 << 20, 2000)
    for real in (0.00071, 0.0421, 0.77, 1.9):
        m, s = arith.quantize_multiplier(real)
        got = arith.mbqm(x, m, s)
        assert np.max(np.abs(got - x * real)) <= 1.0  # two roundings, each within half a unit


def test_exp_on_negative_values_tracks_exp() -> None:
    a = -np.arange(0, 32 << 26, 1 << 19, dtype=np.int64)  # Q5.26 in [-32, 0]
    got = arith.exp_on_negative_values(a, 5) / 2.0**31
    assert np.max(np.abs(got - np.exp(a / 2.0**26))) < 2e-6
    assert arith.exp_on_negative_values(np.array([0]), 5)[0] == INT32_MAX


def test_reciprocal_is_one_over_the_sum() -> None:
    sums = np.array([1 << 19, 3 << 19, (1 << 30) + 12345, 7 << 24])  # Q12.19 values ≥ 1
    scale, over = arith.get_reciprocal(sums, 12)
    assert np.allclose(scale / 2.0**31 * 2.0**-over, 1 / (sums / 2.0**19), rtol=1e-6)


def test_count_leading_zeros() -> None:
    vals = np.array([0, 1, 2, 3, (1 << 31) - 1, 1 << 31, 0xFFFFFFFF, (1 << 24) - 1, 1 << 24])
    assert arith.count_leading_zeros_u32(vals).tolist() == [32 - int(v).bit_length() for v in vals]


def test_int32_overflow_is_loud() -> None:
    with pytest.raises(arith.Int32Overflow):
        arith.mbqm(np.array([1 << 30]), 1 << 30, 2)
