"""``hlsfix.compile``: float model + calibration data → a fixed-point program, with its numbers.

The pass order, written out once:
  parse (frontend) → float graph → profile on calibration data → explore (assign formats → lower →
  golden on the training set, per candidate) → best KernelProgram → reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from hlsfix.errors import DataError, HlsfixError
from hlsfix.fixedpoint.explore import Bits, Candidate, Evaluator, Metric, explore
from hlsfix.fixedpoint.golden import GoldenResult, quantize_input, run_golden
from hlsfix.fixedpoint.lower import Activation
from hlsfix.fixedpoint.profile import Profile, check_calibration, profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import run_float
from hlsfix.zoo import Model, load_model


def _labels(graph: Graph, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    if y is None:
        return run_float(graph, x)
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise DataError(f"labels must be one per calibration row ({len(x)}), not shape {y.shape}")
    return y.astype(np.int64)


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    program: KernelProgram
    candidate: Candidate
    profile: Profile
    metric: Metric
    explore_seconds: float
    candidates_run: int
    source: Path | None = None
    test: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.graph.name

    def golden(self, x: np.ndarray) -> GoldenResult:
        x = check_calibration(self.graph, x)
        return run_golden(self.program, quantize_input(self.program, x))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The fixed-point program's output for each row (the golden model: bit-exact)."""
        return self.golden(x).output

    def predict_float(self, x: np.ndarray) -> np.ndarray:
        return run_float(self.graph, x)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == np.asarray(y)))


def compile(
    model: str | Path | Graph | Model,
    calib: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    bits: Bits | int = "16",
    metric: Metric = "red_disagree",
    activation: Activation | Literal["auto"] = "auto",
    budget_pp: float = 1.0,
    weight_budget: int | None = None,
    progress: bool = False,
) -> CompiledModel:
    """Compile a float model to a fixed-point program chosen on calibration data.

    ``model`` is a zoo name, an .sd path, a loaded ``Model`` or a ``Graph``. ``calib`` defaults to
    the zoo model's training split; ``labels`` default to the split's labels (or the float model's
    own predictions when none are known)."""
    source: Path | None = None
    test = None
    if isinstance(model, str | Path):
        model = load_model(str(model))
    if isinstance(model, Model):
        source = model.source
        if model.data is not None:
            test = (model.data.x_test, model.data.y_test)
            if calib is None:
                calib, labels = model.data.x_train, model.data.y_train if labels is None else labels
        graph = model.graph
    else:
        graph = model
    if calib is None:
        raise DataError("calibration data must be given for a model without a bundled training split")
    if not graph.output_type.is_int:
        raise HlsfixError("model must end in argmax or sgn (a class) for exploration, not a tensor")
    x = check_calibration(graph, calib)
    y = _labels(graph, x, labels)
    t0 = time.perf_counter()
    prof = profile(graph, x)
    float_pred = run_float(graph, x)
    ev = Evaluator(graph, prof, x, y, float_pred)
    best = explore(ev, str(bits), metric, activation, budget_pp, weight_budget, show=progress)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    return CompiledModel(graph, best.program, best, prof, metric, seconds, ev.runs, source, test)
