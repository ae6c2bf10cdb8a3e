"""Models from the frameworks: an .onnx or float .tflite file (or a bundled one) with its data, as a
zoo ``Model``. (An int8 .tflite read here is its dequantised float graph; the int8 path is elsewhere.)

Data come from an .npz holding ``X_train`` and ``X_test`` and, when known, ``y_train`` and
``y_test``; without labels, the float model's own decisions stand in (and ``meta`` says so).
The input's range is taken from the data unless given; parameter ranges come from the weights.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from hlsfix.errors import DataError, ModelError
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import batch_input, run_float

ZOO_DIR = Path(__file__).parent
ONNX_NAMES = ("sklearn-mlp", "sklearn-logreg", "torch-dscnn")  # model.onnx
TFLITE_NAMES = ("keras-cnn",)  # model.tflite (float)
IMPORTED_NAMES = ONNX_NAMES + TFLITE_NAMES
IMPORT_SUFFIXES = (".onnx", ".tflite")
DATA_HINT = (
    "--data FILE.npz (Python: data=) holding X_train and X_test (the model's inputs, one flattened row "
    "each) and y_train/y_test when the labels are known"
)


def _arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise DataError(f"data file must exist, not be missing: {path}") from None
    except (OSError, ValueError) as e:
        raise DataError(f"data file must be a readable .npz, not {path} ({e})") from None


def decide_output_kind(arrays: dict[str, np.ndarray] | None, asked: str | None) -> tuple[bool, str]:
    """Whether the imported graph ends in the class decision (argmax of the scores), and why:
    as asked, else from the labels — real-valued or one row of targets per input: the output's
    values; integers: classes; no labels: classes, as a classifier exported without its argmax is
    the common case (``--output-kind values`` says otherwise)."""
    if asked is not None:
        return asked == "class", f"{asked} (--output-kind {asked})"
    y = None if arrays is None else arrays.get("y_train")
    if y is None:
        return True, "class (the data hold no labels; --output-kind values for the output tensor itself)"
    y = np.asarray(y)
    if y.ndim > 1 or (y.dtype.kind == "f" and not np.all(y == np.round(y))):
        return False, "values (the labels are real-valued targets)"
    return True, "class (the labels are integers)"


def imported_dataset(graph: Graph, path: Path, arrays: dict[str, np.ndarray] | None = None):
    """The data set of an imported model, checked against its output (classes or targets, as
    ``check_dataset``), and whether its labels are the float model's own."""
    from hlsfix.zoo import Dataset, check_dataset

    arrays = _arrays(path) if arrays is None else arrays
    missing = [k for k in ("X_train", "X_test") if k not in arrays]
    if missing:
        raise DataError(f"data file must hold X_train and X_test, not lack {', '.join(missing)}: {path}")
    x_train, x_test = batch_input(graph, arrays["X_train"]), batch_input(graph, arrays["X_test"])
    have = "y_train" in arrays and "y_test" in arrays
    if have:  # their count, kind and range are check_dataset's to check
        y_train, y_test = arrays["y_train"], arrays["y_test"]
    else:
        y_train, y_test = run_float(graph, x_train), run_float(graph, x_test)
    flat = (len(x_train), graph.input.size), (len(x_test), graph.input.size)
    dataset = Dataset(x_train.reshape(flat[0]), y_train, x_test.reshape(flat[1]), y_test)
    return check_dataset(graph, dataset, path), not have


def _import(path: Path, name: str, classify: bool) -> tuple[Graph, dict]:
    """The graph of an .onnx or .tflite file, and what the import says about it (for ``meta``).
    Asked for the output's values, a model whose output passes through a Softmax (or another
    transform hlsfix reads only as a class decision) is refused: those values are not computed."""
    if path.suffix == ".tflite":
        from hlsfix.frontend.tflite_float import import_tflite, is_float_tflite

        try:
            dequantize = not is_float_tflite(path.read_bytes())
        except FileNotFoundError:
            raise ModelError(f"TFLite model file must exist, not be missing: {path}") from None
        t = import_tflite(path, name=name, dequantize=dequantize, classify=classify)
        fields = ("operators", "dequantized", "post")
        graph, meta, post = t.graph, {"tflite": {f: getattr(t, f) for f in fields}}, t.post
    else:
        from hlsfix.frontend.onnx import import_onnx

        imported = import_onnx(path, name=name, classify=classify)
        fields = ("output", "scores", "post", "opset", "onnx_ops", "folded")
        graph, meta, post = imported.graph, {"onnx": {f: getattr(imported, f) for f in fields}}, imported.post
    transforms = [p for p in post if p != "identity"]
    if not classify and transforms:
        raise ModelError(
            f"{path.name}: the output's values must be computed to compile it as values, but it passes "
            f"through {', '.join(transforms)}, which hlsfix reads only as a class decision (a division by "
            "a computed sum has no power-of-two fixed-point form): compile it with --output-kind class, "
            "or export the model without that last step"
        )
    return graph, meta


def load_imported(spec: str, data: Path | None, input_range: tuple[float, float] | None = None, *,
                  output_kind: str | None = None, require_data: bool = True):  # fmt: skip
    """A bundled imported model by name, or an .onnx/.tflite path, with its data (see module doc)."""
    from hlsfix.zoo import Model

    bundled = spec in IMPORTED_NAMES
    if bundled:
        path = next(p for p in (ZOO_DIR / spec / f"model{s}" for s in IMPORT_SUFFIXES) if p.exists())
    else:
        path = Path(spec)
    name = spec if bundled else path.stem
    meta: dict = json.loads((path.parent / "meta.json").read_text()) if bundled else {}
    if data is None and (path.parent / "data.npz").exists():
        data = path.parent / "data.npz"
    if data is None and require_data:
        _import(path, name, True)  # a model that cannot be read says so before the data are asked for
        raise DataError(
            f"{path.name}: data must be given ({DATA_HINT}), not missing: the input range and the "
            "fixed-point scales come from it"
        )
    arrays = _arrays(Path(data)) if data is not None else None
    classify, kind = decide_output_kind(arrays, output_kind)
    graph, imported_meta = _import(path, name, classify)
    if data is None:
        return Model(graph, None, {**meta, **imported_meta, "output_kind": kind}, path)
    dataset, own_labels = imported_dataset(graph, Path(data), arrays)
    lo, hi = input_range or (float(dataset.x_train.min()), float(dataset.x_train.max()))
    graph = dataclasses.replace(graph, input=dataclasses.replace(graph.input, declared_range=(lo, hi)))
    meta = {**meta, **imported_meta, "output_kind": kind}
    if own_labels:
        meta["labels"] = "the float model's own decisions (the data file holds no y_train/y_test)"
    return Model(graph, dataset, meta, path)
