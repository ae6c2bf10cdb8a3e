"""report.json, report.md, report.html and memory.svg of an int8 model (compile; build adds ``mcu``).

report.json keeps the house keys (DESIGN.md): ``model``, ``bits``, ``memory`` (arena_bytes,
lower_bound_bytes, best_order_bound_bytes, linear_bytes, schedule, and per technique), ``tflm``
(bit_exact, checked_inputs, arena_head_bytes, arena_tail_bytes), ``mcu`` after a build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from hlsfix.backend_common import template_env
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


TEMPLATES_DIR = Path(__file__).parents[1] / "mcu" / "templates"


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


def render_int8_markdown(report: dict) -> str:
    template = template_env(TEMPLATES_DIR).get_template("int8_report.md.j2")
    return template.render(r=report, m=report["memory"], t=report.get("tflm"), mcu=report.get("mcu"))


def write_int8_reports(directory: Path, report: dict, cm: CompiledInt8) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    svg = render_plan_svg_text(cm.memory.buffers, cm.memory.plan, f"{cm.name}: arena plan")
    (directory / "memory.svg").write_text(svg)
    (directory / "report.json").write_text(json.dumps(report, indent=1))
    (directory / "report.md").write_text(render_int8_markdown(report))
    html = template_env(TEMPLATES_DIR).get_template("int8_report.html.j2")
    (directory / "report.html").write_text(
        html.render(r=report, m=report["memory"], t=report.get("tflm"), mcu=report.get("mcu"), svg=svg)
    )
