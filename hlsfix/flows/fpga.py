"""``build --board arty-a7…``: the accelerator as a Vivado project (or HLS C++), fit, cycles, reports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.errors import HlsfixError
from hlsfix.flows.compile_flow import stages_of, write_compiled
from hlsfix.flows.mcu import write_plan_pictures
from hlsfix.flows.options import DEFAULT_BAUD, DEFAULT_CLOCK_NS, DEFAULT_INTERFACE, BuildOptions
from hlsfix.flows.prereq import AVR, GXX, accelerator_requirements, open_fpga_requirements, require
from hlsfix.flows.progress import Progress
from hlsfix.flows.result import FlowResult, finish_output, output_run

if TYPE_CHECKING:
    from hlsfix.board.fpga_boards import FpgaBoard
    from hlsfix.flows.model import TrackedModel

DEFAULT_INPUTS = 5


def check_fpga_prerequisites(options: BuildOptions) -> None:
    from hlsfix.board.fpga_boards import get_fpga_board

    board = get_fpga_board(options.board)
    if board.is_open:
        reqs = open_fpga_requirements(board.toolchain, options.simulator or "icarus")
        if options.compare_uno:
            reqs += list(AVR)
        require(reqs, f"an {board.name} build (Amaranth, Yosys, nextpnr, cocotb and a simulator)")
        return
    reqs = accelerator_requirements(options.simulator or "icarus", synthesis=True)
    if options.compare_uno:
        reqs += [r for r in AVR]
    require(reqs, "an FPGA build (Amaranth, Yosys, cocotb and a simulator; the Uno comparison: avr-gcc)")


def build_fpga(
    cm: TrackedModel, out: Path, board: FpgaBoard, options: BuildOptions, *, force: bool, progress: Progress
) -> FlowResult:
    """``build --board arty-a7|ulx3s|icebreaker``: the accelerator in the board's top, checked
    bit-exact in cocotb and timed by place-and-route; for the Arty a Vivado project, for an open
    board a bitstream built by Yosys + nextpnr + ecppack/icepack (no vendor tool)."""
    from hlsfix.board.uart import baud_divisor

    baud = options.baud or DEFAULT_BAUD
    baud_divisor(board.clock_hz, baud)  # a wrong baud rate fails before the synthesis
    resolved = BuildOptions(
        board=board.name,
        backend="rtl",
        lanes=options.lanes if options.lanes is not None else "auto",
        inputs=options.inputs or DEFAULT_INPUTS,
        baud=baud,
        run_vivado=options.run_vivado and not board.is_open,
        compare_uno=options.compare_uno,
        simulator=options.simulator or "icarus",
    )
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        built = _board_build(cm, stage, board, resolved, progress)
        report["fpga"], report["rtl"] = built.fpga, built.rtl
        report["memory"] = _memory_section(cm, stage)
        finish_output(stage, cm, report, stages_of(cm, build=resolved), "build")
    return FlowResult("build", out, report, _board_summary(board, report, out))


def _board_build(cm: TrackedModel, stage: Path, board: FpgaBoard, resolved: BuildOptions, progress: Progress):
    common = {
        "lanes": None if resolved.lanes == "auto" else resolved.lanes,
        "baud": resolved.baud,
        "n_inputs": resolved.inputs,
        "compare_uno": resolved.compare_uno,
        "simulator": resolved.simulator,
        "progress": progress,
    }
    if board.is_open:
        from hlsfix.board.open_fpga import build_open_board

        return build_open_board(cm, stage, board, **common)
    from hlsfix.board.arty import build_arty

    return build_arty(cm, stage, board, vivado=resolved.run_vivado, **common)


def _board_summary(board: FpgaBoard, report: dict, out: Path) -> tuple[str, ...]:
    """The build's closing lines: fit, cycles and bit-exactness, timing, the Uno, what was written."""
    fpga, rtl, cap = report["fpga"], report["rtl"], board.capacity
    if board.is_open:
        cells = fpga["cells"]
        fit = (
            f"{cells['lut']} {fpga['lut']}/{cap.lut}, FF {fpga['ff']}/{cap.ff}, {cells['dsp']} {fpga['dsp']}/"
            f"{cap.dsp}, {cells['bram']} {fpga['bram36']}/{cap.bram36} (nextpnr, after placement)"
        )
    else:
        fit = (
            f"LUT {fpga['lut']}/{cap.lut}, FF {fpga['ff']}/{cap.ff}, DSP {fpga['dsp']}/{cap.dsp}, "
            f"BRAM36 {fpga['bram36']:g}/{cap.bram36} (Yosys estimate)"
        )
    summary = [
        f"{board.name} ({board.part}): P={rtl['lanes']} lanes, {fit}",
        f"{rtl['cycles']} cycles per inference (ideal {rtl['ideal_cycles']}), bit-exact on "
        f"{rtl['checked_inputs']} inputs ({rtl['simulator']})",
    ]
    if fpga.get("fmax_mhz"):
        summary.append(
            f"timing: Fmax {fpga['fmax_mhz']} MHz ({fpga['timing_estimator']}); {rtl['us_at_fmax']} us per "
            f"inference at min(Fmax, {board.clock_hz / 1e6:g} MHz)"
        )
    else:
        summary.append("timing: not measured; no microseconds without a measured Fmax (cycles above)")
    if rtl["speedup_vs_uno"]:
        summary.append(
            f"Arduino Uno: {rtl['uno_cycles']} cycles at 16 MHz; the FPGA at "
            f"{rtl.get('speedup_clock_mhz')} MHz is {rtl['speedup_vs_uno']}x faster"
        )
    else:
        summary.append(f"Arduino Uno: {rtl['uno_note']}")
    if board.is_open:
        summary.append(
            f"bitstream: {fpga['bitstream']} ({fpga['bitstream_bytes']} bytes; {fpga['toolchain']})"
        )
        summary.append(f"wrote {out}/ ({board.name}/, report.md, report.html, report.json)")
    else:
        summary.append(f"Vivado: {fpga['vivado']}")
        summary.append(f"wrote {out}/ (vivado/, report.md, report.html, report.json)")
    return tuple(summary)


def _memory_section(cm: TrackedModel, stage: Path) -> dict:
    """The report's memory section of an FPGA build: the arena plan and its pictures."""
    from hlsfix.memory.liveness import plan_memory

    plan = plan_memory(cm.program)
    return {
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "linear_bytes": plan.linear_bytes,
        **write_plan_pictures(plan, stage, cm.name),
    }


def build_hls_project(
    cm: TrackedModel, out: Path, board: FpgaBoard, options: BuildOptions, *, force: bool, progress: Progress
) -> FlowResult:
    """``build --backend hls``: the HLS C++ project, checked by C-simulation on the test split."""
    from hlsfix.hls.build import build_hls

    require([GXX], "the HLS C-simulation")
    interface = options.interface or DEFAULT_INTERFACE
    clock_ns = options.clock_ns or DEFAULT_CLOCK_NS
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        progress("writing the HLS project and running its C-simulation (g++)")
        hls = build_hls(cm, stage / "hls", board.part, clock_ns, interface)
        report["hls"] = hls
        if hls["bit_exact"] is False:  # never leave a project that disagrees with the golden model
            raise HlsfixError(
                "HLS C-simulation must equal the golden model, not differ "
                f"({hls['checked_inputs']} inputs checked)"
            )
        resolved = BuildOptions(board=board.name, backend="hls", interface=interface, clock_ns=clock_ns)
        finish_output(stage, cm, report, stages_of(cm, build=resolved), "build")
    exact = (
        "not checked (no g++)" if hls["bit_exact"] is None else f"bit-exact on {hls['checked_inputs']} inputs"
    )
    summary = (
        f"HLS for {board.name} ({board.part}): C-simulation {exact}; estimated "
        f"{hls['estimated_lut']} LUT, {hls['estimated_dsp']} DSP48E1 ({interface} interface)",
        f"wrote {out}/ (hls/: model_top.cpp, hlsfix_hls_kernels.h, tb.cpp, run_hls.tcl; reports)",
    )
    return FlowResult("build", out, report, summary)
