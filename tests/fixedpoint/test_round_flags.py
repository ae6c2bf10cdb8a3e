"""The round_out flag (program.py): its definition in golden.py on hand-worked cases, where the
compiler sets it (round_fold.py), and the per-kernel choice (round_choice.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, round_const, run_golden
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram, Ref
from hlsfix.fixedpoint.round_choice import flagged, with_flags
from hlsfix.fixedpoint.round_fold import flag_rounding
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.zoo import load_model

# x, then floor(x / 4) and round-half-up(x / 4), worked by hand
X = [5, 6, 7, -5, -6, -7, -2, 2, -1, 1, 127, -128, 0]
FLOOR = [1, 1, 1, -2, -2, -2, -1, 0, -1, 0, 31, -32, 0]
NEAREST = [1, 2, 2, -1, -1, -2, 0, 1, 0, 0, 32, -32, 0]  # 1.5 → 2, -1.5 → -1, -0.5 → 0, 31.75 → 32


def _rescale_program(shift: int, rnd: bool, out_bits: int = 8, negate: bool = False) -> KernelProgram:
    bufs = (
        Buffer("x", (len(X),), Format(8, 0), "input"),
        Buffer("y", (len(X),), Format(out_bits, 0), "temp"),
    )
    k = kp.Rescale(Ref("x", len(X)), "y", len(X), shift, negate, round_out=rnd)
    return KernelProgram("r", "8", "x", "y", False, bufs, (k,), (), {})


def _run(program: KernelProgram) -> list[int]:
    return run_golden(program, np.array([X])).output[0].tolist()


def test_round_const_is_half_an_output_unit_only_where_the_flag_is_set() -> None:
    assert [round_const(s, True) for s in (-3, 0, 1, 2, 5, 30)] == [0, 0, 1, 2, 16, 1 << 29]
    assert [round_const(s, False) for s in (-3, 0, 1, 2, 5)] == [0] * 5


def test_rounding_is_to_nearest_with_ties_up_for_negative_values_too() -> None:
    assert _run(_rescale_program(2, False)) == FLOOR
    assert _run(_rescale_program(2, True)) == NEAREST
    # negation first, then the rounding constant: round(-x / 4)
    assert _run(_rescale_program(2, True, negate=True)) == [
        -1,
        -1,
        -2,
        1,
        2,
        2,
        1,
        0,
        0,
        0,
        -32,
        32,
        0,
    ]


def test_rounding_saturates_after_and_a_left_shift_ignores_the_flag() -> None:
    # 127 / 2 = 63.5 → 64, which a 7-bit output saturates to 63; -128 / 2 = -64 fits
    got = _run(_rescale_program(1, True, out_bits=7))
    assert got[X.index(127)] == 63 and got[X.index(-128)] == -64
    assert _run(_rescale_program(-1, True, out_bits=16)) == _run(_rescale_program(-1, False, out_bits=16))
    assert _run(_rescale_program(0, True)) == X


def _program(name: str, bits: int, flags: bool = True) -> tuple[KernelProgram, np.ndarray]:
    m = load_model(name)
    assert m.data is not None
    x = m.data.x_train[:200]
    prof = profile(m.graph, x)
    fmts = assign_formats(m.graph, prof, FormatPolicy(bits))
    return lower(m.graph, fmts, prof, LowerOptions(round_flags=flags), str(bits)), m.data.x_test


@pytest.mark.parametrize("name", ["protonn", "fastgrnn"])
def test_8bit_programs_round_and_16bit_programs_keep_floor(name: str) -> None:
    p8, _ = _program(name, 8)
    assert flagged(p8)
    for k in p8.walk():
        if getattr(k, "round_out", False):
            assert p8.buffer(k.out).fmt.bits == 8  # type: ignore[attr-defined]
    p16, _ = _program(name, 16)
    assert not flagged(p16)
    assert p16.kernels == _program(name, 16, flags=False)[0].kernels


@pytest.mark.parametrize("name", ["protonn", "cnn"])
def test_flagged_kernels_never_leave_the_wide_type_on_any_input(name: str) -> None:
    """The flag is set only where the worst case plus 2^(s-1) fits (the golden model checks every
    value and raises WideOverflow otherwise): the whole input range, edges included."""
    for program in (_program(name, 8)[0], flag_rounding(_program(name, 16)[0], max_bits=32)):
        fmt = program.input_buffer.fmt
        rng = np.random.default_rng(0)
        x_q = rng.integers(fmt.qmin, fmt.qmax + 1, size=(64, program.input_buffer.size))
        x_q[0], x_q[1] = fmt.qmin, fmt.qmax
        run_golden(program, x_q)


def test_with_flags_clears_exactly_the_chosen_kernels() -> None:
    p8, x = _program("fastgrnn", 8)  # flags inside the loop body too
    pos = flagged(p8)
    assert len(pos) >= 2
    cleared = with_flags(p8, frozenset(pos[:1]))
    assert flagged(cleared) == pos[1:]
    assert with_flags(p8, frozenset()) == p8
    plain = with_flags(p8, frozenset(pos))
    assert not flagged(plain)
    # the same kernels but for the flag, and the flag changes the integers
    for kp_, kf in zip(plain.walk(), p8.walk(), strict=True):
        if not isinstance(kf, kp.Loop):
            assert kp_ == (dataclasses.replace(kf, round_out=False) if hasattr(kf, "round_out") else kf)
    rows = quantize_input(p8, x[:50])
    a = run_golden(p8, rows, keep_buffers=True).buffers
    b = run_golden(plain, rows, keep_buffers=True).buffers
    assert any(not np.array_equal(a[n], b[n]) for n in a)
