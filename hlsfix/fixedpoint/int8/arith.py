"""TFLM's integer arithmetic for the int8 affine family, batched in numpy (int64 arrays).

Each function is the element-wise meaning of the C routine named in its docstring (TensorFlow Lite
Micro's ``kernels/internal/common.h`` and gemmlowp's ``fixedpoint.h``, double-rounding build — the
one the ``tflite-micro`` package runs). Values are held in int64 and checked to be int32 where C
holds them in int32, so an overflow the C code would wrap on shows up here as an error.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


class Int32Overflow(AssertionError):
    """A value that C holds in an int32 does not fit one (a compiler or model bug)."""


def check_int32(v: np.ndarray, what: str) -> np.ndarray:
    if v.size and (v.min() < INT32_MIN or v.max() > INT32_MAX):
        raise Int32Overflow(f"{what}: outside int32 ({v.min()}, {v.max()})")
    return v


def _trunc_div_pow2(v: np.ndarray, bits: int) -> np.ndarray:
    """C's ``v / 2^bits`` (truncation toward zero) on int64."""
    q = np.abs(v) >> bits
    return np.where(v < 0, -q, q)


def srdhm(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul(a, b) for int32 a, b (ARM VQRDMULH)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = _trunc_div_pow2(ab + nudge, 31)
    return np.where(overflow, INT32_MAX, high)


def rdbpot(x: np.ndarray | int, exponent: np.ndarray | int) -> np.ndarray:
    """RoundingDivideByPOT(x, exponent): round half away from zero, 0 ≤ exponent ≤ 31."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def mbqm(x: np.ndarray, multiplier: np.ndarray | int, shift: np.ndarray | int) -> np.ndarray:
    """MultiplyByQuantizedMultiplier(int32 x, M, shift): x·2^max(shift,0), SRDHM by M, then
    RoundingDivideByPOT by max(−shift, 0)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    scaled = check_int32(np.asarray(x, dtype=np.int64) << left, "x·2^left_shift")
    return rdbpot(srdhm(scaled, multiplier), right)


def mbqm_smaller_than_one(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift ≤ 0)."""
    return rdbpot(srdhm(x, multiplier), -left_shift)


def mbqm_greater_than_one(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplierGreaterThanOne (left_shift ≥ 0)."""
    scaled = check_int32(np.asarray(x, dtype=np.int64) << left_shift, "x·2^left_shift")
    return srdhm(scaled, multiplier)


# ------------------------------------------------------------------------------------------------
# Multipliers, computed from the model's float32 scales exactly as TFLM's Prepare functions do.


def round_half_away(v: float) -> int:
    """TfLiteRound / std::round on a double."""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """QuantizeMultiplier(double) → (Q31 multiplier, shift); shift > 0 is a left shift."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def f32(v: float) -> float:
    """A float32 scale as C sees it when it casts the float to double."""
    return float(np.float32(v))


# ------------------------------------------------------------------------------------------------
# gemmlowp fixed point on raw int32 values (int64 arrays).


def sat_mul_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT<exponent>(x)."""
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbpot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    s = a + b
    return _trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1)


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535))
_EXP_BARREL_TAIL = ((3, 720401), (4, 242))


def _exp_quarter(a: np.ndarray) -> np.ndarray:
    """exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out."""
    constant_term = 1895147668
    one_third = 715827883
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    poly = sat_mul_pot(srdhm(x4_over_4 + x3, one_third) + x2, -1)
    return constant_term + srdhm(constant_term, x + poly)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp::exp_on_negative_values for FixedPoint<int32, integer_bits> raw ``a`` ≤ 0 → Q0.31."""
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod = (a & mask) - one_quarter
    result = _exp_quarter(sat_mul_pot(a_mod, integer_bits))
    remainder = a_mod - a
    for exponent, mult in _EXP_BARREL + _EXP_BARREL_TAIL:
        if integer_bits > exponent:
            bit = (remainder & (1 << (frac_bits + exponent))) != 0
            result = np.where(bit, srdhm(result, mult), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp::one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out (Newton-Raphson, 3 steps)."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)
    one_f2 = 1 << 29
    for _ in range(3):
        hd_x = srdhm(half_denominator, x)
        x = x + sat_mul_pot(srdhm(x, one_f2 - hd_x), 2)
    return sat_mul_pot(x, 1)


def count_leading_zeros_u32(x: np.ndarray) -> np.ndarray:
    """CountLeadingZeros of a uint32 (32 for 0); exact, as frexp is exact below 2^53."""
    x = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    _, bit_length = np.frexp(x.astype(np.float64))
    return np.where(x == 0, 32, 32 - bit_length.astype(np.int64))


def get_reciprocal(x: np.ndarray, integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """GetReciprocal(x, integer_digits) → (Q0.31 scale, num_bits_over_unit)."""
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = integer_digits - headroom_plus_one
    shifted = ((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    return one_over_one_plus_x_for_x_in_0_1(shifted), num_bits_over_unit


def _one_minus_x_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp::one_minus_x_over_one_plus_x_for_x_in_0_1, Q0.31 in and out."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)
    for _ in range(3):
        hd_x = srdhm(half_denominator, x)
        x = x + sat_mul_pot(srdhm(x, (1 << 29) - hd_x), 2)
    return sat_mul_pot(x - (1 << 29), 2)


def logistic_q4(a: np.ndarray) -> np.ndarray:
    """gemmlowp::logistic of a FixedPoint<int32, 4> raw value → Q0.31."""
    positive = a > 0
    abs_a = np.where(positive, a, -a)
    pos = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-abs_a, 4))
    return np.where(a == 0, 1 << 30, np.where(positive, pos, INT32_MAX - pos))


def tanh_q4(a: np.ndarray) -> np.ndarray:
    """gemmlowp::tanh of a FixedPoint<int32, 4> raw value → Q0.31."""
    negative = a < 0
    n = np.where(negative, a, -a)  # ≤ 0
    t = _one_minus_x_over_one_plus_x(exp_on_negative_values(n, 5))  # ExactMulByPot<1>: Q4 → Q5
    return np.where(a == 0, 0, np.where(negative, -t, t))


def input_radius(integer_bits: int, left_shift: int) -> int:
    """CalculateInputRadius(integer_bits, left_shift, 31)."""
    return int(math.floor(((1 << integer_bits) - 1) * 2.0 ** (31 - integer_bits) / 2.0**left_shift))


def q4_input_params(scale: float) -> tuple[int, int, int]:
    """LOGISTIC/TANH int8 Prepare: (multiplier, left shift, input range radius) for Q4.27 input."""
    q, left_shift = math.frexp(f32(scale) * float(1 << 27))
    return round_half_away(q * (1 << 31)), left_shift, input_radius(4, left_shift)


def quantize_float(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """QUANTIZE float32 → int8 (AffineQuantize): round(x / (float)scale) in float32, half away
    from zero, + zero point, clamped."""
    t = (np.asarray(x, dtype=np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(t) * np.floor(np.abs(t) + 0.5)  # exact in float64 for a float32 t
    return np.clip(np.clip(r, -(2.0**31), 2.0**31 - 1).astype(np.int64) + zero_point, -128, 127)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """DEQUANTIZE int8 → float32: (float)((double)scale · (q − zero point))."""
    return (np.float64(f32(scale)) * (np.asarray(q, dtype=np.int64) - zero_point)).astype(np.float32)
