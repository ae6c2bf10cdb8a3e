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

from hlsfix.errors import CompileError, DataError
from hlsfix.fixedpoint.explore import METRICS, Bits, Candidate, Evaluator, Metric, Rounding, explore
from hlsfix.fixedpoint.golden import GoldenResult, quantize_input, run_golden
from hlsfix.fixedpoint.lower import Activation
from hlsfix.fixedpoint.profile import Profile, check_calibration, profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.tensor_metric import TENSOR_METRICS, TensorEvaluator, TensorMetric, tensor_quality
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import run_float
from hlsfix.zoo import Model, load_model

DEFAULT_BUDGET_PP = 1.0  # a class output's mixed search: accuracy points it may lose against float
DEFAULT_MIN_SQNR_DB = 40.0  # a tensor output's mixed search by sqnr: the SQNR it must keep
DEFAULT_MAX_REL_ERR = 0.05  # ... by max_rel_err: the worst relative error it may reach


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

    @property
    def output_is_class(self) -> bool:
        return self.program.output_is_class

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """The fraction of rows classified as ``y`` (a class output)."""
        if not self.output_is_class:
            raise CompileError("accuracy needs a class output; use quality() for a tensor output")
        return float(np.mean(self.predict(x) == np.asarray(y)))

    def quality(self, x: np.ndarray) -> dict[str, float]:
        """A tensor output against float's on rows ``x``: ``sqnr_db`` and ``max_rel_err``."""
        if self.output_is_class:
            raise CompileError("quality needs a tensor output; use accuracy() for a class output")
        x = check_calibration(self.graph, x)
        return tensor_quality(self.program, x, run_float(self.graph, x))

    def predict_real(self, x: np.ndarray) -> np.ndarray:
        """A tensor output's real values (the golden model's integers times 2^-frac), one row each."""
        from hlsfix.fixedpoint.tensor_metric import real_output

        return real_output(self.program, self.predict(x))


def compile(
    model: str | Path | Graph | Model,
    calib: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    bits: Bits | int = "16",
    metric: Metric | TensorMetric | None = None,
    activation: Activation | Literal["auto"] = "auto",
    budget_pp: float | None = None,
    weight_budget: int | None = None,
    progress: bool = False,
    min_sqnr: float | None = None,
    max_rel_err: float | None = None,
    rounding: Rounding = "auto",
) -> CompiledModel:
    """Compile a float model to a fixed-point program chosen on calibration data.

    ``model`` is a zoo name, an .sd or .onnx path, a loaded ``Model`` or a ``Graph``. ``calib`` defaults to
    the zoo model's training split; ``labels`` default to the split's labels (or the float model's
    own predictions when none are known). ``rounding="off"``: an 8-bit or mixed program shifts by
    floor everywhere (``explore.explore``)."""
    source: Path | None = None
    test = None
    if isinstance(model, str | Path):
        model = load_model(str(model), require_data=calib is None)
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
    tensor_out = not graph.output_type.is_int
    metric = _metric_for(tensor_out, metric, str(bits))
    floor = _quality_floor(tensor_out, metric, str(bits), budget_pp, min_sqnr, max_rel_err)
    budget = DEFAULT_BUDGET_PP if budget_pp is None else float(budget_pp)
    x = check_calibration(graph, calib)
    t0 = time.perf_counter()
    prof = profile(graph, x)
    float_pred = run_float(graph, x)
    if tensor_out:  # scored against float's outputs; labels (targets) are not needed
        ev: Evaluator = TensorEvaluator(graph, prof, x, float_pred, metric)  # type: ignore[arg-type]
        best = explore(
            ev,
            str(bits),  # type: ignore[arg-type]
            "acc",
            activation,
            budget,
            weight_budget,
            show=progress,
            quality_floor=floor,
            rounding=rounding,
        )
    else:
        ev = Evaluator(graph, prof, x, _labels(graph, x, labels), float_pred)
        best = explore(
            ev,
            str(bits),  # type: ignore[arg-type]
            metric,  # type: ignore[arg-type]
            activation,
            budget,
            weight_budget,
            show=progress,
            rounding=rounding,
        )
    seconds = time.perf_counter() - t0
    return CompiledModel(graph, best.program, best, prof, metric, seconds, ev.runs, source, test)  # type: ignore[arg-type]


def _quality_floor(
    tensor_out: bool,
    metric: str,
    bits: str,
    budget_pp: float | None,
    min_sqnr: float | None,
    max_rel_err: float | None,
) -> float | None:
    """The mixed search's bound for a tensor output, on its metric's higher-is-better scale (SQNR
    in dB, or −max_rel_err); None for a class output, whose bound is ``budget_pp``."""
    given = [n for n, v in (("min_sqnr", min_sqnr), ("max_rel_err", max_rel_err)) if v is not None]
    if given and bits != "mixed":
        raise CompileError(f"{given[0]} applies to bits mixed only, not bits {bits}")
    if not tensor_out:
        if given:
            raise CompileError(
                f"{given[0]} needs a model with a tensor output, not one ending in argmax or sgn "
                "(a class output's mixed search keeps budget_pp)"
            )
        return None
    if budget_pp is not None:
        raise CompileError(
            "budget_pp applies to a model with a class output, not a tensor output "
            "(its mixed search keeps min_sqnr or max_rel_err)"
        )
    wrong = "max_rel_err" if metric == "sqnr" else "min_sqnr"
    if wrong in given:
        needs = "max_rel_err" if metric == "sqnr" else "sqnr"
        raise CompileError(f"{wrong} needs metric {needs}, not {metric}")
    if bits != "mixed":
        return None
    if metric == "sqnr":
        return DEFAULT_MIN_SQNR_DB if min_sqnr is None else float(min_sqnr)
    return -(DEFAULT_MAX_REL_ERR if max_rel_err is None else float(max_rel_err))


def _metric_for(tensor_out: bool, metric: str | None, bits: str) -> str:
    """The exploration metric: class metrics for class outputs, tensor metrics for tensor outputs
    (default ``sqnr``); mixed widths need a class output (their budget is in accuracy points)."""
    if tensor_out:
        metric = "sqnr" if metric is None else metric
        if metric not in TENSOR_METRICS:
            raise CompileError(
                f"metric of a model with a tensor output must be one of {', '.join(TENSOR_METRICS)}, "
                f"not {metric!r}"
            )
        return metric
    metric = "red_disagree" if metric is None else metric
    if metric in TENSOR_METRICS:
        raise CompileError(
            f"metric {metric} needs a model with a tensor output, not one ending in argmax or sgn "
            f"(use one of {', '.join(METRICS)})"
        )
    return metric
