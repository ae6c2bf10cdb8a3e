"""The command line on int8 TFLite models: compile needs no data, build targets a Cortex-M board."""

from __future__ import annotations

import json
from pathlib import Path

from hlsfix.cli import main
from hlsfix.zoo.int8 import int8_model_path
from tests.tools import require_tool


def test_compile_a_tflite_file_without_calibration_data(tmp_path: Path, capsys) -> None:
    assert main(["compile", str(int8_model_path("bottleneck")), "-o", str(tmp_path / "c")]) == 0
    report = json.loads((tmp_path / "c" / "report.json").read_text())
    assert report["bits"] == "8" and report["memory"]["pex_chains"]
    assert "arena" in capsys.readouterr().out
    assert "lower bound of the given order" in (tmp_path / "c" / "report.md").read_text()


def test_build_for_a_cortex_m_board(tmp_path: Path, capsys) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("make")
    out = tmp_path / "b"
    assert (
        main(["build", "hello_world_int8", "--board", "nucleo-l4r5zi", "--inputs", "4", "-o", str(out)]) == 0
    )
    mcu = json.loads((out / "report.json").read_text())["mcu"]
    assert mcu["board"] == "nucleo-l4r5zi" and mcu["bit_exact"] and mcu["checked_inputs"] == 4 and mcu["fits"]
    assert (out / "project" / "hello_world_int8.elf").exists()
    assert "instructions per inference" in capsys.readouterr().out
