"""Open FPGAs to a bitstream (``hlsfix build --board ulx3s|icebreaker``): the boards and their
amaranth-boards pins, the option checks, the does-not-fit error, and one bitstream built end to end
(the iCEBreaker: the README's command) with its post-route timing and the cocotb bit-exact check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlsfix.board.fpga_boards import get_fpga_board
from hlsfix.board.open_fpga import (
    OpenProject,
    overflow,
    run_open_flow,
    utilisation_from_log,
    write_open_project,
)
from hlsfix.board.resources import Resources, check_fit
from hlsfix.cli import main
from hlsfix.errors import BoardError, ToolError
from tests.board.standin import SumAccelerator
from tests.tools import require_tool, tool_missing

ULX3S, ICEBREAKER = get_fpga_board("ulx3s"), get_fpga_board("icebreaker")


def require_open_flow(board) -> None:
    from hlsfix.board.open_fpga import flow_environment

    try:
        flow_environment(board)
    except ToolError as e:
        tool_missing(str(e))


@pytest.mark.parametrize(
    ("board", "device", "package", "clock_hz"),
    [(ULX3S, "LFE5U-85F", "BG381", 25_000_000), (ICEBREAKER, "iCE40UP5K", "SG48", 12_000_000)],
)
def test_open_boards_are_their_amaranth_boards_platforms(board, device, package, clock_hz) -> None:
    platform = board.platform()
    assert board.is_open and type(platform).__name__ == board.platform_class
    assert (platform.device, platform.package, board.device, board.package) == (
        device,
        package,
        device,
        package,
    )
    assert platform.default_clk_frequency == board.clock_hz == clock_hz


def test_the_icebreaker_capacity_is_the_up5k() -> None:
    cap = ICEBREAKER.capacity
    assert (cap.lut, cap.dsp, cap.bram36, ICEBREAKER.spram_bytes) == (5_280, 8, 30, 128 * 1024)
    assert (ICEBREAKER.lut_cell, ICEBREAKER.dsp_cell, ICEBREAKER.bram_cell) == ("LC", "SB_MAC16", "EBR")
    assert not get_fpga_board("arty-a7").is_open


@pytest.mark.parametrize(
    ("board", "constraints", "pins"),
    [
        (
            ICEBREAKER,
            "hlsfix_top.pcf",
            ["uart_0__rx__io 6", "uart_0__tx__io 9", "button_0__io 10", "led_1__io 37"],
        ),
        (
            ULX3S,
            "hlsfix_top.lpf",
            ['"uart_0__rx__io" SITE "M1"', '"uart_0__tx__io" SITE "L4"', '"led_3__io" SITE "D2"'],
        ),
    ],
)
def test_the_project_takes_the_host_link_pins_from_amaranth_boards(
    tmp_path, board, constraints, pins
) -> None:
    from hlsfix.board.top import BoardTop

    top = BoardTop(lambda: SumAccelerator(4, 16), board, n_inputs=4)
    project = write_open_project(top, board, tmp_path)
    text = (tmp_path / constraints).read_text()
    for pin in pins:
        assert pin in text
    script = project.script.read_text()
    assert f"--report {project.report.name}" in script and "--timing-allow-fail" in script
    assert project.bitstream.suffix == {"ecp5": ".bit", "ice40": ".bin"}[board.toolchain]


NEXTPNR_OVERFULL_LOG = """\
Info: Device utilisation:
Info: 	         ICESTORM_LC:  9120/ 5280   172%
Info: 	        ICESTORM_RAM:    12/   30    40%
Info: 	              SB_IO:     6/   39    15%
Info: 	        ICESTORM_DSP:    11/    8   137%
ERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_LC'
"""


def test_a_design_too_big_for_the_part_is_one_line_with_the_numbers(tmp_path, monkeypatch) -> None:
    used = utilisation_from_log(NEXTPNR_OVERFULL_LOG)
    assert used["ICESTORM_LC"] == (9120, 5280) and used["SB_IO"] == (6, 39)
    assert overflow(ICEBREAKER, used) == ["LC 9120 > 5280", "SB_MAC16 11 > 8"]
    # The flow itself: a script that fails the way nextpnr does, leaving its log.
    require_open_flow(ICEBREAKER)
    (tmp_path / "build.sh").write_text("printf '%s' \"$LOG\" > top.tim\necho 'ERROR: no BELs' >&2\nexit 1\n")
    project = OpenProject(
        tmp_path,
        "top",
        tmp_path / "build.sh",
        tmp_path / "top.bin",
        tmp_path / "r.json",
        tmp_path / "top.tim",
    )
    monkeypatch.setenv("LOG", NEXTPNR_OVERFULL_LOG)
    with pytest.raises(BoardError) as e:
        run_open_flow(project, ICEBREAKER)
    assert str(e.value) == (
        "design must fit icebreaker (iCE40UP5K-SG48), not exceed it: LC 9120 > 5280; SB_MAC16 11 > 8"
    )
    assert "\n" not in str(e.value)


def test_the_lane_choice_names_the_parts_own_cells() -> None:
    with pytest.raises(BoardError) as e:
        check_fit(Resources(lut=6_000, ff=100, dsp=9, bram36=2, estimator="x"), ICEBREAKER)
    assert "LC 6000 > 4752" in str(e.value) and "SB_MAC16 9 > 7.2" in str(e.value)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--run-vivado"], "--run-vivado does nothing in an icebreaker build (no Vivado), so it is refused"),
        (["--backend", "hls"], "--backend hls needs a Xilinx board (arty-a7, …), not icebreaker"),
        (["--host", "arduino-uno"], "--host needs a Xilinx board (arty-a7, …), not icebreaker"),
    ],
)
def test_options_an_open_board_cannot_honour_are_refused(tmp_path, capsys, flags, message) -> None:
    out = tmp_path / "out"
    assert main(["build", "sklearn-logreg", "--board", "icebreaker", *flags, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(message) and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_the_icebreaker_bitstream_is_built_timed_and_checked(tmp_path: Path, capsys) -> None:
    """The README's command, end to end (about 2 minutes): Yosys + nextpnr-ice40 + icepack."""
    require_tool("iverilog")
    require_open_flow(ICEBREAKER)
    out = tmp_path / "ice"
    argv = [
        "build",
        "sklearn-logreg",
        "--board",
        "icebreaker",
        "--lanes",
        "1",
        "--no-uno",
        "-q",
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    fpga, rtl = report["fpga"], report["rtl"]
    bitstream = out / fpga["bitstream"]
    assert (
        fpga["bitstream"] == "icebreaker/hlsfix_top.bin"
        and bitstream.stat().st_size == fpga["bitstream_bytes"]
    )
    # An iCE40UP5K image is about 104 KB; icepack writes it with its sync word.
    assert 100_000 < fpga["bitstream_bytes"] < 140_000 and b"\x7e\xaa\x99\x7e" in bitstream.read_bytes()[:64]
    assert (fpga["board"], fpga["part"], fpga["fits"]) == ("icebreaker", "iCE40UP5K-SG48", True)
    assert (
        0 < fpga["lut"] <= 5_280
        and 0 < fpga["ff"] <= fpga["lut"]
        and fpga["bram36"] <= 30
        and fpga["dsp"] <= 8
    )
    assert "nextpnr-ice40" in fpga["estimator"] and "nextpnr-ice40" in fpga["timing_estimator"]
    assert fpga["fmax_mhz"] >= 12.0 and fpga["critical_path"]
    assert rtl["lanes"] == 1 and rtl["bit_exact"] is True and rtl["checked_inputs"] == 5
    # Microseconds at the board's 12 MHz (the design is faster than its oscillator).
    assert rtl["us_at_fmax"] == round(rtl["cycles"] / min(fpga["fmax_mhz"], 12.0), 3)
    assert rtl["us_at_fmax"] == pytest.approx(rtl["cycles"] / 12.0, abs=0.01)
    md = (out / "report.md").read_text()
    assert "icebreaker/hlsfix\\_top.bin" in md and "| LC |" in md and "| EBR |" in md  # (Markdown-escaped)
    for name in ("hlsfix_top.pcf", "build_hlsfix_top.sh", "hlsfix_top_nextpnr.json"):
        assert (out / "icebreaker" / name).is_file()


def test_auto_lanes_on_the_icebreaker_reject_what_its_cells_cannot_hold() -> None:
    from hlsfix.board.arty import choose_lanes, lanes_tried

    def estimate(p: int) -> Resources:  # a design whose logic grows with P: 2,400 LCs a lane
        return Resources(lut=2_400 * p, ff=900 * p, dsp=p, bram36=6, estimator="test")

    choice = choose_lanes(estimate, ICEBREAKER)
    assert choice.lanes == 1
    # P = 2 would need 4,800 LCs, over 90 % of 5,280: predicted not to fit, so never synthesised;
    # the report says so for every larger P.
    rows = {r["lanes"]: r["verdict"] for r in lanes_tried(choice, ICEBREAKER)}
    assert rows[1] == "chosen" and sorted(rows) == [1, 2, 4, 8, 16]
    assert rows[2] == "rejected, not synthesised: predicted from the synthesis of P = 1: LC 4800 > 4752"

    def too_big(p: int) -> Resources:
        return Resources(lut=6_000 * p, ff=900 * p, dsp=p, bram36=6, estimator="test")

    with pytest.raises(BoardError) as e:
        choose_lanes(too_big, ICEBREAKER)
    assert str(e.value) == (
        "design must fit icebreaker (iCE40UP5K-SG48) within 90% of each resource, not exceed it: "
        "LC 6000 > 4752 by 1248"
    )
