"""The imported zoo models (scikit-learn MLP and logistic regression, the PyTorch DS-CNN) through
every backend, bit-exact with the golden model: host C (sanitizers, whole test split, 16 and 8
bits), HLS C-simulation (whole test split), AVR in simavr and Cortex-M in QEMU (a few inputs), the
accelerator in cocotb (a few inputs)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory
from hlsfix.zoo import load_model
from hlsfix.zoo.imported import IMPORTED_NAMES
from tests.tools import require_tool

N_SIM = 8
KERNELS = runners.MCU_DIR / "kernels"


@cache
def case(name: str, bits: int) -> tuple[KernelProgram, np.ndarray, np.ndarray]:
    """The program at data-driven formats (no exploration: fast), the test split's integers and
    the golden model's outputs on them."""
    m = load_model(name)
    assert m.data is not None
    prof = profile(m.graph, m.data.x_train)
    program = lower(m.graph, assign_formats(m.graph, prof, FormatPolicy(bits=bits)), prof)
    x_q = quantize_input(program, m.data.x_test)
    return program, x_q, run_golden(program, x_q).output


def test_golden_keeps_the_float_accuracy_at_16_bits() -> None:
    for name in IMPORTED_NAMES:
        m = load_model(name)
        golden = case(name, 16)[2]
        assert m.data is not None
        assert np.mean(golden == m.data.y_test) >= m.meta["float_test_accuracy"] - 0.01, name


@pytest.mark.parametrize("bits", [16, 8])
@pytest.mark.parametrize("name", IMPORTED_NAMES)
def test_host_c_equals_golden(name: str, bits: int, tmp_path: Path) -> None:
    require_tool("gcc")
    program, x_q, golden = case(name, bits)
    fw = emit_firmware(program, plan_memory(program), x_q, tmp_path)
    exe = runners.compile_host(fw.sources, tmp_path / "fw", sanitize=True, include_dirs=fw.include_dirs)
    got = decode_records(program, runners.run_host(exe).records)
    assert len(got) == len(x_q) and np.array_equal(got, golden), f"{int(np.sum(got != golden))} differ"


@pytest.mark.parametrize("name", IMPORTED_NAMES)
def test_hls_csim_equals_golden(name: str, tmp_path: Path) -> None:
    require_tool("g++")
    from hlsfix.hls.cost import choose_unroll
    from hlsfix.hls.csim import compile_csim, run_csim
    from hlsfix.hls.emit import emit_hls, write_sources

    program, x_q, golden = case(name, 16)
    part = "xc7a35ticsg324-1L"
    expected = golden.reshape(len(x_q), -1)
    sources = emit_hls(
        program, choose_unroll(program, part), "ap_memory", x_q, expected, part=part, clock_ns=10
    )
    write_sources(sources, tmp_path)
    result = run_csim(compile_csim(tmp_path, sanitize=True))
    assert result.checked == len(x_q) and result.mismatches == 0
    assert np.array_equal(result.outputs, expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", IMPORTED_NAMES)
def test_avr_and_cortex_m_equal_golden(name: str, tmp_path: Path) -> None:
    for tool in ("avr-gcc", "avr-size", "arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    program, x_q, golden = case(name, 16)
    emit_firmware(program, plan_memory(program), x_q[:N_SIM], tmp_path)
    sources = (tmp_path / "firmware.c", KERNELS / "hlsfix_kernels.c", tmp_path / "model.c")
    arm = runners.compile_cortex_m(sources, tmp_path / "fw_arm.elf", include_dirs=(tmp_path, KERNELS))
    assert np.array_equal(decode_records(program, runners.run_qemu(arm).records), golden[:N_SIM])
    avr = runners.compile_avr(sources, tmp_path / "fw.elf", include_dirs=(tmp_path, KERNELS))
    assert np.array_equal(decode_records(program, runners.run_avr(avr).records), golden[:N_SIM])
    assert runners.avr_size(avr)[1] < 2048  # the RAM of an Uno


@pytest.mark.slow
# keras-cnn at 3 lanes: its depthwise convolutions (8 and 16 channels, padded, and 2×2 at stride 2)
# put their channels across the lanes, the last chunk of lanes part idle
@pytest.mark.parametrize(("name", "lanes"), [("sklearn-logreg", 1), ("torch-dscnn", 1), ("keras-cnn", 3)])
def test_accelerator_in_icarus_equals_golden(name: str, lanes: int, tmp_path: Path) -> None:
    pytest.importorskip("amaranth")
    pytest.importorskip("cocotb_tools")
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    program, x_q, golden = case(name, 16)
    res = run_cocotb(program, x_q[:2], lanes=lanes, build_dir=tmp_path, trace=False)
    assert res.bit_exact and len(res.outputs) == 2
    assert res.cycles_per_inference == res.predicted_cycles
    assert np.array_equal(np.asarray(res.outputs).reshape(-1), golden[:2])
