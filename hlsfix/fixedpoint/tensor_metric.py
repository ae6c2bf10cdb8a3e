"""Exploration and accuracy for models whose output is a tensor (regression, autoencoders, feature
extractors): the fixed-point output against float's, by a metric the user chooses.

- ``sqnr``: signal-to-quantisation-noise ratio in dB, 10·log10(Σ float² / Σ (fixed − float)²) over
  every output element of every row (higher is better; ``inf`` when fixed equals float);
- ``max_rel_err``: the largest |fixed − float| / max(|float|, floor) over every element, with
  ``floor`` = 1 % of the largest |float| output (so outputs near zero do not dominate; lower is better).

``TensorEvaluator`` plugs into ``explore``: its Score's ``acc`` carries the chosen metric as a
higher-is-better number (sqnr in dB, or −max_rel_err), so the uniform search ranks candidates by it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from hlsfix.fixedpoint.explore import Evaluator, Score
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.program import KernelProgram

TensorMetric = Literal["sqnr", "max_rel_err"]
TENSOR_METRICS: tuple[TensorMetric, ...] = ("sqnr", "max_rel_err")
REL_FLOOR = 0.01


def real_output(program: KernelProgram, q: np.ndarray) -> np.ndarray:
    """The real values of the golden model's integer outputs, one row per input."""
    fmt = program.buffer(program.output).fmt
    return np.asarray(q, dtype=np.float64).reshape(len(q), -1) * 2.0**-fmt.frac


def sqnr_db(fixed: np.ndarray, ref: np.ndarray) -> float:
    noise = float(np.sum((fixed - ref) ** 2))
    if noise == 0.0:
        return float("inf")
    return float(10.0 * np.log10(max(float(np.sum(ref**2)), 1e-300) / noise))


def max_rel_err(fixed: np.ndarray, ref: np.ndarray) -> float:
    floor = max(REL_FLOOR * float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-12)
    return float(np.max(np.abs(fixed - ref) / np.maximum(np.abs(ref), floor))) if ref.size else 0.0


def tensor_quality(program: KernelProgram, x: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """sqnr (dB) and max_rel_err of the golden model's outputs on rows ``x`` against float's ``ref``."""
    result = run_golden(program, quantize_input(program, x))
    fixed = real_output(program, result.output)
    ref = np.asarray(ref, dtype=np.float64).reshape(len(fixed), -1)
    return {"sqnr_db": sqnr_db(fixed, ref), "max_rel_err": max_rel_err(fixed, ref)}


class TensorEvaluator(Evaluator):
    """Scores programs by a tensor metric of their outputs against float's on the training rows."""

    def __init__(self, graph, prof, x: np.ndarray, float_out: np.ndarray, metric: TensorMetric) -> None:
        ref = np.asarray(float_out, dtype=np.float64).reshape(len(x), -1)
        super().__init__(graph, prof, x, ref, ref)
        self.metric = metric

    def subset(self, rows: int) -> TensorEvaluator:
        if len(self.x) <= rows:
            return self
        pick = np.linspace(0, len(self.x) - 1, rows).astype(np.int64)
        sub = TensorEvaluator(self.graph, self.prof, self.x[pick], self.float_pred[pick], self.metric)
        sub.round_flags, sub.round_fold = self.round_flags, self.round_fold
        return sub

    def score(self, program: KernelProgram) -> Score:
        self.runs += 1
        result = run_golden(program, quantize_input(program, self.x))
        fixed = real_output(program, result.output)
        sq, rel = sqnr_db(fixed, self.float_pred), max_rel_err(fixed, self.float_pred)
        value = min(sq, 1e9) if self.metric == "sqnr" else -rel
        # disagree: the fraction of rows whose output differs from float's by more than 1 %
        row_err = np.max(np.abs(fixed - self.float_pred), axis=1)
        scale = max(float(np.max(np.abs(self.float_pred))), 1e-12)
        differ = float(np.mean(row_err > REL_FLOOR * scale))
        return Score(acc=value, disagree=differ, red_disagree=differ, saturations=sum(result.saturations))
