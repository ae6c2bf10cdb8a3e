"""The TFLite interpreter (``ai-edge-litert``, or ``tflite-runtime``) as the oracle of the TFLite
float import: a model's own output on rows of inputs, one invocation per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.errors import ModelError


def interpreter(path: str | Path):  # -> an allocated Interpreter
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter  # type: ignore[no-redef]
        except ImportError:
            raise ModelError(
                "the TFLite interpreter must be installed to check against it: pip install ai-edge-litert"
            ) from None
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    return it


def run_interpreter(path: str | Path, x: np.ndarray) -> np.ndarray:
    """The model's output for each row of ``x`` (rows flattened as the model's input), flattened."""
    it = interpreter(path)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    rows = []
    for row in np.asarray(x):
        it.set_tensor(inp["index"], np.asarray(row, inp["dtype"]).reshape(inp["shape"]))
        it.invoke()
        rows.append(np.array(it.get_tensor(out["index"])).reshape(-1))
    return np.array(rows)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def compare_with_interpreter(path: str | Path, x: np.ndarray):  # -> onnx_oracle.Agreement
    """The imported float graph's output (softmax applied when the file ends in one) against the
    TFLite interpreter's on the rows of x: max abs error and class agreement."""
    from hlsfix.frontend.onnx_oracle import Agreement
    from hlsfix.frontend.tflite_float import import_tflite
    from hlsfix.ir.interp import run_float

    imported = import_tflite(path, classify=False)
    ours = np.asarray(run_float(imported.graph, x), np.float64).reshape(len(x), -1)
    if "softmax" in imported.post:
        ours = softmax(ours)
    theirs = run_interpreter(path, x).astype(np.float64)
    err = float(np.max(np.abs(ours - theirs)))
    agree = float(np.mean(np.argmax(ours, axis=1) == np.argmax(theirs, axis=1)))
    return Agreement("the model's output", len(x), err, agree)
