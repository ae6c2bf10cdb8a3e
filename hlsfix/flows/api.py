"""The Python API: ``compile`` → ``CompiledModel`` → ``predict`` / ``save`` / ``build`` / ``simulate``.

    import hlsfix
    cm = hlsfix.compile("protonn", bits="16")
    cm.predict(X)                                        # the golden model, bit-exact
    result = cm.build(board="arty-a7", out="out/protonn", lanes="auto")
    result.bit_exact, result.cycles, result.resources, result.report["fpga"]["fmax_mhz"]
    cm.simulate(out="out/protonn-sim", lanes=2, inputs=20)

The command line is a thin face over these calls.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from hlsfix import compiler
from hlsfix.flows.accel import emit_rtl, simulate
from hlsfix.flows.build import build
from hlsfix.flows.compile_flow import save_compiled
from hlsfix.flows.int8 import compile_tflite
from hlsfix.flows.model import TrackedModel
from hlsfix.flows.options import BuildOptions, CompileOptions, ModelSpec, SimOptions
from hlsfix.flows.progress import Progress, quiet
from hlsfix.flows.result import FlowResult
from hlsfix.ir.graph import Graph
from hlsfix.zoo import Model, load_model
from hlsfix.zoo.int8 import is_int8_tflite, resolve_int8


class CompiledModel(TrackedModel):
    """A compiled model: ``predict`` (the golden model), and the flows that take it to hardware."""

    def save(self, out: Path | str, *, force: bool = False) -> FlowResult:
        """Write program.json, constants.npz, hlsfix.toml and the reports into ``out``."""
        return save_compiled(self, Path(out), force=force)

    def build(
        self,
        board: str = "arty-a7",
        out: Path | str = "out",
        *,
        force: bool = False,
        progress: Progress | None = None,
        **options: Any,
    ) -> FlowResult:
        """Build for ``board`` (see ``BuildOptions`` for ``lanes``, ``inputs``, ``host``, ``backend`` …)."""
        return build(self, Path(out), BuildOptions(board=board, **options), force=force, progress=progress)

    def simulate(
        self, out: Path | str, *, force: bool = False, progress: Progress | None = None, **options: Any
    ) -> FlowResult:
        """The accelerator (or with ``host=`` a co-design split) in cocotb, checked against ``predict``."""
        return simulate(self, Path(out), SimOptions(**options), force=force, progress=progress)

    def emit_rtl(self, out: Path | str, lanes: int = 1, *, force: bool = False) -> FlowResult:
        """The accelerator's Verilog for ``lanes`` parallel lanes, with the compile reports."""
        return emit_rtl(self, Path(out), lanes, force=force)


def load(spec: ModelSpec, *, require_data: bool = True) -> Model:
    """The model named by ``spec``; an imported (.onnx) model without data is a DataError unless
    ``require_data`` is False (calibration data given in Python instead)."""
    return load_model(
        spec.model,
        spec.weights,
        spec.data,
        input_range=spec.input_range,
        output_kind=spec.output_kind,
        require_data=require_data,
    )


def compile(
    model: str | Path | Graph | Model | ModelSpec,
    calib: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    bits: str | int = "16",
    metric: str | None = None,
    activation: str = "auto",
    budget_pp: float | None = None,
    weight_budget: int | None = None,
    progress: bool = False,
    min_sqnr: float | None = None,
    max_rel_err: float | None = None,
) -> CompiledModel:
    """Compile a float model to a fixed-point program chosen on calibration data.

    ``model`` is a zoo name, a model file path, a ``ModelSpec`` (with weights and data files), a
    loaded ``Model`` or a ``Graph``. ``calib`` defaults to the model's training split; ``labels`` to
    the split's labels (or the float model's own decisions when none are known).

    An int8 ``.tflite`` file (or a bundled int8 model's name) needs no calibration data: it compiles
    to a ``CompiledInt8Model`` whose ``predict`` returns TFLM's int8 outputs."""
    if isinstance(model, str | Path) and is_int8_tflite(model):
        return compile_tflite(resolve_int8(model))  # type: ignore[return-value]
    options = CompileOptions(
        bits=str(bits),
        metric=metric,
        activation=activation,
        budget_pp=budget_pp,
        weight_budget=weight_budget,
        min_sqnr=min_sqnr,
        max_rel_err=max_rel_err,
    )
    spec = None
    if isinstance(model, ModelSpec):
        spec, model = model, load(model, require_data=calib is None)
    elif isinstance(model, str | Path):
        spec = ModelSpec(str(model))
        model = load(spec, require_data=calib is None)
    core = compiler.compile(
        model,
        calib,
        labels,
        bits=options.bits,  # type: ignore[arg-type]
        metric=options.metric,  # type: ignore[arg-type]  (None: red_disagree, or sqnr for a tensor output)
        activation=options.activation,  # type: ignore[arg-type]
        budget_pp=options.budget_pp,  # None: 1 pp for a class output (refused for a tensor output)
        weight_budget=options.weight_budget,
        progress=progress,
        min_sqnr=options.min_sqnr,
        max_rel_err=options.max_rel_err,
    )
    values = {f.name: getattr(core, f.name) for f in fields(compiler.CompiledModel)}
    return CompiledModel(**values, spec=spec, options=options)


def compile_spec(spec: ModelSpec, options: CompileOptions, progress: Progress | None = None) -> CompiledModel:
    """Load the model named by ``spec`` and compile it; the exploration is one progress step."""
    (progress or quiet)(
        f"exploring fixed-point formats for {spec.model} ({options.bits}-bit, on the training data)"
    )
    return compile(
        spec,
        bits=options.bits,
        metric=options.metric,
        activation=options.activation,
        budget_pp=options.budget_pp,
        weight_budget=options.weight_budget,
        min_sqnr=options.min_sqnr,
        max_rel_err=options.max_rel_err,
    )
