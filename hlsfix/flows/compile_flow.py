"""``hlsfix compile``: the fixed-point program and its reports, written into an output directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlsfix.flows.result import FlowResult, finish_output, output_run

if TYPE_CHECKING:
    from hlsfix.flows.model import TrackedModel


def write_compiled(cm: TrackedModel, stage: Path) -> dict[str, Any]:
    """program.json and constants.npz into ``stage``; the compile report (not yet written)."""
    from hlsfix.report import compile_report

    cm.program.save(stage)
    return compile_report(cm)


def stages_of(cm: TrackedModel, **more: object) -> dict[str, object]:
    """The option tables that reproduce ``cm`` (and whatever ran after it) in hlsfix.toml."""
    stages: dict[str, object] = {}
    if cm.spec is not None:
        stages["model"] = cm.spec
    stages["compile"] = cm.options
    stages.update(more)
    return stages


def save_compiled(cm: TrackedModel, out: Path, *, force: bool = False) -> FlowResult:
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        finish_output(stage, cm, report, stages_of(cm), "compile")
    summary = []
    acc = report.get("accuracy") or {}
    if acc and "fixed" in acc:
        summary.append(
            f"accuracy: float {acc['float']:.4f}, fixed {acc['fixed']:.4f} ({acc['n']} test inputs)"
        )
    elif acc:  # a tensor output
        summary.append(
            f"fixed vs float: SQNR {acc['sqnr_db']} dB, worst relative error {acc['max_rel_err']} "
            f"({acc['n']} test inputs)"
        )
    choice = report["choice"]
    summary.append(
        f"bits: {report['bits']}, weights: {report['weights_bytes']} bytes, explored "
        f"{choice['candidates_run']} candidates in {choice['explore_seconds']} s"
    )
    summary.append(
        f"wrote {out}/ (program.json, constants.npz, hlsfix.toml, report.md, report.html, report.json)"
    )
    return FlowResult("compile", out, report, tuple(summary))
