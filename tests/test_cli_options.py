"""Bad command-line options: each is one error line naming the option, exit 2, nothing written.

Every case is refused before the model is compiled, so the table runs in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hlsfix.cli import main

# (arguments, words the one error line must contain)
CASES: list[tuple[list[str], str]] = [
    (
        ["build", "mlp", "--board", "arty-a7", "--lanes", "1000"],
        "--lanes must be auto or an integer from 1 to 64",
    ),
    (["build", "mlp", "--board", "arty-a7", "--lanes", "0"], "--lanes"),
    (["build", "mlp", "--board", "arty-a7", "--lanes", "-1"], "--lanes"),
    (["build", "mlp", "--board", "arty-a7", "--lanes", "two"], "not 'two'"),
    (["build", "mlp", "--board", "arty-a7", "--lanes", "1e3"], "--lanes"),
    (["rtl", "mlp", "--lanes", "65"], "--lanes"),
    (["sim", "mlp", "--lanes", "auto"], "--lanes must be an integer for sim"),
    (["compile", "mlp", "--bits", "mixed", "--budget-pp", "nan"], "--budget-pp must be a finite number"),
    (["compile", "mlp", "--bits", "mixed", "--budget-pp", "inf"], "--budget-pp must be a finite number"),
    (["compile", "mlp", "--bits", "mixed", "--budget-pp", "-1"], "--budget-pp must be a finite number ≥ 0"),
    (["compile", "mlp", "--bits", "mixed", "--budget-pp", "101"], "--budget-pp must be at most 100"),
    (["compile", "mlp", "--budget-pp", "2"], "--budget-pp applies to --bits mixed only"),
    (["compile", "mlp", "--bits", "8", "--weight-budget", "100"], "--weight-budget applies to --bits mixed"),
    (["compile", "mlp", "--bits", "mixed", "--weight-budget", "0"], "--weight-budget must be an integer"),
    (["compile", "mlp", "--bits", "mixed", "--weight-budget", "-5"], "--weight-budget must be an integer"),
    (["compile", "mlp", "--min-sqnr", "40"], "--min-sqnr applies to --bits mixed only"),
    (["compile", "mlp", "--bits", "mixed", "--min-sqnr", "nan"], "--min-sqnr must be a positive finite"),
    (["compile", "mlp", "--bits", "mixed", "--min-sqnr", "500"], "--min-sqnr must be at most 200 dB"),
    (["compile", "mlp", "--bits", "mixed", "--max-rel-err", "0"], "--max-rel-err must be a positive finite"),
    (
        ["compile", "mlp", "--bits", "mixed", "--budget-pp", "1", "--min-sqnr", "40"],
        "give one, not both",
    ),
    (["sim", "mlp", "--pin", "0=mcu"], "--pin applies to a co-design"),
    (["build", "mlp", "--board", "arty-a7", "--pin", "0=mcu"], "--pin does nothing in an accelerator build"),
    (["build", "mlp", "--board", "arduino-uno", "--interface", "axis"], "--interface does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--clock-ns", "5"], "--clock-ns does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--run-vivado"], "--run-vivado does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--baud", "9600"], "--baud does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--lanes", "2"], "--lanes does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--no-uno"], "--no-uno does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--simulator", "icarus"], "--simulator does nothing in"),
    (["build", "mlp", "--board", "arduino-uno", "--backend", "rtl"], "--backend applies to an FPGA board"),
    (["build", "mlp", "--board", "arduino-uno", "--host", "arduino-uno"], "--host needs an FPGA board"),
    (["build", "mlp", "--board", "arty-a7", "--no-synth"], "--no-synth does nothing in an accelerator build"),
    (["build", "mlp", "--board", "arty-a7", "--interface", "axis"], "--interface does nothing in an accel"),
    (
        ["build", "mlp", "--board", "arty-a7", "--backend", "hls", "--lanes", "2"],
        "--lanes does nothing in an HLS",
    ),
    (
        ["build", "mlp", "--board", "arty-a7", "--backend", "hls", "--host", "microblaze"],
        "--host needs the rtl",
    ),
    (
        ["build", "mlp", "--board", "arty-a7", "--backend", "hls", "--clock-ns", "0"],
        "--clock-ns must be a positive",
    ),
    (
        ["build", "mlp", "--board", "arty-a7", "--backend", "hls", "--clock-ns", "nan"],
        "--clock-ns must be a positive",
    ),
    (
        ["build", "mlp", "--board", "arty-a7", "--host", "arduino-uno", "--baud", "9600"],
        "--baud does nothing in a co",
    ),
    (["build", "mlp", "--board", "arduino-uno", "--inputs", "-1"], "--inputs must be an integer from 1"),
    (["build", "mlp", "--board", "arduino-uno", "--inputs", "0"], "--inputs must be an integer from 1"),
    (
        ["build", "mlp", "--board", "arduino-uno", "--inputs", "1000000000"],
        "--inputs must be an integer from 1",
    ),
    (["build", "mlp", "--board", "arty-a7", "--baud", "0"], "--baud must be an integer from 1"),
    (["build", "mlp", "--board", "arty-a8"], "board must be one of arduino-uno, arty-a7"),
    (["build", "mlp", "--board", "nucleo-f446re"], "board nucleo-f446re builds int8 .tflite models"),
    (["sim", "mlp", "--inputs", "0"], "--inputs must be an integer from 1"),
    (
        ["sim", "mlp", "--simulator", "verilator", "--vcd", "w.vcd"],
        "--vcd is written by the icarus simulator",
    ),
    (["sim", "mlp", "--host", "microblaze", "--vcd", "w.vcd"], "--vcd applies to the accelerator alone"),
    (["compile", "mlp", "--config", "no-such-config.toml"], "config file must exist"),
    (["compile", "mlp", "--rounding", "off"], "--rounding applies to --bits 8 and mixed, not --bits 16"),
    (["compile", "mlp", "--bits", "32", "--rounding", "auto"], "--rounding applies to --bits 8 and mixed"),
    (["build", "mlp", "--board", "arduino-uno", "--rounding", "off"], "--rounding applies to --bits 8"),
]


def _one_error_line(err: str) -> str:
    assert err.count("\n") == 1, err
    assert err.startswith("hlsfix: error: ") and "Traceback" not in err
    return err


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[" ".join(a[2:]) or a[0] for a, _ in CASES])
def test_a_bad_option_is_one_error_line(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main([*argv, "-q", "-o", str(out)]) == 2
    assert words in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no output, no staging, nothing else


CONFIGS = [
    ('[compile]\nbits = "12"\n', "--bits must be one of 8, 16, 32, mixed, not '12'"),
    ('[compile]\nbitz = "16"\n', "[compile] key must be one of"),
    ("[gpu]\nx = 1\n", "table must be one of [model], [compile], [build], [sim], not [gpu]"),
    ("[compile\nbits = 1\n", "config file must be TOML"),
    ("[build]\nlanes = 1000\n", "--lanes must be auto or an integer from 1 to 64, not 1000"),
    ('[model]\nmodel = "no-such-model"\n', "no-such-model"),
    ('[compile]\nbits = "8"\nrounding = "nearest"\n', "--rounding must be one of auto, off, not 'nearest'"),
    ('[compile]\nbits = "16"\nrounding = "off"\n', "--rounding applies to --bits 8 and mixed, not --bits 16"),
]


@pytest.mark.parametrize(("text", "words"), CONFIGS)
def test_a_bad_config_file_is_one_error_line(
    text: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    out = tmp_path / "out"
    command = "build" if "[build]" in text else "compile"
    assert main([command, "--config", str(config), "-q", "-o", str(out)]) == 2
    assert words in _one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
