"""The bundled model zoo: each model is an .sd program, its weights, a fixed train/test split and
its recorded float test accuracy. Running hlsfix on a zoo model needs no scikit-learn."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hlsfix.errors import DataError, HlsfixError
from hlsfix.frontend.seedot import load_npz, load_program
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import batch_input

ZOO_DIR = Path(__file__).parent
ZOO_NAMES = ("protonn", "bonsai", "bonsai-binary", "fastgrnn", "cnn", "mlp")
DEFAULT_MODEL = "protonn"


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Model:
    """A model as the tools see it: its graph, and the data it came with (if any)."""

    graph: Graph
    data: Dataset | None
    meta: dict
    source: Path

    @property
    def name(self) -> str:
        return self.graph.name


DATA_KEYS = ("X_train", "y_train", "X_test", "y_test")


def load_dataset(path: Path) -> Dataset:
    arrays = load_npz(path, "data file")
    missing = [k for k in DATA_KEYS if k not in arrays]
    if missing:
        raise DataError(f"data file {path} must hold {', '.join(DATA_KEYS)}, not lack {', '.join(missing)}")
    return Dataset(arrays["X_train"], arrays["y_train"], arrays["X_test"], arrays["y_test"])


def check_dataset(graph: Graph, data: Dataset, path: Path | str) -> Dataset:
    """The data set as loaded, with labels as integers (classes) or floats (targets), after checking
    features of the model's input shape and one label per row: integer classes the model can
    give (argmax: 0 .. its operand's size − 1; sgn: 0 or 1), or for a tensor output one target row
    of the output's size. Every error names the data file and the array at fault."""
    out = graph.output_type
    classes = _classes(graph)
    checked = []
    for xk, yk in (("X_train", "y_train"), ("X_test", "y_test")):
        x, y = np.asarray(getattr(data, xk.lower())), np.asarray(getattr(data, yk.lower()))
        where = f"data file {path}"
        try:
            rows = len(batch_input(graph, x))
        except DataError as e:
            raise DataError(f"{where}: {xk}: {e.message}") from None
        if y.dtype.kind not in "biuf":
            raise DataError(f"{where}: {yk} must be numeric, not of dtype {y.dtype}")
        if y.ndim == 0 or len(y) != rows:
            raise DataError(
                f"{where}: {yk} must hold one label per row of {xk} ({rows}), not shape {y.shape}"
            )
        if out.is_int:
            if y.ndim != 1:
                raise DataError(f"{where}: {yk} must be one class per row (1-D), not shape {y.shape}")
            if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
                raise DataError(f"{where}: {yk} must hold integer classes, not fractions or NaN")
            lo, hi = (int(y.min()), int(y.max())) if len(y) else (0, 0)
            if lo < 0 or hi >= classes:
                raise DataError(
                    f"{where}: {yk} must hold classes in 0..{classes - 1} (the model's outputs), "
                    f"not values in {lo}..{hi}"
                )
            y = y.astype(np.int64)
        else:
            if y.reshape(len(y), -1).shape[1] != out.size:
                raise DataError(
                    f"{where}: {yk} must hold one target of {out.size} values per row, not shape {y.shape}"
                )
            if not np.all(np.isfinite(y)):
                raise DataError(f"{where}: {yk} must be finite, not hold NaN/Inf")
            y = y.astype(np.float64)
        checked += [x, y]
    return Dataset(*checked)


def _classes(graph: Graph) -> int:
    """How many classes the output can take (0 for a tensor output)."""
    from hlsfix.ir import ops

    result = graph.body.result
    for node in graph.body.nodes:
        if node.out == result:
            if isinstance(node.op, ops.Argmax):
                return graph.types[node.op.x].size
            if isinstance(node.op, ops.Sgn):
                return 2
    return 0 if not graph.output_type.is_int else 1 << 15


def load_model(
    spec: str,
    weights: Path | None = None,
    data: Path | None = None,
    *,
    input_range: tuple[float, float] | None = None,
    output_kind: str | None = None,
    require_data: bool = True,
) -> Model:
    """A zoo name, a path to an .sd file (weights beside it unless given), or a model from a
    framework: a bundled imported model's name or an .onnx path, whose data (an .npz with
    ``X_train``, ``X_test`` and, when known, the labels) come from ``data`` or a data.npz beside it.
    ``output_kind`` ("class" or "values") says what an imported model's output is; None decides it
    from the labels. A SeeDot program's output is what the program says."""
    from hlsfix.zoo.imported import IMPORT_SUFFIXES, IMPORTED_NAMES, load_imported

    if spec in IMPORTED_NAMES or Path(spec).suffix in IMPORT_SUFFIXES:
        return load_imported(spec, data, input_range, output_kind=output_kind, require_data=require_data)
    if output_kind is not None:
        raise HlsfixError(
            f"--output-kind applies to an imported .onnx/.tflite model, not to {spec!r}: a SeeDot "
            "program's output (a class from argmax/sgn, or a tensor) is what the program computes"
        )
    model = _load_sd(spec, weights, data)
    if input_range is None:
        return model
    graph = model.graph
    graph = replace(graph, input=replace(graph.input, declared_range=tuple(input_range)))
    return replace(model, graph=graph)


def _load_sd(spec: str, weights: Path | None, data: Path | None) -> Model:
    from hlsfix.zoo.imported import IMPORTED_NAMES

    if spec in ZOO_NAMES:
        if weights is not None:
            raise HlsfixError(
                f"weights must not be given for the zoo model {spec} (it brings its own), not {weights}"
            )
        d = ZOO_DIR / spec
        graph = load_program(d / "model.sd", d / "weights.npz", name=spec)
        meta = json.loads((d / "meta.json").read_text())
        data_path = data or d / "data.npz"
        dataset = check_dataset(graph, load_dataset(data_path), data_path)
        return Model(graph, dataset, meta, d / "model.sd")
    path = Path(spec)
    if path.suffix != ".sd" or not path.is_file():
        raise HlsfixError(
            f"model must be a zoo name ({', '.join(ZOO_NAMES + IMPORTED_NAMES)}), an .onnx or .tflite "
            f"file or an existing .sd file, not {spec!r}"
        )
    graph = load_program(path, weights)
    if data is None and (path.parent / "data.npz").exists():
        data = path.parent / "data.npz"
    dataset = check_dataset(graph, load_dataset(data), data) if data else None
    return Model(graph, dataset, {}, path)
