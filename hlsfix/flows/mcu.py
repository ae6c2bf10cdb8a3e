"""``build --board arduino-uno``: C sources, an Arduino sketch and a Makefile, checked in simavr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.flows.compile_flow import stages_of, write_compiled
from hlsfix.flows.options import BuildOptions
from hlsfix.flows.prereq import AVR, GCC, require
from hlsfix.flows.progress import Progress
from hlsfix.flows.result import FlowResult, finish_output, output_run

if TYPE_CHECKING:
    from hlsfix.boards import McuBoard
    from hlsfix.flows.model import TrackedModel
    from hlsfix.memory.liveness import MemoryPlan

DEFAULT_INPUTS = 20


def check_mcu_prerequisites() -> None:
    require([*AVR, GCC], "an Arduino Uno build (avr-gcc, simavr)")


def write_plan_pictures(plan: MemoryPlan, directory: Path, name: str) -> dict[str, str]:
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


def build_mcu(
    cm: TrackedModel, out: Path, board: McuBoard, options: BuildOptions, *, force: bool, progress: Progress
) -> FlowResult:
    from hlsfix.mcu.uno import build_uno

    inputs = options.inputs or DEFAULT_INPUTS
    resolved = BuildOptions(board=board.name, inputs=inputs)
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        progress(f"building for {board.name} and checking {inputs} inputs in simavr")
        built = build_uno(cm, stage, n_inputs=inputs, board=board)
        report["mcu"] = built.mcu_report()
        report["memory"] = {**built.memory_report(), **write_plan_pictures(built.plan, stage, cm.name)}
        finish_output(stage, cm, report, stages_of(cm, build=resolved), "build")
    mcu = report["mcu"]
    summary = [
        f"{board.name}: flash {mcu['flash_bytes']}/{board.flash_bytes} bytes, RAM {mcu['ram_bytes']} + "
        f"stack {mcu['stack_bytes']}/{board.ram_bytes} bytes, {mcu['cycles']} cycles "
        f"({mcu['ms_at_16mhz']} ms at 16 MHz), bit-exact on {mcu['checked_inputs']} inputs (simavr)"
    ]
    if mcu.get("sketch_flash_bytes") is not None:
        summary.append(
            f"sketch (Arduino core): flash {mcu['sketch_flash_bytes']}/{board.flash_bytes} bytes, "
            f"RAM {mcu['sketch_ram_bytes']} bytes; the model alone {mcu['model_flash_bytes']} bytes of flash"
        )
    if mcu["cycles_float"] is not None:
        summary.append(
            f"float baseline: {mcu['cycles_float']} cycles, fixed point is {mcu['speedup']}x faster"
        )
    else:
        summary.append(f"float baseline: no cycles ({mcu['float_note']})")
    summary.append(
        f"wrote {out}/ (sketch/{built.sketch_dir.name}/, Makefile, report.md, report.html, report.json)"
    )
    return FlowResult("build", out, report, tuple(summary))
