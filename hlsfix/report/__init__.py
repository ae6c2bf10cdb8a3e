"""Reports: ``report.json`` for users' CI (keys of DESIGN.md), ``report.md`` and ``report.html`` for people.

Every command writes all three; ``view.py`` decides what is shown, ``templates/`` how.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.fixedpoint.program import KernelProgram, SparseMatVec, walk_kernels
from hlsfix.fixedpoint.round_choice import rounding_counts

if TYPE_CHECKING:
    from hlsfix.compiler import CompiledModel


def kernel_rows(program: KernelProgram, saturations: tuple[int, ...]) -> list[dict]:
    rows = []
    for i, k in enumerate(walk_kernels(program.kernels)):
        out = getattr(k, "out", "")
        rows.append(
            {
                "kernel": type(k).__name__,
                "source": program.labels[i] if i < len(program.labels) else "",
                "out": out,
                "saturations": saturations[i] if i < len(saturations) else 0,
            }
        )
    return rows


def compile_report(cm: CompiledModel) -> dict:
    program = cm.program
    test = cm.test
    accuracy: dict = {}
    kernels = kernel_rows(program, ())
    if test is not None:
        x, y = test
        golden = cm.golden(x)
        if program.output_is_class:
            accuracy = {
                "float": float(np.mean(cm.predict_float(x) == y)),
                "fixed": float(np.mean(golden.output == y)),
                "split": "test",
                "n": int(len(y)),
            }
        else:  # a regression output: fixed against float, both against the targets
            accuracy = tensor_accuracy(cm, x, y)
        kernels = kernel_rows(program, golden.saturations)
    # Buffers carry C-safe names (t.2 → t_2); map the profile's value names the same way.
    ranges = {re.sub(r"[^A-Za-z0-9_]", "_", k): v for k, v in cm.profile.ranges.items()}
    # Sparse index arrays hold integers, not fixed-point values: the kernels that read them say which.
    index_arrays = {
        name for k in program.walk() if isinstance(k, SparseMatVec) for name in (k.row_index, k.col_start)
    }
    tensors = []
    for b in program.buffers:
        if b.name in index_arrays:
            continue
        r = ranges.get(b.name)
        tensors.append(
            {
                "name": b.name,
                "kind": b.kind,
                "shape": list(b.shape),
                "bits": b.fmt.bits,
                "frac": b.fmt.frac,
                "range": [r.lo, r.hi] if r else None,
                "bytes": b.nbytes,
            }
        )
    score = cm.candidate.score
    c = cm.candidate
    flags, folded = rounding_counts(cm.graph, cm.profile, c.policy, c.activation, program)
    options = getattr(cm, "options", None)  # a TrackedModel knows what the user asked for
    return {
        "model": cm.name,
        "bits": program.bits,
        "accuracy": accuracy,
        "training": {
            "fixed": score.acc,
            "disagree": score.disagree,
            "red_disagree": score.red_disagree,
            "metric": cm.metric,
        },
        "choice": {
            "headroom": cm.candidate.policy.headroom,
            "input_offset": cm.candidate.policy.input_offset,
            "activation": cm.candidate.activation,
            "demoted_to_8": [o[0] for o in cm.candidate.policy.overrides if o[1] == 8],
            "candidates_run": cm.candidates_run,
            "explore_seconds": round(cm.explore_seconds, 3),
            "rounding": {
                # 16- and 32-bit programs never round: no mode to report
                "mode": (getattr(options, "rounding", None) or "auto")
                if program.bits in ("8", "mixed")
                else None,
                "round_out_kernels": flags,
                "folded_adds": folded,
            },
        },
        "weights_bytes": program.const_bytes(),
        "tensors": tensors,
        "kernels": kernels,
    }


def _json_default(obj: object) -> object:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    raise TypeError(type(obj).__name__)


def md_escape(text: object) -> str:
    """Text safe inside a Markdown table cell or line: no markup, no raw HTML, one line (the one
    Markdown rule, ``hlsfix.escape.markdown``, after runs of white space become one space)."""
    from hlsfix.escape import markdown

    return markdown(" ".join(str(text).split()))


def tensor_accuracy(cm: CompiledModel, x: np.ndarray, y: np.ndarray) -> dict:
    """A tensor output's figures on held-out rows: SQNR (dB) and worst relative error of the
    fixed-point output against float's, and each one's RMSE against the targets ``y``."""
    quality = cm.quality(x)
    fixed, ref = cm.predict_real(x), np.asarray(cm.predict_float(x), dtype=np.float64).reshape(len(x), -1)
    target = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
    sqnr = quality["sqnr_db"]  # inf when fixed equals float: JSON has no inf, so null
    out = {
        "sqnr_db": round(sqnr, 2) if math.isfinite(sqnr) else None,
        "max_rel_err": round(quality["max_rel_err"], 6),
    }
    if target.shape == ref.shape:
        out["rmse_float"] = float(np.sqrt(np.mean((ref - target) ** 2)))
        out["rmse_fixed"] = float(np.sqrt(np.mean((fixed - target) ** 2)))
    return {**out, "split": "test", "n": int(len(x))}


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("hlsfix.report", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"]),
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["md"] = md_escape
    return env


def render_reports(report: dict, pictures: dict[str, str] | None = None) -> tuple[str, str]:
    """report.md and report.html of any command's report, from one view and two templates."""
    from hlsfix.report.view import report_view

    view = report_view(report)
    env = _environment()
    md = env.get_template("report.md.j2").render(view=view)
    html = env.get_template("report.html.j2").render(view=view, pictures=pictures or {})
    return md, html


def _inline_svg(path: Path) -> str:
    text = path.read_text()
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


def write_reports(directory: Path, report: dict) -> None:
    """report.json (for CI), report.md and a self-contained report.html (for people) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=1, default=_json_default))
    pictures = {p.name: _inline_svg(p) for p in directory.glob("*.svg")}
    md, html = render_reports(report, pictures)
    (directory / "report.md").write_text(md)
    (directory / "report.html").write_text(html)
