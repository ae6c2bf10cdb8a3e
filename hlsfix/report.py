"""Reports: ``report.json`` for users' CI (keys of DESIGN.md) and ``report.md`` for people."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.fixedpoint.program import KernelProgram, SparseMatVec, walk_kernels

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
        accuracy = {
            "float": float(np.mean(cm.predict_float(x) == y)),
            "fixed": float(np.mean(golden.output == y)),
            "split": "test",
            "n": int(len(y)),
        }
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
        },
        "weights_bytes": program.const_bytes(),
        "tensors": tensors,
        "kernels": kernels,
    }


def _md_table(header: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def render_markdown(report: dict) -> str:
    acc = report.get("accuracy") or {}
    lines = [f"# hlsfix report: {report['model']} ({report['bits']}-bit)", ""]
    if acc:
        loss = (acc["float"] - acc["fixed"]) * 100
        lines += [
            f"Accuracy on the {acc['split']} split ({acc['n']} inputs): float **{acc['float']:.4f}**, "
            f"fixed **{acc['fixed']:.4f}** ({loss:+.2f} pp lost).",
            "",
        ]
    ch = report["choice"]
    lines += [
        f"Chosen on the training data by `{report['training']['metric']}`: headroom {ch['headroom']}, "
        f"input offset {ch['input_offset']}, activations by {ch['activation']}; "
        f"{ch['candidates_run']} candidates in {ch['explore_seconds']} s. "
        f"Weights: {report['weights_bytes']} bytes.",
        "",
    ]
    if ch["demoted_to_8"]:
        lines += [f"Demoted to 8 bits: {', '.join(ch['demoted_to_8'])}.", ""]
    if "memory" in report:
        m = report["memory"]
        lines += [
            f"Arena {m['arena_bytes']} B (lower bound {m['lower_bound_bytes']} B, "
            f"no reuse {m['linear_bytes']} B).",
            "",
        ]
        picture = m.get("picture_png") or m.get("picture_svg")
        if picture:
            lines += [f"![memory plan: time × address]({picture})", ""]
    lines += ["## Tensors", ""]
    rows = []
    for t in report["tensors"]:
        rng = t["range"]
        rows.append(
            [
                t["name"],
                t["kind"],
                "×".join(map(str, t["shape"])),
                t["bits"],
                t["frac"],
                f"[{rng[0]:.4g}, {rng[1]:.4g}]" if rng else "—",
                t["bytes"],
            ]
        )
    lines += [_md_table(["tensor", "kind", "shape", "bits", "frac", "float range", "bytes"], rows), ""]
    lines += ["## Kernels (saturations on the test split)", ""]
    rows = [
        [i, k["kernel"], k["source"].replace("|", "\\|"), k["saturations"]]
        for i, k in enumerate(report["kernels"])
    ]
    lines += [_md_table(["#", "kernel", "from", "saturations"], rows), ""]
    for section in ("mcu", "rtl", "fpga", "hls"):
        if section in report:
            lines += [
                f"## {section}",
                "",
                _md_table(["key", "value"], [[k, v] for k, v in report[section].items()]),
                "",
            ]
    return "\n".join(lines)


def _json_default(obj: object) -> object:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    raise TypeError(type(obj).__name__)


def write_reports(directory: Path, report: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(report, indent=1, default=_json_default))
    (directory / "report.md").write_text(render_markdown(report))
