"""Writing an imported-framework zoo model: hlsfix/zoo/<name>/ gets model.onnx, data.npz (the
bundled digits split, copied) and meta.json with the framework runtime's float accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "hlsfix" / "zoo"
DIGITS = ZOO / "mlp" / "data.npz"  # the one digits split every zoo model shares


def digits() -> dict[str, np.ndarray]:
    with np.load(DIGITS) as d:
        return {k: d[k] for k in d.files}


def ort_classes(model_bytes: bytes, x: np.ndarray, output: str) -> np.ndarray:
    """The class of each row by onnxruntime (argmax of the float output, or the label output)."""
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [len(x)] + [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
    out = sess.run([output], {inp.name: x.reshape(shape).astype(np.float32)})[0]
    return out.reshape(len(x)) if out.dtype.kind == "i" else np.argmax(out.reshape(len(x), -1), axis=1)


def write(name: str, model_bytes: bytes, output: str, meta: dict) -> None:
    d = ZOO / name
    d.mkdir(exist_ok=True)
    data = digits()
    (d / "model.onnx").write_bytes(model_bytes)
    np.savez_compressed(d / "data.npz", **data)
    acc = {
        split: float(np.mean(ort_classes(model_bytes, data[f"X_{split}"], output) == data[f"y_{split}"]))
        for split in ("train", "test")
    }
    meta = {
        "name": name,
        "dataset": "sklearn load_digits (8x8 handwritten digits, 64 features, 10 classes)",
        **meta,
        "float_test_accuracy": round(acc["test"], 4),
        "float_train_accuracy": round(acc["train"], 4),
        "float_accuracy_by": f"onnxruntime {ort.__version__}, output {output!r}",
        "n_train": int(len(data["y_train"])),
        "n_test": int(len(data["y_test"])),
        "input_preprocessing": "As the digits zoo models: pixels 0..16 divided by 16.0, row-major.",
        "licence": "Trained here by the training script on scikit-learn's bundled digits data; "
        "the model file is distributed under the project's licence (MIT).",
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{name}: float train {acc['train']:.4f}  test {acc['test']:.4f}  -> {d}")
