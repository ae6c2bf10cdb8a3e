"""The bundled model zoo: each model is an .sd program, its weights, a fixed train/test split and
its recorded float test accuracy. Running hlsfix on a zoo model needs no scikit-learn."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import HlsfixError
from hlsfix.frontend.seedot import load_npz, load_program
from hlsfix.ir.graph import Graph

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
    arrays = load_npz(path)
    missing = [k for k in DATA_KEYS if k not in arrays]
    if missing:
        raise HlsfixError(
            f"data file must hold {', '.join(DATA_KEYS)}, not lack {', '.join(missing)}: {path}"
        )
    return Dataset(
        arrays["X_train"],
        arrays["y_train"].astype(np.int64),
        arrays["X_test"],
        arrays["y_test"].astype(np.int64),
    )


def load_model(
    spec: str,
    weights: Path | None = None,
    data: Path | None = None,
    *,
    input_range: tuple[float, float] | None = None,
    require_data: bool = True,
) -> Model:
    """A zoo name, a path to an .sd file (weights beside it unless given), or a model from a
    framework: a bundled imported model's name or an .onnx path, whose data (an .npz with
    ``X_train``, ``X_test`` and, when known, the labels) come from ``data`` or a data.npz beside it."""
    from hlsfix.zoo.imported import IMPORT_SUFFIXES, IMPORTED_NAMES, load_imported

    if spec in IMPORTED_NAMES or Path(spec).suffix in IMPORT_SUFFIXES:
        return load_imported(spec, data, input_range, require_data=require_data)
    if spec in ZOO_NAMES:
        d = ZOO_DIR / spec
        graph = load_program(d / "model.sd", d / "weights.npz", name=spec)
        meta = json.loads((d / "meta.json").read_text())
        dataset = load_dataset(data or d / "data.npz")
        return Model(graph, dataset, meta, d / "model.sd")
    path = Path(spec)
    if path.suffix != ".sd" or not path.exists():
        raise HlsfixError(
            f"model must be a zoo name ({', '.join(ZOO_NAMES + IMPORTED_NAMES)}), an .onnx file or an "
            f"existing .sd file, not {spec!r}"
        )
    graph = load_program(path, weights)
    dataset = load_dataset(data) if data else None
    if dataset is None and (path.parent / "data.npz").exists():
        dataset = load_dataset(path.parent / "data.npz")
    return Model(graph, dataset, {}, path)
