"""hlsfix.compile on an int8 .tflite (no calibration data), predict = TFLM, save's reports, and
build_cortexm: the board project, the fit check and the QEMU run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.boards import CORTEX_M_BOARDS, get_cortex_m_board
from hlsfix.errors import BoardError, DataError
from hlsfix.flows.int8 import CompiledInt8Model
from hlsfix.zoo.int8 import int8_model_path
from tests.tools import require_tool


@pytest.mark.usefixtures("require_tflm")
def test_compile_a_tflite_file_and_predict_what_tflm_returns() -> None:
    from hlsfix.fixedpoint.int8.tflm_oracle import tflm_run

    path = int8_model_path("micro_speech_quantized")
    cm = hlsfix.compile(str(path))
    assert isinstance(cm, CompiledInt8Model)
    x = cm.random_inputs(12, seed=4).astype(np.int8)
    y = cm.predict(x)
    assert y.dtype == np.int8 and y.shape == (12, 4)
    assert np.array_equal(y.astype(np.int64), tflm_run(path, x))


def test_predict_takes_the_models_own_int8_inputs_only() -> None:
    cm = hlsfix.compile("hello_world_int8")
    assert cm.predict(np.array([[5], [-7]], dtype=np.int8)).shape == (2, 1)
    with pytest.raises(DataError):
        cm.predict(np.array([[0.5]], dtype=np.float32))
    with pytest.raises(DataError):
        cm.predict(np.array([[300]]))


@pytest.mark.usefixtures("require_tflm")
def test_save_writes_the_memory_and_tflm_sections(tmp_path: Path) -> None:
    cm = hlsfix.compile("bottleneck")
    cm.save(tmp_path, tflm_inputs=5)
    report = json.loads((tmp_path / "report.json").read_text())
    mem, tflm = report["memory"], report["tflm"]
    assert mem["arena_bytes"] * 2 <= mem["lower_bound_bytes"]  # partial execution
    assert mem["arena_bytes"] < tflm["arena_head_bytes"]
    assert tflm["bit_exact"] and tflm["checked_inputs"] == 5
    md = (tmp_path / "report.md").read_text()
    assert "TFLM's arena: activations" in md and "slices" in md
    assert (tmp_path / "memory.svg").read_text().startswith("<svg")
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html and "activations" in html and f"{mem['arena_bytes']:,} bytes" in html


def test_cortex_m_boards() -> None:
    f4, l4 = get_cortex_m_board("nucleo-f446re"), get_cortex_m_board("nucleo-l4r5zi")
    assert (f4.ram_bytes, f4.flash_bytes) == (128 * 1024, 512 * 1024)
    assert l4.ram_bytes >= 256 * 1024
    m7 = get_cortex_m_board("nucleo-f767zi")
    assert m7.cpu == "cortex-m7" and m7.qemu_machine == "mps2-an500" and m7.ram_bytes >= 256 * 1024
    for b in CORTEX_M_BOARDS.values():
        from hlsfix.mcu.runners import QEMU_MACHINES

        assert QEMU_MACHINES[b.qemu_machine] == b.cpu
    with pytest.raises(BoardError):
        get_cortex_m_board("nucleo-xyz")


def test_build_cortexm_project_fits_and_runs_bit_exact(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("make")
    cm = hlsfix.compile("ds_cnn_tiny")
    built = cm.build("nucleo-f446re", tmp_path / "out", n_inputs=3, tflm_inputs=0)
    assert built.fits and built.elf is not None and built.elf.exists()
    assert (built.project_dir / "Makefile").exists() and (built.project_dir / "nucleo-f446re.ld").exists()
    assert built.qemu is not None and built.qemu.bit_exact and built.qemu.checked_inputs == 3
    assert built.ram_bytes >= built.arena_bytes
    mcu = json.loads((tmp_path / "out" / "report.json").read_text())["mcu"]
    assert mcu["unit"] == "instructions" and mcu["instructions"] > 0 and "cycles" not in mcu


def test_build_cortexm_reports_a_model_that_does_not_fit(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("make")
    from hlsfix.flows.int8 import build_cortexm

    cm = hlsfix.compile_tflite(int8_model_path("bottleneck"), partial_execution=False)
    tiny = replace(get_cortex_m_board("nucleo-f446re"), name="tiny-m4", ram_bytes=64 * 1024)
    built = build_cortexm(cm, tmp_path / "out", tiny, run_qemu=False, tflm_inputs=0)
    assert not built.fits and built.elf is None and built.ram_bytes > 64 * 1024
    sliced = build_cortexm(
        hlsfix.compile("bottleneck"), tmp_path / "pex", tiny, run_qemu=False, tflm_inputs=0
    )
    assert sliced.fits  # partial execution makes it fit


@pytest.mark.parametrize("name", ["branchy", "bottleneck", "sigmoid_tanh", "pad_mean", "person_detect"])
def test_program_json_round_trips(name: str, tmp_path: Path) -> None:
    from hlsfix.fixedpoint.int8.golden import run_int8
    from hlsfix.fixedpoint.program import KernelProgram

    cm = hlsfix.compile(name)
    cm.program.save(tmp_path)
    loaded = KernelProgram.load(tmp_path)
    assert loaded.kernels == cm.program.kernels
    x = cm.random_inputs(4)
    assert np.array_equal(run_int8(loaded, x).output, run_int8(cm.program, x).output)


def test_cortex_m7_board_in_qemu_an500(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("make")
    built = hlsfix.compile("resnet_tiny").build("nucleo-f767zi", tmp_path / "m7", n_inputs=2, tflm_inputs=0)
    assert built.fits and built.qemu is not None and built.qemu.bit_exact
    assert "cortex-m7" in built.qemu.simulator
