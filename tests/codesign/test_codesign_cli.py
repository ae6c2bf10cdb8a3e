"""``hlsfix build --host`` and ``hlsfix sim --host``: both sides' files, the codesign report,
and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlsfix.cli import main
from tests.tools import require_tool

pytest.importorskip("cocotb_tools")


@pytest.mark.slow
def test_build_for_an_uno_host_writes_both_sides_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for tool in ("iverilog", "gcc", "avr-gcc", "simavr"):
        require_tool(tool)
    out = tmp_path / "out"
    args = ["build", "protonn", "--board", "arty-a7", "--host", "arduino-uno", "--no-synth", "--inputs", "3"]
    assert main([*args, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "bit-exact on 3 inputs" in printed and "all on the host" in printed
    # FPGA side: a Vivado project whose SPI pins are Pmod JA 1-4 (G13, B11, A11, D12 on the Arty)
    xdc = (out / "fpga" / "hlsfix_codesign_top.xdc").read_text()
    for pin in ("G13", "B11", "A11", "D12"):
        assert f"LOC {pin}" in xdc
    assert "module hlsfix_codesign_top" in (out / "fpga" / "hlsfix_codesign_top.v").read_text()
    # host side: the sketch with its sources, the wiring notes, the map header
    sketch = out / "host" / "sketch" / "protonn_host"
    assert (sketch / "protonn_host.ino").is_file() and (sketch / "hlsfix_accel.c").is_file()
    assert "Pmod JA pin 4" in (out / "host" / "WIRING.md").read_text()
    assert "HLSFIX_ACCEL_ID_VALUE" in (out / "host" / "hlsfix_accel_map.h").read_text()
    report = json.loads((out / "report.json").read_text())
    cd = report["codesign"]
    assert cd["host"] == "arduino-uno" and cd["bit_exact"] is True and cd["checked_inputs"] == 3
    assert [k["side"] for k in cd["partition"]] == [
        "fpga" if c == "F" else "mcu" for c in cd["simulated"]["partition"]
    ]
    sim, base = cd["simulated"], cd["baselines_simulated"]
    assert sim["total_cycles"] <= base["all_mcu"]["total_cycles"]
    assert sim["total_cycles"] <= base["all_fpga"]["total_cycles"]
    assert sim["link_bytes"] > 0 and cd["predicted"]["fpga_cycles"] == sim["fpga_cycles"]
    assert "## Co-design" in (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "Co-design: arduino-uno + FPGA over spi" in html and "host cycles per inference" in html


@pytest.mark.slow
def test_sim_for_a_microblaze_host_reports_estimates(tmp_path: Path) -> None:
    for tool in ("iverilog", "gcc", "arm-none-eabi-gcc", "qemu-system-arm"):
        require_tool(tool)
    out = tmp_path / "out"
    assert main(["sim", "bonsai", "--host", "microblaze", "--inputs", "3", "-o", str(out)]) == 0
    cd = json.loads((out / "report.json").read_text())["codesign"]
    assert cd["link"] == "axi4-lite" and cd["estimated"] is True
    assert cd["simulated"]["bit_exact"] is True and cd["simulated"]["checked_inputs"] == 3
    assert "bonsai on microblaze + FPGA" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "protonn", "--host", "arduino-uno"], "--host needs an FPGA board"),
        (["build", "protonn", "--board", "arty-a7", "--host", "arduino-uno", "--pin", "9=mcu"], "0..3"),
        (["sim", "protonn", "--host", "arduino-uno", "--pin", "1=gpu"], "gpu"),
    ],
)
def test_user_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main([*argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()
