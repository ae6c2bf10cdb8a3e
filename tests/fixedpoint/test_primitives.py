"""The integer primitives of the golden model (``shr``, ``saturate``, ``rescale_sat``, ``shift_exact``)
against hand-worked values and against plain Python big-int reference implementations."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.fixedpoint.golden import rescale_sat, sat_bounds, saturate, shift_exact, shr

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def arr(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# Python big-int references: exact by construction (Python's >> on int is floor for any shift).


def ref_shr(v: int, s: int) -> int:
    return v >> s


def ref_saturate(v: int, bits: int) -> tuple[int, bool]:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    c = min(max(v, lo), hi)
    return c, c != v


def ref_rescale_sat(v: int, s: int, bits: int) -> tuple[int, bool]:
    """sat(floor(v · 2^-s)) computed with unbounded integers."""
    exact = v >> s if s >= 0 else v * 2 ** (-s)
    return ref_saturate(exact, bits)


def random_int64(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values of every magnitude: uniform over int64, small values, and values near powers of two."""
    full = rng.integers(I64_MIN, I64_MAX, size=n, dtype=np.int64, endpoint=True)
    small = rng.integers(-1000, 1000, size=n, dtype=np.int64)
    exps = rng.integers(0, 62, size=n)
    near = (np.int64(1) << exps) + rng.integers(-3, 4, size=n)
    near = near * rng.choice(arr(-1, 1), size=n)
    return np.concatenate([full, small, near, arr(0, 1, -1, I64_MIN, I64_MAX)])


# ---------------------------------------------------------------------------------------------
# shr


def test_shr_hand_worked():
    assert shr(arr(-1), 1).tolist() == [-1]  # floor(-0.5) = -1, not 0
    assert shr(arr(-5), 1).tolist() == [-3]  # floor(-2.5) = -3
    assert shr(arr(5), 1).tolist() == [2]
    assert shr(arr(-4), 2).tolist() == [-1]
    assert shr(arr(-3), 2).tolist() == [-1]
    assert shr(arr(7, -7, 0), 0).tolist() == [7, -7, 0]  # shift 0 is the identity


@pytest.mark.parametrize("s", [15, 16, 31, 32, 40, 62])
def test_shr_large_shifts_of_word_sized_values(s):
    # 16- and 32-bit values shifted past their width: 0 for non-negative, -1 for negative.
    v = arr(32767, -32768, 1, -1, 0, 2**31 - 1, -(2**31))
    expected = [0 if x >= 0 else -1 for x in v.tolist()]
    if s == 15:
        expected = [0, -1, 0, -1, 0, 65535, -65536]  # 2^31-1 >> 15 = 65535, -2^31 >> 15 = -65536
    elif s == 16:
        expected = [0, -1, 0, -1, 0, 32767, -32768]
    elif s == 31:
        expected = [0, -1, 0, -1, 0, 0, -1]
    assert shr(v, s).tolist() == expected


@pytest.mark.parametrize("s", [63, 64, 100, 1000])
def test_shr_shifts_of_63_and_more_on_small_values(s):
    v = arr(1, -1, 2**40, -(2**40), 0, 2**61, -(2**61))
    assert shr(v, s).tolist() == [0, -1, 0, -1, 0, 0, -1]


@pytest.mark.parametrize("s", [63, 100])
def test_shr_shifts_of_63_and_more_on_values_beyond_2_pow_62(s):
    v = arr(2**62, I64_MAX, I64_MIN, -(2**62) - 1)
    assert shr(v, s).tolist() == [0, 0, -1, -1]  # floor(v / 2^s) for |v| < 2^63 <= 2^s


def test_shr_against_bigint_reference():
    rng = np.random.default_rng(1)
    v = random_int64(rng, 2000)
    for s in list(range(0, 63)):
        got = shr(v, s)
        assert got.dtype == np.int64
        want = [ref_shr(x, s) for x in v.tolist()]
        assert got.tolist() == want, s


def test_shr_against_bigint_reference_past_62_for_values_below_2_pow_62():
    rng = np.random.default_rng(2)
    v = rng.integers(-(2**62), 2**62 - 1, size=3000, dtype=np.int64, endpoint=True)
    for s in (63, 64, 65, 80, 127, 200):
        assert shr(v, s).tolist() == [ref_shr(x, s) for x in v.tolist()], s


# ---------------------------------------------------------------------------------------------
# saturate


@pytest.mark.parametrize(
    "bits, lo, hi",
    [(8, -128, 127), (16, -32768, 32767), (32, -(2**31), 2**31 - 1)],
)
def test_saturate_both_ends(bits, lo, hi):
    assert sat_bounds(bits) == (lo, hi)
    # exactly at the bounds: kept, not counted
    out, n = saturate(arr(lo, hi, 0, lo + 1, hi - 1), bits)
    assert out.tolist() == [lo, hi, 0, lo + 1, hi - 1]
    assert n == 0
    # one past each bound, and far past: clipped and counted
    out, n = saturate(arr(lo - 1, hi + 1, 5, lo * 4, hi * 4, I64_MIN, I64_MAX), bits)
    assert out.tolist() == [lo, hi, 5, lo, hi, lo, hi]
    assert n == 6


def test_saturate_counts_per_element_of_a_batch():
    v = np.array([[200, -200, 3], [127, -128, -129]], dtype=np.int64)
    out, n = saturate(v, 8)
    assert out.tolist() == [[127, -128, 3], [127, -128, -128]]
    assert n == 3


def test_saturate_against_reference():
    rng = np.random.default_rng(3)
    v = random_int64(rng, 2000)
    for bits in (8, 16, 32):
        out, n = saturate(v, bits)
        ref = [ref_saturate(x, bits) for x in v.tolist()]
        assert out.tolist() == [r[0] for r in ref]
        assert n == sum(r[1] for r in ref)


# ---------------------------------------------------------------------------------------------
# rescale_sat


def test_rescale_sat_right_shifts():
    out, n = rescale_sat(arr(100, -100, -1, 1, 255, -256), 2, 8)
    # 100/4 = 25, -100/4 = -25, floor(-1/4) = -1, floor(1/4) = 0, floor(255/4) = 63, -256/4 = -64
    assert out.tolist() == [25, -25, -1, 0, 63, -64]
    assert n == 0
    # a right shift that still saturates: 1000 >> 1 = 500 > 127, -1001 >> 1 = -501 < -128
    out, n = rescale_sat(arr(1000, -1001, 254, -256, 256, -258), 1, 8)
    assert out.tolist() == [127, -128, 127, -128, 127, -128]
    # 254>>1 = 127 and -256>>1 = -128 are exactly at the bounds (not counted); 1000>>1 = 500,
    # -1001>>1 = -501, 256>>1 = 128 and -258>>1 = -129 are beyond them
    assert n == 4
    # shift 0: plain saturation
    out, n = rescale_sat(arr(127, 128, -128, -129), 0, 8)
    assert out.tolist() == [127, 127, -128, -128]
    assert n == 2


@pytest.mark.parametrize("bits", [8, 16, 32])
@pytest.mark.parametrize("s", [1, 3, 6])
def test_rescale_sat_left_shift_boundaries(bits, s):
    lo, hi = sat_bounds(bits)
    hi_in = hi >> s  # the largest value whose left shift fits
    lo_in = lo // 2**s  # exact: -2^(bits-1) is divisible by 2^s for s < bits
    v = arr(hi_in, hi_in + 1, lo_in, lo_in - 1, 0, 1, -1)
    out, n = rescale_sat(v, -s, bits)
    assert out.tolist() == [hi_in * 2**s, hi, lo_in * 2**s, lo, 0, 2**s, -(2**s)]
    assert lo_in * 2**s == lo  # the most negative value is reached exactly, not saturated
    assert n == 2


def test_rescale_sat_left_shift_hand_worked():
    # 8 bits, shift left by 2: 31·4 = 124 fits, 32·4 = 128 saturates to 127; -32·4 = -128 fits,
    # -33·4 = -132 saturates to -128
    out, n = rescale_sat(arr(31, 32, -32, -33, 5, -5), -2, 8)
    assert out.tolist() == [124, 127, -128, -128, 20, -20]
    assert n == 2


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_rescale_sat_left_shift_of_bits_or_more(bits):
    lo, hi = sat_bounds(bits)
    for left in (bits, bits + 1, 63, 100):
        out, n = rescale_sat(arr(0, 1, -1, 7, -7, 0), -left, bits)
        # any non-zero value times 2^left is beyond the range; zero stays zero
        assert out.tolist() == [0, hi, lo, hi, lo, 0], left
        assert n == 4
    # one less than bits: 1 << (bits-1) = hi + 1 saturates, -1 << (bits-1) = lo fits
    out, n = rescale_sat(arr(1, -1, 0), -(bits - 1), bits)
    assert out.tolist() == [hi, lo, 0]
    assert n == 1


def test_rescale_sat_against_bigint_reference():
    rng = np.random.default_rng(4)
    wide = rng.integers(-(2**40), 2**40, size=1500, dtype=np.int64)
    small = rng.integers(-300, 300, size=1500, dtype=np.int64)
    v = np.concatenate([wide, small, arr(0, 1, -1, 127, 128, -128, -129, 32767, -32768)])
    for bits in (8, 16, 32):
        for s in (-40, -33, -32, -31, -17, -16, -9, -8, -7, -3, -1, 0, 1, 2, 5, 8, 15, 16, 31, 45, 62):
            if s < 0 and (np.abs(v) > 2**62 >> -s).any():
                vv = v[np.abs(v) <= (2**62 >> -s)]  # stay clear of int64 overflow in v << -s
            else:
                vv = v
            out, n = rescale_sat(vv, s, bits)
            ref = [ref_rescale_sat(x, s, bits) for x in vv.tolist()]
            assert np.asarray(out).tolist() == [r[0] for r in ref], (bits, s)
            assert n == sum(r[1] for r in ref), (bits, s)


def test_rescale_sat_keeps_batch_shape():
    v = np.array([[1, 2, 3], [-4, -5, -6]], dtype=np.int64)
    out, n = rescale_sat(v, -6, 8)  # ·64: 64, 128→127, 192→127; -256→-128, -320→-128, -384→-128
    assert out.shape == (2, 3)
    assert out.tolist() == [[64, 127, 127], [-128, -128, -128]]
    assert n == 5


# ---------------------------------------------------------------------------------------------
# shift_exact


def test_shift_exact():
    assert shift_exact(arr(3, -3, 0), 4).tolist() == [48, -48, 0]  # multiply by 2^4
    assert shift_exact(arr(3, -3, -1, 17), -1).tolist() == [1, -2, -1, 8]  # floor of halves
    assert shift_exact(arr(5, -5), 0).tolist() == [5, -5]
    rng = np.random.default_rng(5)
    v = rng.integers(-(2**30), 2**30, size=500, dtype=np.int64)
    for s in range(-40, 32):
        want = [x * 2**s if s >= 0 else x >> -s for x in v.tolist()]
        assert shift_exact(v, s).tolist() == want, s
