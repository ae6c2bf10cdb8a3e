"""``hlsfix build --board arduino-uno``: sources, sketch and Makefile written, the simavr firmware
bit-exact with the golden model, and the design checked against the Uno's flash and RAM."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import hlsfix
from hlsfix.boards import BOARDS, get_board
from hlsfix.cli import main
from hlsfix.errors import BoardError
from hlsfix.mcu.uno import build_uno, check_fit
from tests.tools import require_tool

UNO = BOARDS["arduino-uno"]
MCU_KEYS = {
    "board",
    "flash_bytes",
    "ram_bytes",
    "stack_bytes",
    "cycles",
    "ms_at_16mhz",
    "cycles_float",
    "speedup",
    "float_flash_bytes",
    "float_ram_bytes",
    "float_stack_bytes",
    "float_note",
    "bit_exact",
    "checked_inputs",
    "simulator",
    "model_flash_bytes",
    "input_cycles",
    "flash_capacity_bytes",
    "sketch_flash_bytes",
    "sketch_ram_bytes",
    "sketch_note",
}


def require_avr() -> None:
    for tool in ("avr-gcc", "avr-size", "gcc"):
        require_tool(tool)


@pytest.mark.parametrize("name", ["protonn", "bonsai"])
def test_cli_build_fits_the_uno_and_is_bit_exact(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_avr()
    out = tmp_path / "out"
    assert main(["build", name, "--board", "arduino-uno", "--bits", "16", "-q", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    mcu = report["mcu"]
    assert set(mcu) == MCU_KEYS
    assert mcu["bit_exact"] is True and mcu["checked_inputs"] == 20 and mcu["simulator"] == "simavr"
    assert mcu["board"] == "arduino-uno"
    assert 0 < mcu["flash_bytes"] <= 32256
    assert mcu["stack_bytes"] > 0 and mcu["ram_bytes"] + mcu["stack_bytes"] <= 2048
    assert mcu["cycles"] > 0 and mcu["ms_at_16mhz"] == pytest.approx(mcu["cycles"] / 16_000, abs=1e-3)
    # the float build of the same model on the same inputs: slower, and it fits too
    assert mcu["float_note"] is None and mcu["cycles_float"] > mcu["cycles"]
    assert mcu["speedup"] == pytest.approx(mcu["cycles_float"] / mcu["cycles"], abs=0.01)
    assert mcu["float_ram_bytes"] + mcu["float_stack_bytes"] <= 2048
    mem = report["memory"]
    # plus the plan's pictures (tests/mcu/test_build_pictures.py): SVG always, PNG with matplotlib
    assert set(mem) - {"picture_png"} == {"arena_bytes", "lower_bound_bytes", "linear_bytes", "picture_svg"}
    assert mem["lower_bound_bytes"] <= mem["arena_bytes"] <= mem["linear_bytes"]
    assert "## arduino-uno: fit and speed" in (out / "report.md").read_text()
    for f in (
        "program.json",
        "constants.npz",
        "model.h",
        "model.c",
        "hlsfix_kernels.c",
        "main.c",
        "Makefile",
    ):
        assert (out / f).is_file(), f
    sketch = out / "sketch" / name
    assert (sketch / f"{name}.ino").is_file()
    for f in ("model.h", "model.c", "hlsfix_kernels.c", "hlsfix_kernels.h", "hlsfix_arith.h"):
        assert (sketch / f).is_file(), f
    assert "hlsfix_predict_float" in (sketch / f"{name}.ino").read_text()
    out_text = capsys.readouterr().out
    assert "bit-exact on 20 inputs" in out_text
    assert (
        f"float baseline: {mcu['cycles_float']} cycles, fixed point is {mcu['speedup']}x faster" in out_text
    )
    # The Makefile builds with plain avr-gcc, without warnings, into something that fits.
    if shutil.which("make") and shutil.which("avr-objcopy"):
        proc = subprocess.run(["make", "-C", str(out)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "warning" not in proc.stderr
        assert (out / f"{name}.hex").is_file()


@pytest.mark.parametrize(
    ("board", "message"),
    [
        (
            "x",
            "hlsfix: error: board must be one of arduino-uno, arty-a7, arty-a7-35, arty-a7-100, ulx3s, "
            "icebreaker, not 'x'",
        ),
    ],
)
def test_unknown_or_unbuilt_board_is_one_line_exit_2(
    board: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["build", "--board", board, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == message
    assert not out.exists()


def test_get_board() -> None:
    assert get_board("arduino-uno") == UNO
    assert (UNO.mcu, UNO.f_cpu_hz, UNO.flash_bytes, UNO.ram_bytes) == ("atmega328p", 16_000_000, 32256, 2048)
    with pytest.raises(BoardError, match="board must be one of arduino-uno, arty-a7, .*, not 'uno'"):
        get_board("uno")


def test_check_fit_names_what_overflowed_and_by_how_much() -> None:
    check_fit(UNO, 32256, 2000, 48)
    with pytest.raises(
        BoardError, match=r"RAM must fit the Uno's 2048 bytes, not need 2210 \(static 1900 \+ stack 310\)"
    ):
        check_fit(UNO, 1000, 1900, 310)
    with pytest.raises(
        BoardError, match=r"flash must fit the Uno's 32256 bytes, not need 40000 \(7744 too many\)"
    ):
        check_fit(UNO, 40000, 100, 10)


def test_a_model_too_big_for_the_uno_is_a_board_error(tmp_path: Path) -> None:
    require_avr()
    cm = hlsfix.compile("cnn", bits=32)
    with pytest.raises(BoardError, match="RAM must fit the Uno's 2048 bytes, not need"):
        build_uno(cm, tmp_path / "out")


def test_cli_too_big_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_avr()
    out = tmp_path / "out"
    assert main(["build", "cnn", "--bits", "32", "-q", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hlsfix: error: arduino-uno: RAM must fit") and "\n" not in err
    assert not out.exists()


def test_the_sketch_builds_against_the_real_arduino_core(tmp_path: Path) -> None:
    """arduino-builder + Debian's Arduino AVR core: the IDE's flash and RAM figures of the sketch
    the user flashes go into the report beside the test firmware's."""
    require_avr()
    require_tool("arduino-builder")
    cm = hlsfix.compile("bonsai-binary", bits="mixed")
    built = build_uno(cm, tmp_path / "out", n_inputs=2, arduino=True)
    assert built.sketch is not None and built.sketch.elf.is_file()
    mcu = built.mcu_report()
    assert mcu["flash_capacity_bytes"] == 32256 == built.sketch.max_flash_bytes
    # the sketch adds the Arduino core (Serial, float printing) to the model
    assert 1000 < built.flash_bytes < mcu["sketch_flash_bytes"] <= 32256
    # the model alone (constants and code), without the firmware's two test inputs and harness
    inputs = 2 * cm.program.input_buffer.nbytes
    assert 500 < mcu["model_flash_bytes"] < built.flash_bytes - inputs
    assert 0 < mcu["sketch_ram_bytes"] < 2048 and mcu["sketch_note"] is None
    # the sketch's float input path, measured in simavr: no float arithmetic (library calls of
    # ~100 cycles each), so well under 300 cycles an input value
    assert 0 < mcu["input_cycles"] < 300 * cm.program.input_buffer.size


def test_an_8_bit_uno_build_reports_its_rounding_kernels(tmp_path: Path) -> None:
    """The Uno build's report carries the compile report's rounding count (issue 16), matching the
    round_out flags of the program.json it wrote."""
    require_avr()
    out = tmp_path / "out"
    assert main(["build", "bonsai", "--board", "arduino-uno", "--bits", "8", "-q", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    flagged = (out / "program.json").read_text().count('"round_out": true')
    assert report["mcu"]["bit_exact"] is True
    assert report["choice"]["rounding"]["mode"] == "auto"
    assert report["choice"]["rounding"]["round_out_kernels"] == flagged > 0
    assert f"rounding: auto ({flagged} kernels round their final shift" in (out / "report.md").read_text()
