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
