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
    assert "lower bound of this order" in (tmp_path / "c" / "report.md").read_text()


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


def test_an_int8_output_redoes_itself_from_its_hlsfix_toml(tmp_path: Path) -> None:
    first, second = tmp_path / "c", tmp_path / "c2"
    assert main(["compile", "gated_mlp", "-o", str(first)]) == 0
    assert main(["compile", "--config", str(first / "hlsfix.toml"), "-o", str(second)]) == 0
    a, b = (json.loads((d / "report.json").read_text()) for d in (first, second))
    assert a["fingerprint"] == b["fingerprint"] and a["memory"] == b["memory"]


def test_an_int8_output_with_a_technique_turned_off_redoes_itself_with_it_off(tmp_path: Path) -> None:
    """hlsfix.toml records --no-partial-execution, so --config redoes the larger arena, not the default."""
    first, second = tmp_path / "c", tmp_path / "c2"
    assert main(["compile", "bottleneck", "--no-partial-execution", "-o", str(first)]) == 0
    assert main(["compile", "--config", str(first / "hlsfix.toml"), "-o", str(second)]) == 0
    a, b = (json.loads((d / "report.json").read_text())["memory"] for d in (first, second))
    assert a == b and b["partial_execution"] is False


def test_each_memory_technique_can_be_turned_off(tmp_path: Path) -> None:
    arenas = {}
    for flags in ([], ["--no-partial-execution"], ["--no-reorder", "--no-partial-execution"]):
        out = tmp_path / ("x" + "".join(f.strip("-")[:6] for f in flags))
        assert main(["compile", "bottleneck", *flags, "-o", str(out)]) == 0
        mem = json.loads((out / "report.json").read_text())["memory"]
        arenas[tuple(flags)] = (mem["arena_bytes"], mem["partial_execution"], mem["reorder"])
    assert arenas[()][0] * 2 <= arenas[("--no-partial-execution",)][0]
    assert arenas[("--no-partial-execution",)][1:] == (False, True)
    assert arenas[("--no-reorder", "--no-partial-execution")][1:] == (False, False)


def test_options_of_the_other_family_are_refused(tmp_path: Path, capsys) -> None:
    assert main(["compile", "bottleneck", "--bits", "8", "-o", str(tmp_path / "a")]) == 2
    assert "--bits applies to float models" in capsys.readouterr().err
    assert main(["compile", "bottleneck", "--rounding", "off", "-o", str(tmp_path / "c")]) == 2
    assert "--rounding applies to float models" in capsys.readouterr().err
    assert main(["compile", "mlp", "--no-reorder", "-o", str(tmp_path / "b")]) == 2
    assert "--no-reorder applies to int8" in capsys.readouterr().err


def test_info_describes_an_int8_model(capsys) -> None:
    assert main(["info", "person_detect"]) == 0
    out = capsys.readouterr().out
    assert "DEPTHWISE_CONV_2D ×14" in out and "parameters: 210706" in out and "arena: 36864" in out
