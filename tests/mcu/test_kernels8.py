"""8-bit kernels (hlsfix_kernels8.h): bit-exact with the golden model in simavr at -O2 and -Os
and on the host under ASan+UBSan; the narrow-width proofs; 8-bit faster than 16-bit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.mcu import runners
from hlsfix.mcu.emit import emit_model
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.mcu.kernel_cases import CASES, build_case, measure
from hlsfix.mcu.narrow import Bounds, c_width
from hlsfix.memory.liveness import plan_memory
from hlsfix.zoo import ZOO_NAMES
from tests.mcu.test_c_backend import N_SIM, make_case
from tests.tools import require_tool

CASE_NAMES = [c.name for c in CASES]
BY_NAME = {c.name: c for c in CASES}


def _avr_tools() -> None:
    for tool in ("avr-gcc", "avr-size"):
        require_tool(tool)


def assert_host_equals_golden(program, x_q: np.ndarray, n_extreme: int, seed: int, d: Path) -> None:
    """``program`` in host C (ASan + UBSan) on ``x_q`` and then on ``n_extreme`` inputs drawn from
    the whole integer range (saturations included, both ends first) equals the golden model."""
    fmt = program.input_buffer.fmt
    extreme = np.random.default_rng(seed).integers(fmt.qmin, fmt.qmax + 1, size=(n_extreme, x_q.shape[1]))
    extreme[:2] = [[fmt.qmin], [fmt.qmax]]
    x_q = np.concatenate([x_q, extreme])
    fw = emit_firmware(program, plan_memory(program), x_q, d)
    exe = runners.compile_host(fw.sources, d / "fw", sanitize=True, include_dirs=fw.include_dirs)
    got = decode_records(program, runners.run_host(exe).records)
    assert np.array_equal(got, run_golden(program, x_q).output)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_8bit_kernels_equal_golden_on_the_host(name: str, tmp_path: Path) -> None:
    require_tool("gcc")
    for bits in (8, 16):
        built = build_case(BY_NAME[name], bits)
        assert_host_equals_golden(built.program, built.x_q, 200, 1, tmp_path / str(bits))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_8bit_kernels_equal_golden_in_simavr_at_O2_and_Os(name: str) -> None:
    _avr_tools()
    built = build_case(BY_NAME[name], 8)
    for opt in (runners.AVR_OPT, "-Os"):
        assert measure(built, opt).cycles > 0  # measure() raises on any differing output


def test_8bit_dot_products_are_at_least_twice_as_fast_as_16bit() -> None:
    _avr_tools()
    for name in ("matvec 16x32", "dot x.x 16", "hadamard 16"):
        c16 = measure(build_case(BY_NAME[name], 16)).cycles
        c8 = measure(build_case(BY_NAME[name], 8)).cycles
        assert c8 * 2 <= c16, (name, c8, c16)


def _kernel(name: str, bits: int, kind: type[kp.Kernel]) -> tuple[kp.KernelProgram, kp.Kernel]:
    prog = build_case(BY_NAME[name], bits).program
    return prog, next(k for k in prog.walk() if isinstance(k, kind))


def test_narrow_width_is_chosen_only_where_every_sum_fits_int16() -> None:
    prog, k = _kernel("scale 10 by scalar", 8, kp.MatMul)
    assert c_width(Bounds(prog), k) == 16  # one 8 x 8 product per output
    prog, k = _kernel("dot x.x 16", 8, kp.MatMul)
    assert c_width(Bounds(prog), k) == 32  # 16 products of up to 2^14 overflow int16
    prog16, k16 = _kernel("matvec 16x32", 16, kp.MatMul)
    assert c_width(Bounds(prog16), k16) == 32
    prog, k = _kernel("add/sub 16", 8, kp.AddSub)
    assert c_width(Bounds(prog), k) == 16
    big = dataclasses.replace(k, a_shift=8)  # 2^7 · 2^8 no longer fits
    assert c_width(Bounds(prog), big) == 32


def test_a_weight_that_breaks_the_int16_proof_moves_the_kernel_to_32_bits() -> None:
    """Scale the constant so that a row's bound passes 2^15: the emitted variant must change."""
    built = build_case(BY_NAME["matvec 16x32"], 8)
    prog = built.program
    k = next(k for k in prog.walk() if isinstance(k, kp.MatMul))
    const = k.a.buffer
    src32 = emit_model(prog, plan_memory(prog)).source
    small = dict(prog.constants)
    small[const] = np.clip(small[const], -3, 3)  # 32 · 3 · 128 = 12,288 < 2^15
    narrow = dataclasses.replace(prog, constants=small)
    assert c_width(Bounds(narrow), k) == 16
    assert c_width(Bounds(prog), k) == 32
    assert "hlsfix_matvec8_i8c_i8_i8_w32_ps" in src32
    assert "hlsfix_matvec8_i8c_i8_i8_w16_ps" in emit_model(narrow, plan_memory(narrow)).source
    _avr_tools()
    for opt in (runners.AVR_OPT, "-Os"):  # the 16-bit accumulator loop, bit for bit
        measure(dataclasses.replace(built, program=narrow), opt)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["8", "mixed"])
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_zoo_8bit_and_mixed_builds_equal_golden_in_simavr(name: str, config: str, tmp_path: Path) -> None:
    """Every zoo model with 8-bit kernels, at the shipped -O2 and the Arduino IDE's -Os."""
    _avr_tools()
    case = make_case(name, config)
    x_q, want = case.x_q[:N_SIM], case.golden[:N_SIM]
    fw = emit_firmware(case.program, plan_memory(case.program), x_q, tmp_path)
    for opt in (runners.AVR_OPT, "-Os"):
        elf = runners.compile_avr(fw.sources, tmp_path / "fw.elf", include_dirs=fw.include_dirs, opt=opt)
        run = runners.run_avr(elf)
        assert np.array_equal(decode_records(case.program, run.records), want), opt


@pytest.mark.parametrize("name", ["fastgrnn", "bonsai", "mlp"])
def test_8bit_programs_with_wide_sums_equal_golden_in_simavr_and_on_the_host(
    name: str, tmp_path: Path
) -> None:
    """The explored 8-bit programs that keep partial sums at 16 bits (explore.widen_sums; FastGRNN
    also its state, inside the loop) at -O2 and -Os, and in host C on extreme inputs."""
    import hlsfix
    from hlsfix.fixedpoint.golden import quantize_input

    _avr_tools()
    cm = hlsfix.compile(name, bits="8")
    program = cm.program
    assert {b.fmt.bits for b in program.buffers if b.kind == "temp"} == {8, 16}
    x_q = quantize_input(program, cm.test[0][:N_SIM])
    want = run_golden(program, x_q).output
    fw = emit_firmware(program, plan_memory(program), x_q, tmp_path)
    for opt in (runners.AVR_OPT, "-Os"):
        elf = runners.compile_avr(fw.sources, tmp_path / "fw.elf", include_dirs=fw.include_dirs, opt=opt)
        assert np.array_equal(decode_records(program, runners.run_avr(elf).records), want), opt
    assert_host_equals_golden(program, x_q, 100, 3, tmp_path / "host")
