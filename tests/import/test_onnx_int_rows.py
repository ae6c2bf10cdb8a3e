"""Integer-typed data, ArgMax along an axis and Softmax over many rows: the float reference against
onnxruntime on many random inputs (integers exactly, after the cast to the output's ONNX type),
and the refusals around them."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.errors import ModelError
from hlsfix.frontend.onnx import import_onnx
from hlsfix.ir.interp import run_float

from .onnx_helpers import TensorProto, helper, onnx, ort

R = np.random.default_rng(13)
N = 40


def int_model(nodes, in_shape, inits, elem=TensorProto.INT32, out_elem=None):
    graph = helper.make_graph(
        list(nodes),
        "t",
        [helper.make_tensor_value_info("x", elem, list(in_shape))],
        [helper.make_tensor_value_info("y", out_elem or elem, None)],
        [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def ort_rows(m, x: np.ndarray, shape, dtype) -> np.ndarray:
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.stack([sess.run(["y"], {"x": r.reshape(shape).astype(dtype)})[0] for r in x])


def test_integer_div_truncates_toward_zero_like_onnxruntime() -> None:
    c = np.array([[3, -3, 7, -2, 5, 1]], dtype=np.int32)
    m = int_model([helper.make_node("Div", ["x", "c"], ["y"])], (1, 6), {"c": c})
    x = R.integers(-50, 50, size=(N, 6))
    imported = import_onnx(m, classify=False)
    assert imported.output_dtype == "int32"
    got = imported.cast(run_float(imported.graph, x.astype(np.float64)))
    want = ort_rows(m, x, (1, 6), np.int32).reshape(N, -1)
    assert np.array_equal(got.reshape(N, -1), want) and np.any(want < 0) and np.any(x % 3 != 0)


def test_integer_add_mul_clip_are_exact() -> None:
    nodes = [
        helper.make_node("Mul", ["x", "k"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Clip", ["a", "lo", "hi"], ["y"]),
    ]
    inits = {"k": np.array([3, -2, 5, 1], np.int32), "b": np.array(7, np.int32)}
    inits |= {"lo": np.array(-40, np.int32), "hi": np.array(60, np.int32)}
    m = int_model(nodes, (1, 4), inits, elem=TensorProto.INT32)
    x = R.integers(-30, 30, size=(N, 4))
    imported = import_onnx(m, classify=False)
    got = imported.cast(run_float(imported.graph, x.astype(np.float64))).reshape(N, -1)
    assert np.array_equal(got, ort_rows(m, x, (1, 4), np.int32).reshape(N, -1))


def test_an_integer_quotient_feeding_computation_is_one_error() -> None:
    nodes = [helper.make_node("Div", ["x", "c"], ["q"]), helper.make_node("Add", ["q", "c"], ["y"])]
    m = int_model(nodes, (1, 2), {"c": np.array([2, 3], np.int32)})
    with pytest.raises(ModelError, match=r"node 'y' \(Add\): an integer Div's quotient 'q' must be"):
        import_onnx(m, classify=False)


@pytest.mark.parametrize("axis,keepdims,last", [(0, 1, 0), (1, 0, 0), (2, 1, 1), (-1, 0, 1)])
def test_argmax_along_an_axis_with_ties(axis: int, keepdims: int, last: int) -> None:
    node = helper.make_node("ArgMax", ["x"], ["y"], axis=axis, keepdims=keepdims, select_last_index=last)
    m = int_model([node], (2, 3, 4), {}, elem=TensorProto.FLOAT, out_elem=TensorProto.INT64)
    x = R.integers(0, 3, size=(N, 24)).astype(np.float64)  # many ties: first or last maximum shows
    got = run_float(import_onnx(m, classify=False).graph, x).reshape(N, -1)
    want = ort_rows(m, x, (2, 3, 4), np.float32).reshape(N, -1)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_over_rows_is_the_class_of_each_row(op: str) -> None:
    m = int_model([helper.make_node(op, ["x"], ["y"], axis=1)], (2, 5, 3), {}, elem=TensorProto.FLOAT)
    x = R.normal(size=(N, 30))
    got = run_float(import_onnx(m, classify=True).graph, x).reshape(N, -1)
    want = np.argmax(ort_rows(m, x, (2, 5, 3), np.float32), axis=2).reshape(N, -1)
    assert np.array_equal(got, want)


def test_a_softmax_feeding_computation_is_still_refused() -> None:
    nodes = [helper.make_node("Softmax", ["x"], ["s"]), helper.make_node("Relu", ["s"], ["y"])]
    m = int_model(nodes, (2, 3), {}, elem=TensorProto.FLOAT)
    with pytest.raises(ModelError, match="must only lead to the model's output"):
        import_onnx(m)


def test_integer_overflow_wraps_in_the_float_reference_like_onnxruntime() -> None:
    nodes = [helper.make_node("Add", ["x", "c"], ["s"]), helper.make_node("Mul", ["s", "c"], ["y"])]
    c = np.array([2**30, 7, -3, 3 * 2**28], np.int32)
    m = int_model(nodes, (1, 4), {"c": c})
    x = R.integers(-(2**31), 2**31, size=(N, 4))
    imported = import_onnx(m, classify=False)
    got = imported.cast(run_float(imported.graph, x.astype(np.float64))).reshape(N, -1)
    want = ort_rows(m, x, (1, 4), np.int32).reshape(N, -1)
    exact = (x + c) * c
    assert np.array_equal(got, want) and np.any(exact != want)  # some rows wrapped


def test_argmax_of_a_softmax_along_another_axis_is_refused() -> None:
    nodes = [
        helper.make_node("Softmax", ["x"], ["s"], axis=1),
        helper.make_node("ArgMax", ["s"], ["y"], axis=0),
    ]
    m = int_model(nodes, (3, 4), {}, elem=TensorProto.FLOAT, out_elem=TensorProto.INT64)
    with pytest.raises(ModelError, match=r"node 'y' \(ArgMax\): axis must be the axis of the Softmax"):
        import_onnx(m, classify=False)
    nodes[1] = helper.make_node("ArgMax", ["s"], ["y"], axis=1, keepdims=0)
    m = int_model(nodes, (3, 4), {}, elem=TensorProto.FLOAT, out_elem=TensorProto.INT64)
    x = R.normal(size=(N, 12))
    got = run_float(import_onnx(m, classify=False).graph, x).reshape(N, -1)
    assert np.array_equal(got, np.argmax(x.reshape(N, 3, 4), axis=2))
