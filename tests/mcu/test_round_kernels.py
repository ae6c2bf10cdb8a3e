"""The round_out flag in the C kernels (hlsfix_kernels.h, hlsfix_kernels8.h): every kernel that
ends in a right shift, at 8 bits (where lowering sets the flag) and at 16 bits (every kernel
flagged where it may be: round_fold.flag_rounding), bit-exact with the golden model on the host
under ASan+UBSan over the whole input range, and in simavr at -O2 and -Os."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.round_choice import flagged
from hlsfix.fixedpoint.round_fold import ROUNDABLE, flag_rounding
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.mcu.kernel_cases import CASES, Built, build_case, measure
from hlsfix.memory.liveness import plan_memory
from tests.mcu.test_c_backend import N_SIM, emit_sources, make_case
from tests.mcu.test_kernels8 import assert_host_equals_golden
from tests.tools import require_tool

ROUNDING = (*ROUNDABLE, kp.AddSub)
CASE_NAMES = [c.name for c in CASES if c.kind in ROUNDING]
BY_NAME = {c.name: c for c in CASES}


def _rounded(name: str, bits: int) -> Built:
    built = build_case(BY_NAME[name], bits)
    program = flag_rounding(built.program, max_bits=32)  # folded 8-bit adds too
    assert flagged(program), (name, bits)  # the case exercises the flag
    return dataclasses.replace(built, program=program)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_rounding_kernels_equal_golden_on_the_host(name: str, tmp_path: Path) -> None:
    require_tool("gcc")
    for bits in (8, 16):
        built = _rounded(name, bits)
        assert_host_equals_golden(built.program, built.x_q, 100, 2, tmp_path / str(bits))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_rounding_16bit_kernels_equal_golden_in_simavr(name: str) -> None:
    """The 16-bit assembly loops (MatVec16, SparseMatVec16) start from the rounding constant;
    the 8-bit ones are checked with their flags by test_kernels8.py."""
    for tool in ("avr-gcc", "avr-size"):
        require_tool(tool)
    built = _rounded(name, 16)
    for opt in (runners.AVR_OPT, "-Os"):
        assert measure(built, opt).cycles > 0  # measure() raises on any differing output


@pytest.mark.parametrize("name", ["protonn", "fastgrnn"])
def test_rounding_zoo_program_equals_golden_on_cortex_m(name: str, tmp_path: Path) -> None:
    """A zoo model at 8 bits, every kernel flagged where it may be, in QEMU (Cortex-M3)."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    case = make_case(name, "8")
    program = flag_rounding(case.program, max_bits=32)
    assert flagged(program)
    x_q = case.x_q[:N_SIM]
    emit_firmware(program, plan_memory(program), x_q, tmp_path)
    elf = runners.compile_cortex_m(
        emit_sources(tmp_path) + (tmp_path / "model.c",),
        tmp_path / "fw_arm.elf",
        include_dirs=(tmp_path, runners.MCU_DIR / "kernels"),
    )
    got = decode_records(program, runners.run_qemu(elf).records)
    assert np.array_equal(got, run_golden(program, x_q).output)
