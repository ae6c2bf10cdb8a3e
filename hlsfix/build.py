"""``hlsfix build``: compile a model and build it for a board, with a measured, checked report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hlsfix.board.fpga_boards import FpgaBoard
from hlsfix.boards import ALL_BOARD_NAMES, get_board
from hlsfix.errors import BoardError, HlsfixError
from hlsfix.memory.liveness import MemoryPlan
from hlsfix.report import render_markdown, write_reports

DEFAULT_BAUD = 115_200


def write_plan_pictures(plan: MemoryPlan, directory: Path, name: str) -> dict:
    """The arena plan as a time × address picture: SVG always (no dependency), PNG with matplotlib."""
    from hlsfix.memory.plot import render_plan_png, render_plan_svg_text

    buffers, arena = plan.plan_buffers(), plan.arena_plan()
    title = f"{name}: arena {plan.arena_bytes} B, lower bound {plan.lower_bound_bytes} B"
    (directory / "memory_plan.svg").write_text(render_plan_svg_text(buffers, arena, title))
    pictures = {"picture_svg": "memory_plan.svg"}
    try:
        render_plan_png(buffers, arena, directory / "memory_plan.png", title)
        pictures["picture_png"] = "memory_plan.png"
    except ImportError:  # matplotlib is optional (the `plots` extra)
        pass
    return pictures


def cmd_build(args: argparse.Namespace) -> int:
    from hlsfix.cli import compile_from_args, staged_output
    from hlsfix.mcu.uno import build_uno

    board = get_board(args.board)  # before the (slow) compile: a wrong board fails at once
    if args.host:
        if not isinstance(board, FpgaBoard) or args.backend != "rtl":
            raise BoardError(
                f"--host needs an FPGA board and the rtl backend, not {board.name} / {args.backend}"
            )
        from hlsfix.codesign.cli import build_codesign

        return build_codesign(args, board)
    if args.backend == "hls":
        if not isinstance(board, FpgaBoard):
            raise BoardError(f"--backend hls needs an FPGA board (arty-a7, …), not {board.name}")
        return build_hls_project(args, board)
    if isinstance(board, FpgaBoard):
        return build_fpga(args, board)
    cm = compile_from_args(args)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
        built = build_uno(cm, stage, n_inputs=args.inputs or 20, board=board)
        report["mcu"] = built.mcu_report()
        report["memory"] = {**built.memory_report(), **write_plan_pictures(built.plan, stage, cm.name)}
        write_reports(stage, report)
    mcu = report["mcu"]
    print(
        f"{board.name}: flash {mcu['flash_bytes']}/{board.flash_bytes} bytes, RAM {mcu['ram_bytes']} + "
        f"stack {mcu['stack_bytes']}/{board.ram_bytes} bytes, {mcu['cycles']} cycles "
        f"({mcu['ms_at_16mhz']} ms at 16 MHz), bit-exact on {mcu['checked_inputs']} inputs (simavr)"
    )
    if mcu["cycles_float"] is not None:
        print(f"float baseline: {mcu['cycles_float']} cycles, fixed point is {mcu['speedup']}x faster")
    else:
        print(f"float baseline: no cycles ({mcu['float_note']})")
    print(f"wrote {args.output}/ (sketch/{built.sketch_dir.name}/, Makefile, report.md, report.json)")
    return 0


def parse_lanes(text: str) -> int | None:
    """``--lanes``: None for auto, else a positive integer."""
    if text == "auto":
        return None
    try:
        lanes = int(text)
    except ValueError:
        lanes = 0
    if lanes < 1:
        raise BoardError(f"lanes must be auto or a positive integer, not {text!r}")
    return lanes


def _flat(section: dict) -> dict:
    return {k: v for k, v in section.items() if not isinstance(v, (dict, list))}


def fpga_markdown(report: dict) -> str:
    """report.md of a board build: the compile report, then the FPGA and RTL sections with tables."""
    text = render_markdown({**report, "fpga": _flat(report["fpga"]), "rtl": _flat(report["rtl"])})
    fpga, rtl = report["fpga"], report["rtl"]
    lines = ["## Synthesised lane counts (Yosys)", "", "| P | LUT | FF | DSP | BRAM36 |"]
    lines.append("|---|---|---|---|---|")
    for p, r in fpga["synthesised_lanes"].items():
        lines.append(f"| {p} | {r['lut']} | {r['ff']} | {r['dsp']} | {r['bram36']:g} |")
    lines += ["", "## Cycles per kernel (cocotb)", "", "| kernel | cycles | ideal |", "|---|---|---|"]
    lines += [f"| {k['kernel']} | {k['cycles']} | {k['ideal']} |" for k in rtl["per_kernel"]]
    lines += ["", "See report.html for the plots.", ""]
    return text + "\n" + "\n".join(lines)


def build_fpga(args: argparse.Namespace, board: FpgaBoard) -> int:
    """``hlsfix build --board arty-a7…``: Vivado project, resource fit, RTL cycles, reports."""
    from hlsfix.board.arty import build_arty
    from hlsfix.board.html_report import render_html
    from hlsfix.board.uart import baud_divisor
    from hlsfix.cli import compile_from_args, staged_output
    from hlsfix.memory.liveness import plan_memory

    lanes = parse_lanes(args.lanes)
    baud_divisor(board.clock_hz, args.baud)  # a wrong baud rate fails before the compile
    verbose = not args.quiet

    def progress(message: str) -> None:
        if verbose:
            print(f"hlsfix: {message}", file=sys.stderr, flush=True)

    cm = compile_from_args(args)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
        built = build_arty(
            cm,
            stage,
            board,
            lanes=lanes,
            baud=args.baud,
            n_inputs=args.inputs or 5,
            vivado=args.run_vivado,
            compare_uno=not args.no_uno,
            progress=progress,
        )
        plan = plan_memory(cm.program)
        report["fpga"], report["rtl"] = built.fpga, built.rtl
        report["memory"] = {
            "arena_bytes": plan.arena_bytes,
            "lower_bound_bytes": plan.lower_bound_bytes,
            "linear_bytes": plan.linear_bytes,
            **write_plan_pictures(plan, stage, cm.name),
        }
        write_reports(stage, report)
        (stage / "report.md").write_text(fpga_markdown(report))
        plan_svg = (stage / "memory_plan.svg").read_text()
        (stage / "report.html").write_text(render_html(report, plan_svg))
    fpga, rtl = report["fpga"], report["rtl"]
    cap = board.capacity
    print(
        f"{board.name} ({board.part}): P={rtl['lanes']} lanes, LUT {fpga['lut']}/{cap.lut}, FF {fpga['ff']}/"
        f"{cap.ff}, DSP {fpga['dsp']}/{cap.dsp}, BRAM36 {fpga['bram36']:g}/{cap.bram36} (Yosys estimate)"
    )
    print(
        f"{rtl['cycles']} cycles per inference (ideal {rtl['ideal_cycles']}), {rtl['us_at_100mhz']} us at "
        f"100 MHz, bit-exact on {rtl['checked_inputs']} inputs (cocotb, Icarus)"
    )
    if rtl["speedup_vs_uno"]:
        uno = rtl["uno_cycles"]
        print(f"Arduino Uno: {uno} cycles at 16 MHz; the FPGA is {rtl['speedup_vs_uno']}x faster")
    else:
        print(f"Arduino Uno: {rtl['uno_note']}")
    print(f"Vivado: {fpga['vivado']}")
    print(f"wrote {args.output}/ (vivado/, report.md, report.html, report.json)")
    return 0


def build_hls_project(args: argparse.Namespace, board: FpgaBoard) -> int:
    """``hlsfix build --backend hls``: HLS C++ project for Vivado/Vitis HLS, checked by C-simulation."""
    from hlsfix.cli import compile_from_args, staged_output
    from hlsfix.hls.build import build_hls

    cm = compile_from_args(args)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
        hls = build_hls(cm, stage / "hls", board.part, args.clock_ns, args.interface)
        report["hls"] = hls
        if hls["bit_exact"] is False:  # never leave a project that disagrees with the golden model
            raise HlsfixError(
                "HLS C-simulation must equal the golden model, not differ "
                f"({hls['checked_inputs']} inputs checked)"
            )
        write_reports(stage, report)
    exact = (
        "not checked (no g++)" if hls["bit_exact"] is None else f"bit-exact on {hls['checked_inputs']} inputs"
    )
    print(
        f"HLS for {board.name} ({board.part}): C-simulation {exact}; estimated "
        f"{hls['estimated_lut']} LUT, {hls['estimated_dsp']} DSP48E1 ({args.interface} interface)"
    )
    print(f"wrote {args.output}/ (hls/: model_top.cpp, hlsfix_hls_kernels.h, tb.cpp, run_hls.tcl; reports)")
    return 0


def add_build_parser(sub: argparse._SubParsersAction, add_model_args, add_compile_args) -> None:
    p = sub.add_parser(
        "build",
        help="compile a model and build it for a board (Vivado project or sketch, measured report)",
        description="Compile the model and build it for the board. Arty A7: the accelerator in a "
        "board top (UART link, LEDs, reset button) as a Vivado project, its resources estimated by "
        "Yosys and checked against the part, cycles and bit-exactness from cocotb. Arduino Uno: C "
        "sources, an Arduino sketch and a Makefile, checked in simavr (bit-exact, cycles, flash, RAM, "
        "stack).",
    )
    add_model_args(p, optional=True)
    add_compile_args(p)
    p.add_argument(
        "--board",
        default="arduino-uno",
        metavar="BOARD",
        help=f"target board: {', '.join(ALL_BOARD_NAMES)} (default arduino-uno)",
    )
    p.add_argument(
        "--backend",
        choices=("rtl", "hls"),
        default="rtl",
        help="FPGA: the Amaranth accelerator (rtl, default) or Vivado/Vitis HLS C++ (hls)",
    )
    p.add_argument(
        "--interface",
        choices=("ap_memory", "s_axilite", "axis"),
        default="ap_memory",
        help="HLS: top-level interface (default ap_memory)",
    )
    p.add_argument("--clock-ns", type=float, default=10.0, help="HLS: clock period in ns (default 10)")
    p.add_argument(
        "--lanes",
        default="auto",
        metavar="auto|P",
        help="FPGA: parallel lanes of the accelerator; auto picks the largest of 16, 8, 4, 2, 1 that fits",
    )
    p.add_argument(
        "--baud", type=int, default=DEFAULT_BAUD, help=f"FPGA: UART baud rate (default {DEFAULT_BAUD})"
    )
    p.add_argument(
        "--run-vivado", action="store_true", help="FPGA: run Vivado on the project (needs vivado on PATH)"
    )
    p.add_argument(
        "--no-uno", action="store_true", help="FPGA: skip the Uno build the speedup is measured against"
    )
    p.add_argument(
        "--inputs",
        type=int,
        default=None,
        metavar="N",
        help="test inputs checked in simulation (default 20 on the Uno, 5 on an FPGA)",
    )
    from hlsfix.codesign.cli import add_codesign_arguments

    add_codesign_arguments(p, build=True)
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.set_defaults(func=cmd_build)


def cmd_run_board(args: argparse.Namespace) -> int:
    """``hlsfix run-board``: send test inputs to a programmed board, compare with the golden model."""
    import numpy as np

    from hlsfix.board.arty import OUTPUT_BITS, MismatchError
    from hlsfix.board.client import BoardClient
    from hlsfix.board.transport import SerialTransport
    from hlsfix.cli import compile_from_args
    from hlsfix.errors import DataError
    from hlsfix.fixedpoint.golden import quantize_input

    if args.inputs < 1:
        raise BoardError(f"inputs must be at least 1, not {args.inputs}")
    with SerialTransport(args.port, args.baud) as transport:  # a wrong port fails before the compile
        cm = compile_from_args(args)
        if cm.test is None or len(cm.test[0]) == 0:
            raise DataError(f"model {cm.name}: test inputs must be known to run the board, not missing")
        x = np.asarray(cm.test[0][: args.inputs])
        x_q = quantize_input(cm.program, x)
        want = cm.golden(x).output.reshape(len(x), -1)
        client = BoardClient(
            transport, cm.program.input_buffer.fmt.bits, output_bits=OUTPUT_BITS, output_signed=True
        )
        bad = []
        for i, row in enumerate(x_q):
            got = client.infer([int(v) for v in row])
            if got != [int(v) for v in want[i]]:
                bad.append((i, got, want[i].tolist()))
    if bad:
        i, got, expected = bad[0]
        raise MismatchError(
            f"board outputs must equal the golden model's, not differ on {len(bad)} of {len(x_q)} inputs "
            f"(first: input {i}, got {got}, want {expected})"
        )
    print(f"{args.port}: {len(x_q)} inputs, every output bit-exact with the golden model")
    if cm.program.output_is_class and cm.test is not None:
        y = np.asarray(cm.test[1][: len(x_q)])
        print(f"accuracy on these inputs: {np.mean(want[:, 0] == y):.4f}")
    return 0


def add_run_board_parser(sub: argparse._SubParsersAction, add_model_args, add_compile_args) -> None:
    p = sub.add_parser(
        "run-board",
        help="run test inputs on a programmed FPGA board over its serial port",
        description="Compile the model exactly as for `build` (use the same options), send its test "
        "inputs to the board over the UART and check every answer against the golden model.",
    )
    add_model_args(p)
    add_compile_args(p)
    p.add_argument("--port", required=True, help="serial port of the board (the Arty: /dev/ttyUSB1)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help=f"baud rate (default {DEFAULT_BAUD})")
    p.add_argument("--inputs", type=int, default=20, metavar="N", help="test inputs to send (default 20)")
    p.set_defaults(func=cmd_run_board)
