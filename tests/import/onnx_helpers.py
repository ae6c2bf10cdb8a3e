"""Building small ONNX models and running them in onnxruntime, for the import tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OPSET = 13


def model(
    nodes: Sequence,
    in_shape: Sequence[int],
    out_shape: Sequence[int] | None,
    inits: Mapping[str, np.ndarray] | None = None,
    opset: int = OPSET,
    out_type: int = TensorProto.FLOAT,
) -> onnx.ModelProto:
    """A graph from input ``x`` to output ``y`` through ``nodes``, with float32 initializers."""
    graph = helper.make_graph(
        list(nodes),
        "t",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info("y", out_type, None if out_shape is None else list(out_shape))],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    if out_shape is not None:  # the checker wants every output's shape
        onnx.checker.check_model(m)
    return m


def run_ort(m: onnx.ModelProto, x: np.ndarray, output: str | None = None) -> np.ndarray:
    """Each row of x (reshaped to the model's input shape) through onnxruntime, stacked."""
    if output is not None and output not in [o.name for o in m.graph.output]:
        m = onnx.ModelProto.FromString(m.SerializeToString())
        m.graph.output.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    name = output or sess.get_outputs()[0].name
    rows = [sess.run([name], {inp.name: r.reshape(shape).astype(np.float32)})[0] for r in x]
    return np.stack(rows)
