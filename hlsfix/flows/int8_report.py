"""report.json, report.md, report.html and memory.svg of an int8 model (compile; build adds ``mcu``);
the md and html come from the same view and templates as every other report (``hlsfix.report``).

report.json keeps the house keys (DESIGN.md): ``model``, ``bits``, ``memory`` (arena_bytes,
lower_bound_bytes, best_order_bound_bytes, linear_bytes, schedule, and per technique), ``tflm``
(bit_exact, checked_inputs, arena_head_bytes, arena_tail_bytes), ``mcu`` after a build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from hlsfix.fixedpoint.int8.tflm_oracle import TflmCheck
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.frontend.tflite import TfliteInt8Model
from hlsfix.memory.int8_plan import Int8Memory
from hlsfix.memory.plot import render_plan_svg_text


class CompiledInt8(Protocol):
    """What a report needs of a compiled int8 model (``compiled.CompiledInt8Model``)."""

    model: TfliteInt8Model
    memory: Int8Memory

    @property
    def name(self) -> str: ...
    @property
    def program(self) -> KernelProgram: ...
    @property
    def source(self) -> Path | None: ...


def int8_report(cm: CompiledInt8, tflm: TflmCheck | None) -> dict:
    mem = cm.memory.summary()
    mem["schedule"] = list(cm.program.labels)
    report: dict = {
        "model": cm.name,
        "bits": "8",
        "source": str(cm.source) if cm.source else None,
        "operators": list(cm.model.operators),
        "parameters": cm.model.parameters,
        "memory": mem,
    }
    if tflm is not None:
        report["tflm"] = {
            "bit_exact": tflm.bit_exact,
            "checked_inputs": tflm.checked_inputs,
            "arena_head_bytes": tflm.arena_head_bytes,
            "arena_tail_bytes": tflm.arena_tail_bytes,
        }
    return report


def write_int8_reports(directory: Path, report: dict, cm: CompiledInt8) -> None:
    """The memory picture, then report.json, report.md and report.html (the house templates)."""
    from hlsfix.report import write_reports

    directory.mkdir(parents=True, exist_ok=True)
    svg = render_plan_svg_text(cm.memory.buffers, cm.memory.plan, f"{cm.name}: arena plan")
    (directory / "memory.svg").write_text(svg)
    report["memory"]["picture_svg"] = "memory.svg"
    write_reports(directory, report)
