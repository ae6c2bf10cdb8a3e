"""Vendor-free timing: nextpnr's post-route report and Yosys' sta read into frozen results, a real
place-and-route of a small registered datapath on the ECP5, and the Vivado flow's slack check."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlsfix.board import timing
from hlsfix.board.timing import (
    ECP5_PLACER_NAME,
    ECP5_PLACER_OPTIONS,
    Timing,
    parse_nextpnr_report,
    parse_sta,
    place_and_route_ecp5,
)
from hlsfix.errors import ToolError
from tests.tools import tool_missing


def _step(kind: str, cell: str, delay: float) -> dict:
    end = {"cell": cell, "port": "Q", "loc": [1, 1]}
    return {"type": kind, "delay": delay, "from": end, "to": end}


REPORT = {
    "fmax": {"clk_a": {"achieved": 123.4, "constraint": 100}, "clk_b": {"achieved": 87.5, "constraint": 100}},
    "critical_paths": [
        {
            "from": "clk_b",
            "to": "clk_b",
            "path": [
                _step("clk-to-q", "acc_0_TRELLIS_FF_Q_3", 0.5),
                _step("routing", "acc_0_TRELLIS_FF_Q_3", 1.5),
                _step("logic", "w0val_0_LUT4_Z", 4.0),
                _step("routing", "w0val_0_LUT4_Z", 3.0),
                _step("setup", "w0val_0_TRELLIS_FF_Q", 0.0),
            ],
        }
    ],
    "utilization": {
        "TRELLIS_COMB": {"used": 1234, "available": 43848},
        "MULT18X18D": {"used": 0, "available": 72},
        "DP16KD": {"used": 5, "available": 108},
    },
}


def test_nextpnr_report_gives_the_worst_clock_and_its_path() -> None:
    t = parse_nextpnr_report(REPORT, 100.0, "nextpnr-ecp5 --45k --speed 6")
    assert t.fmax_mhz == 87.5 and not t.meets_target
    assert (t.path_from, t.path_to) == ("acc_0", "w0val_0")
    assert (t.logic_ns, t.routing_ns) == (4.5, 4.5)
    assert "9.00 ns" in t.critical_path and "50%" in t.critical_path
    assert t.cells_used == (("DP16KD", 5, 108), ("TRELLIS_COMB", 1234, 43848))  # unused types left out
    keys = t.report()
    assert keys == {
        "fmax_mhz": 87.5,
        "timing_estimator": "nextpnr-ecp5 --45k --speed 6",
        "critical_path": t.critical_path,
    }
    with pytest.raises(ToolError, match="must name a clock"):
        parse_nextpnr_report({"fmax": {}}, 100.0, "x")


STA_LOG = """4. Executing STA pass (static timing analysis).
Warning: Module 'FDRE' has no timing arcs!
Latest arrival time in 'hlsfix_accel' is 5998:
    5998 $mul$hlsfix_accel.v:2094$1549.sliceA.last (DSP48E1.PCIN)
           $abc$254557$aiger$i2891
    2135 $auto$abc_ops_reintegrate.cc:694:reintegrate$254868 (LUT5.I4->O)
           $techmap255421.A [4]
       0   \\clk (<primary input>)
Warning: Endpoint hlsfix_accel.\\out__valid has no (* sta_arrival *) value.
"""


def test_yosys_sta_gives_the_latest_arrival() -> None:
    sta = parse_sta(STA_LOG, "yosys sta")
    assert sta.arrival_ns == pytest.approx(5.998)
    assert sta.bound_mhz == pytest.approx(1000 / 5.998)
    assert len(sta.path) == 2 and "DSP48E1.PCIN" in sta.path[0]
    with pytest.raises(ToolError, match="latest arrival"):
        parse_sta("no timing here", "yosys sta")


MAC_VERILOG = """
module mac(input clk, input signed [15:0] a, input signed [15:0] b, input clr,
           output reg signed [31:0] acc);
  reg signed [15:0] ar, br;
  reg signed [31:0] p;
  always @(posedge clk) begin
    ar <= a; br <= b; p <= ar * br;
    acc <= clr ? 32'sd0 : acc + p;
  end
endmodule
"""


def test_a_registered_mac_places_and_routes_on_the_ecp5(tmp_path: Path, monkeypatch) -> None:
    """The real flow, on a design small enough for seconds: a figure nextpnr measured, the
    speed grade and the placer's weights in the estimator (and on nextpnr's command line), and
    a path that starts and ends in registers of the design."""
    src = tmp_path / "mac.v"
    src.write_text(MAC_VERILOG)
    commands = []
    real_run = timing._run

    def recording_run(cmd, *args, **kwargs):
        commands.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(timing, "_run", recording_run)
    try:
        t = place_and_route_ecp5(src, "mac", device="25k", target_mhz=100.0)
    except ToolError as e:
        if "installed" in str(e):
            tool_missing(str(e))
        raise
    assert isinstance(t, Timing)
    assert 20.0 < t.fmax_mhz < 1000.0
    assert "--speed 6" in t.estimator and "post-route" in t.estimator
    assert ECP5_PLACER_NAME in t.estimator  # the placer's weights are part of how it was obtained
    nextpnr = commands[-1]
    at = nextpnr.index(ECP5_PLACER_OPTIONS[0])
    assert tuple(nextpnr[at : at + len(ECP5_PLACER_OPTIONS)]) == ECP5_PLACER_OPTIONS
    assert t.logic_ns > 0 and t.steps
    used = {name: (n, cap) for name, n, cap in t.cells_used}
    assert 0 < used["TRELLIS_FF"][0] < used["TRELLIS_FF"][1] and used["TRELLIS_COMB"][0] > 0


def test_several_seeds_route_one_synthesis_and_report_the_worst(tmp_path: Path) -> None:
    """nextpnr's Fmax moves by a few MHz between placement seeds: with ``seeds`` the figure is
    the worst of them, and the estimator lists every seed's result."""
    src = tmp_path / "mac.v"
    src.write_text(MAC_VERILOG)
    try:
        t = place_and_route_ecp5(src, "mac", device="25k", seeds=(1, 2))
    except ToolError as e:
        if "installed" in str(e):
            tool_missing(str(e))
        raise
    each = [float(x) for x in t.estimator.split("(")[-1].split(" MHz")[0].split(", ")]
    assert "worst of seeds 1, 2" in t.estimator and len(each) == 2
    assert t.fmax_mhz == pytest.approx(min(each), abs=0.05)
    with pytest.raises(ToolError, match="at least one"):
        place_and_route_ecp5(src, "mac", seeds=())


def test_router2_is_named_in_the_estimator_and_an_unknown_router_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "mac.v"
    src.write_text(MAC_VERILOG)
    try:
        t = place_and_route_ecp5(src, "mac", device="25k", router="router2")
    except ToolError as e:
        if "installed" in str(e):
            tool_missing(str(e))
        raise
    assert "--router router2" in t.estimator and 20.0 < t.fmax_mhz < 1000.0
    with pytest.raises(ToolError, match="router must be one of"):
        place_and_route_ecp5(src, "mac", router="router3")


def test_vivado_flow_writes_a_timing_summary_and_fails_on_negative_slack(tmp_path: Path) -> None:
    pytest.importorskip("amaranth_boards")
    from amaranth.hdl import Elaboratable, Module, Signal

    from hlsfix.board.arty import write_vivado_project
    from hlsfix.board.fpga_boards import get_fpga_board

    class Blink(Elaboratable):
        def elaborate(self, platform):
            m = Module()
            count = Signal(24)
            m.d.sync += count.eq(count + 1)
            return m

    project = write_vivado_project(Blink(), get_fpga_board("arty-a7"), tmp_path, name="blink")
    tcl = project.tcl.read_text()
    route, check, bitstream = (tcl.index(s) for s in ("route_design", "hlsfix_wns", "write_bitstream"))
    assert route < check < bitstream
    assert "report_timing_summary -max_paths 10 -file blink_timing_summary.rpt" in tcl
    assert "if {$hlsfix_wns < 0 || $hlsfix_whs < 0} {" in tcl and "error" in tcl


def test_a_build_gives_microseconds_at_the_fmax_it_was_shown(tmp_path: Path) -> None:
    """The board build puts the timing into the report's fpga keys and turns cycles into
    microseconds at the post-route Fmax (here a stub of 80 MHz, below the Arty's 100 MHz)."""
    from tests.tools import require_tool

    require_tool("iverilog")
    pytest.importorskip("amaranth_boards")
    import hlsfix
    from hlsfix.board.arty import build_arty
    from hlsfix.board.fpga_boards import get_fpga_board
    from hlsfix.board.resources import Resources

    seen = []

    def timing(verilog: Path) -> Timing:
        seen.append("module hlsfix_accel" in verilog.read_text())
        return Timing(80.0, 100.0, "stub", "a", "b", 5.0, 7.5)

    built = build_arty(
        hlsfix.compile("protonn"),
        tmp_path / "out",
        get_fpga_board("arty-a7"),
        lanes=1,
        n_inputs=2,
        compare_uno=False,
        estimate=lambda p: Resources(2963, 799, 4, 0.5, "stub"),
        timing=timing,
    )
    assert seen == [True]
    assert built.fpga["fmax_mhz"] == 80.0 and built.fpga["timing_estimator"] == "stub"
    assert built.fpga["critical_path"].startswith("a -> b: 12.50 ns")
    assert built.rtl["us_at_fmax"] == round(built.rtl["cycles"] / 80.0, 3)
