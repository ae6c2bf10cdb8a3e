"""The int8 C kernels against the golden model: host gcc with ASan/UBSan, Cortex-M4 in QEMU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.mcu import runners
from hlsfix.mcu.int8_emit import decode_int8_records, emit_int8_firmware, emit_int8_model
from hlsfix.memory.int8_plan import Int8MemoryOptions, plan_int8_memory
from tests.tools import require_tool

from .conftest import int8_model
from .test_tflm_parity import random_inputs


def _firmware(name: str, n: int, tmp: Path, options: Int8MemoryOptions | None = None):
    m = int8_model(name)
    mem = plan_int8_memory(m.program, options)
    x = random_inputs(name, n, seed=7)
    em = emit_int8_model(
        mem, tmp, scales=(m.input_scale, m.input_zero_point, m.output_scale, m.output_zero_point)
    )
    return emit_int8_firmware(em, name, x, tmp), run_int8(m.program, x).output, mem


@pytest.mark.parametrize(
    "name",
    [
        "hello_world_int8",
        "micro_speech_quantized",
        "resnet_tiny",
        "gated_mlp",
        "bottleneck",
        "branchy",
        "pad_mean",
        "sigmoid_tanh",
        "edge_ops",
        "person_detect",
    ],
)
def test_host_c_is_bit_exact_with_the_golden_model(name: str, tmp_path: Path) -> None:
    require_tool("gcc")
    em, want, _ = _firmware(name, 6, tmp_path)
    exe = runners.compile_host(em.sources, tmp_path / "fw", sanitize=True, include_dirs=em.include_dirs)
    got = decode_int8_records(runners.run_host(exe, timeout_s=120).records)
    assert np.array_equal(got, want)


def test_partial_execution_in_c_keeps_every_bit(tmp_path: Path) -> None:
    """bottleneck with and without partial execution: the same outputs, the sliced arena smaller."""
    require_tool("gcc")
    outs, arenas = [], []
    for pex in (False, True):
        d = tmp_path / str(pex)
        em, want, mem = _firmware("bottleneck", 4, d, Int8MemoryOptions(partial_execution=pex))
        exe = runners.compile_host(em.sources, d / "fw", sanitize=False, include_dirs=em.include_dirs)
        outs.append(decode_int8_records(runners.run_host(exe).records))
        arenas.append(mem.arena_bytes)
        assert np.array_equal(outs[-1], want)
        assert f"HLSFIX_ARENA_BYTES {mem.arena_bytes}" in em.header.read_text()
    assert arenas[1] * 2 <= arenas[0]


@pytest.mark.parametrize("name", ["ds_cnn_tiny", "bottleneck"])
def test_cortex_m4_in_qemu_is_bit_exact_and_counts_instructions(name: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    em, want, mem = _firmware(name, 3, tmp_path)
    elf = runners.compile_cortex_m(
        em.sources, tmp_path / "fw.elf", cpu="cortex-m4", include_dirs=em.include_dirs
    )
    run = runners.run_qemu(elf, machine="mps2-an386", timeout_s=300)
    assert np.array_equal(decode_int8_records(run.records), want)
    assert run.unit == "instructions" and len(run.measurements) == 3 and min(run.measurements) > 1000
    _, ram = runners.cortex_m_size(elf)
    assert mem.arena_bytes <= ram < mem.arena_bytes + 256


def test_float_input_and_output_in_c_match_the_model(tmp_path: Path) -> None:
    """float_io: QUANTIZE and DEQUANTIZE become hlsfix_set_input_float / hlsfix_get_output_float,
    rounding exactly as TFLM does (host build with the sanitizers)."""
    require_tool("gcc")
    from hlsfix.flows.int8 import compile_tflite
    from hlsfix.zoo.int8 import int8_model_path

    cm = compile_tflite(int8_model_path("float_io"))
    x = cm.random_model_inputs(12, seed=5)
    em = emit_int8_model(cm.memory, tmp_path, scales=cm.scales, float_io=cm.float_io)
    em = emit_int8_firmware(em, cm.name, x, tmp_path, float_io=cm.float_io)
    exe = runners.compile_host(em.sources, tmp_path / "fw", sanitize=True, include_dirs=em.include_dirs)
    got = decode_int8_records(runners.run_host(exe).records, float_output=True)
    want = cm.predict(x).reshape(12, -1)
    assert got.dtype == np.float32 and np.array_equal(got.view(np.int32), want.view(np.int32))
