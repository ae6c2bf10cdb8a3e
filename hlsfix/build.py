"""``hlsfix build``: compile a model and build it for a board, with a measured, checked report."""

from __future__ import annotations

import argparse
from pathlib import Path

from hlsfix.boards import BOARDS, get_board
from hlsfix.memory.liveness import MemoryPlan
from hlsfix.report import write_reports


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
    cm = compile_from_args(args)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
        built = build_uno(cm, stage, n_inputs=args.inputs, board=board)
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


def add_build_parser(sub: argparse._SubParsersAction, add_model_args, add_compile_args) -> None:
    p = sub.add_parser(
        "build",
        help="compile a model and build it for a board (sketch, Makefile, measured report)",
        description="Compile the model, write its C sources, an Arduino sketch and a Makefile, and "
        "check the build on the simulated board: bit-exact with the golden model, cycles, flash, RAM "
        "and stack, and that it fits.",
    )
    add_model_args(p, optional=True)
    add_compile_args(p)
    p.add_argument(
        "--board",
        default="arduino-uno",
        metavar="BOARD",
        help=f"target board: {', '.join(BOARDS)} (default arduino-uno)",
    )
    p.add_argument(
        "--inputs", type=int, default=20, metavar="N", help="test inputs checked in simulation (default 20)"
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.set_defaults(func=cmd_build)
