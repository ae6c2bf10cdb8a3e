"""Each supported ONNX operator: the imported graph's float reference against onnxruntime on
random inputs (float32 tolerance), and the errors a user sees for what is not supported."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.errors import ModelError
from hlsfix.frontend.onnx import SUPPORTED, import_onnx
from hlsfix.ir import ops
from hlsfix.ir.interp import run_float

from .onnx_helpers import helper, model, run_ort

N = 6
R = np.random.default_rng(7)


def w(*shape: int) -> np.ndarray:
    return R.normal(size=shape).astype(np.float32)


def check(m, in_shape, *, classify=False) -> None:
    x = R.normal(size=(N, int(np.prod(in_shape)))).astype(np.float32)
    imported = import_onnx(m, classify=classify)
    got = run_float(imported.graph, x)
    want = run_ort(m, x, None if classify else imported.scores)
    if classify:
        classes = want.reshape(N) if want.dtype.kind == "i" else np.argmax(want.reshape(N, -1), axis=1)
        assert np.array_equal(got, classes)
        return
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def node(op, inputs, outputs=("y",), **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


CASES = {
    "gemm": ([node("Gemm", ["x", "W", "b"], transB=1)], (1, 12), (1, 5), {"W": w(5, 12), "b": w(5)}),
    "gemm_alpha_beta": (
        [node("Gemm", ["x", "W", "b"], alpha=0.5, beta=2.0)],
        (1, 12),
        (1, 5),
        {"W": w(12, 5), "b": w(1, 5)},
    ),
    "matmul_add": (
        [node("MatMul", ["x", "W"], ["h"]), node("Add", ["h", "b"])],
        (1, 8),
        (1, 4),
        {"W": w(8, 4), "b": w(4)},
    ),
    "matmul_sequence": (
        [node("Reshape", ["x", "s"], ["a"]), node("MatMul", ["a", "W"], ["h"]), node("Add", ["h", "b"])],
        (1, 12),
        None,
        {"s": np.array([1, 3, 4], np.int64), "W": w(4, 5), "b": w(5)},
    ),
    "sub_scalar_left": ([node("Sub", ["c", "x"])], (1, 6), (1, 6), {"c": np.array(0.5, np.float32)}),
    "mul_div": (
        [node("Mul", ["x", "k"], ["h"]), node("Div", ["h", "d"])],
        (1, 3, 4, 4),
        (1, 3, 4, 4),
        {"k": w(1, 3, 1, 1), "d": np.array(3.0, np.float32)},
    ),
    "relu_sigmoid_tanh_exp": (
        [
            node("Relu", ["x"], ["a"]),
            node("Sigmoid", ["x"], ["b"]),
            node("Add", ["a", "b"], ["c"]),
            node("Tanh", ["c"], ["d"]),
            node("Exp", ["d"]),
        ],
        (1, 10),
        (1, 10),
        {},
    ),
    "clip": (
        [node("Clip", ["x", "lo", "hi"])],
        (1, 10),
        (1, 10),
        {"lo": np.array(-0.5, np.float32), "hi": np.array(0.7, np.float32)},
    ),
    "relu6": (
        [node("Clip", ["x", "lo", "hi"])],
        (1, 10),
        (1, 10),
        {"lo": np.array(0, np.float32), "hi": np.array(6, np.float32)},
    ),
    "leaky_hardsigmoid": (
        [node("LeakyRelu", ["x"], ["a"], alpha=0.1), node("HardSigmoid", ["a"], alpha=0.3, beta=0.4)],
        (1, 10),
        (1, 10),
        {},
    ),
    "conv_pads_stride": (
        [node("Conv", ["x", "W", "b"], pads=[1, 0, 2, 1], strides=[2, 1])],
        (1, 3, 7, 6),
        None,
        {"W": w(4, 3, 3, 2), "b": w(4)},
    ),
    "conv_same_dilation": (
        [
            node("Conv", ["x", "W"], ["a"], auto_pad="SAME_UPPER", strides=[2, 2]),
            node("Conv", ["a", "V"], auto_pad="SAME_LOWER"),
            node("Conv", ["a", "V"], ["b"], dilations=[2, 1], pads=[2, 1, 2, 1]),
        ],
        (1, 2, 7, 6),
        None,
        {"W": w(3, 2, 3, 3), "V": w(2, 3, 2, 2)},
    ),
    "conv_groups_depthwise": (
        [
            node("Conv", ["x", "W"], ["a"], group=2, pads=[1, 1, 1, 1]),
            node("Conv", ["a", "D", "db"], group=4, pads=[1, 1, 1, 1]),
        ],
        (1, 4, 5, 5),
        None,
        {"W": w(4, 2, 3, 3), "D": w(4, 1, 3, 3), "db": w(4)},
    ),
    "conv_bn_relu_pool": (
        [
            node("Conv", ["x", "W"], ["a"]),
            node("BatchNormalization", ["a", "g", "be", "mu", "var"], ["b"]),
            node("Relu", ["b"], ["c"]),
            node("MaxPool", ["c"], kernel_shape=[2, 2], strides=[2, 2]),
        ],
        (1, 2, 6, 6),
        None,
        {"W": w(3, 2, 3, 3), "g": w(3), "be": w(3), "mu": w(3), "var": np.abs(w(3)) + 0.5},
    ),
    "batchnorm_alone": (
        [node("BatchNormalization", ["x", "g", "be", "mu", "var"])],
        (1, 3, 4, 4),
        None,
        {"g": w(3), "be": w(3), "mu": w(3), "var": np.abs(w(3)) + 0.5},
    ),
    "maxpool_ceil_pads": (
        [node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0], ceil_mode=1)],
        (1, 2, 6, 7),
        None,
        {},
    ),
    "conv1d_pools_1d": (
        [
            node("Conv", ["x", "W", "b"], ["a"], pads=[1, 2], strides=[2], dilations=[1]),
            node("MaxPool", ["a"], ["m"], kernel_shape=[2], strides=[1]),
            node("AveragePool", ["m"], ["p"], kernel_shape=[3], pads=[1, 1]),
            node("GlobalAveragePool", ["p"]),
        ],
        (1, 3, 11),
        None,
        {"W": w(4, 3, 3), "b": w(4)},
    ),
    "reduce_mean_spatial_and_rows": (
        [
            node("Conv", ["x", "W"], ["a"]),
            node("ReduceMean", ["a"], ["m"], axes=[2, 3]),
            node("Flatten", ["m"], ["f"]),
            node("ReduceMean", ["x"], ["r"], axes=[1, 3], keepdims=0),
            node("Flatten", ["r"], ["g"]),
            node("Concat", ["f", "g"], axis=1),
        ],
        (1, 2, 5, 4),
        None,
        {"W": w(3, 2, 3, 3)},
    ),
    "avgpool": ([node("AveragePool", ["x"], kernel_shape=[2, 2], strides=[2, 2])], (1, 3, 6, 6), None, {}),
    "avgpool_pads_exclude": (
        [node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])],
        (1, 2, 5, 5),
        None,
        {},
    ),
    "avgpool_pads_include": (
        [
            node(
                "AveragePool",
                ["x"],
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[1, 1, 1, 1],
                count_include_pad=1,
            )
        ],
        (1, 2, 5, 5),
        None,
        {},
    ),
    "global_avgpool_flatten_gemm": (
        [node("GlobalAveragePool", ["x"], ["a"]), node("Flatten", ["a"], ["b"]), node("Gemm", ["b", "W"])],
        (1, 4, 3, 3),
        (1, 2),
        {"W": w(4, 2)},
    ),
    "flatten_after_conv": (
        [node("Conv", ["x", "W"], ["a"]), node("Flatten", ["a"])],
        (1, 2, 4, 4),
        None,
        {"W": w(3, 2, 3, 3)},
    ),
    "reshape_transpose": (
        [node("Reshape", ["x", "s"], ["a"]), node("Transpose", ["a"], perm=[0, 2, 1])],
        (1, 12),
        None,
        {"s": np.array([1, 3, -1], np.int64)},
    ),
    "squeeze_unsqueeze": (
        [node("Unsqueeze", ["x", "ax"], ["a"]), node("Squeeze", ["a", "ax0"])],
        (1, 5),
        None,
        {"ax": np.array([2], np.int64), "ax0": np.array([0], np.int64)},
    ),
    "concat_channels": (
        [node("Conv", ["x", "W"], ["a"]), node("Relu", ["x"], ["r"]), node("Concat", ["a", "r"], axis=1)],
        (1, 2, 3, 3),
        None,
        {"W": w(3, 2, 1, 1)},
    ),
    "concat_const": ([node("Concat", ["x", "c"], axis=1)], (1, 4), None, {"c": w(1, 3)}),
    "pad": (
        [node("Pad", ["x", "p"])],
        (1, 2, 3, 3),
        None,
        {"p": np.array([0, 0, 1, 2, 0, 0, 2, 0], np.int64)},
    ),
    "residual_add": (
        [
            node("Conv", ["x", "W"], ["a"], pads=[1, 1, 1, 1]),
            node("Relu", ["a"], ["r"]),
            node("Add", ["r", "x"], ["s"]),
            node("Identity", ["s"], ["i"]),
            node("Dropout", ["i"]),
        ],
        (1, 2, 4, 4),
        None,
        {"W": w(2, 2, 3, 3)},
    ),
    "shape_gather_concat_reshape": (
        [
            node("Shape", ["x"], ["s"]),
            node("Gather", ["s", "zero"], ["n"], axis=0),
            node("Unsqueeze", ["n", "ax"], ["n1"]),
            node("Concat", ["n1", "minus1"], ["shape"], axis=0),
            node("Reshape", ["x", "shape"]),
        ],
        (1, 2, 3, 3),
        None,
        {"zero": np.array(0, np.int64), "ax": np.array([0], np.int64), "minus1": np.array([-1], np.int64)},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_matches_onnxruntime(case: str) -> None:
    nodes, in_shape, out_shape, inits = CASES[case]
    check(model(nodes, in_shape, out_shape, inits), in_shape)


def test_softmax_at_the_output_is_the_class_decision() -> None:
    m = model(
        [node("Gemm", ["x", "W"], ["a"]), node("Softmax", ["a"], axis=1)], (1, 6), (1, 4), {"W": w(6, 4)}
    )
    check(m, (1, 6), classify=True)
    m = model(
        [node("Gemm", ["x", "W"], ["a"]), node("LogSoftmax", ["a"], ["b"]), node("ArgMax", ["b"], axis=1)],
        (1, 6),
        (1, 1),
        {"W": w(6, 4)},
        out_type=7,
    )
    check(m, (1, 6), classify=True)


def test_opset_11_attributes() -> None:
    m = model(
        [
            node("Clip", ["x", "lo", "hi"], ["a"]),
            node("Unsqueeze", ["a"], ["b"], axes=[0]),
            node("Squeeze", ["b"], axes=[0, 1]),
        ],
        (1, 5),
        None,
        {"lo": np.array(-0.2, np.float32), "hi": np.array(0.3, np.float32)},
        opset=11,
    )
    check(m, (1, 5))


def test_unsupported_operator_is_one_error_naming_node_and_list() -> None:
    m = model([node("Relu", ["x"], ["a"]), node("Erf", ["a"], name="my_erf")], (1, 5), (1, 5), {})
    with pytest.raises(ModelError) as e:
        import_onnx(m)
    msg = str(e.value)
    assert "my_erf" in msg and "not Erf" in msg and ", ".join(SUPPORTED) in msg
    assert "\n" not in msg


def test_softmax_in_the_middle_is_refused() -> None:
    m = model([node("Softmax", ["x"], ["a"], axis=1), node("Relu", ["a"])], (1, 5), (1, 5), {})
    with pytest.raises(ModelError, match="Softmax"):
        import_onnx(m)


def test_old_opset_is_refused() -> None:
    m = model([node("Relu", ["x"])], (1, 5), (1, 5), {}, opset=10)
    with pytest.raises(ModelError, match="opset must be 11 or later, not 10"):
        import_onnx(m)


def test_channel_concat_of_nhwc_tensors_needs_no_layout_copies() -> None:
    """Concatenating conv outputs along channels works on NHWC rows: no permutes, and placement
    matrices of C_i × C, not of whole tensors."""
    m = model(
        [
            node("Conv", ["x", "W"], ["a"]),
            node("Conv", ["x", "V"], ["b"], pads=[1, 1, 1, 1]),
            node("Concat", ["a", "b", "k"], ["y"], axis=1),
        ],
        (1, 2, 5, 5),
        None,
        {"W": w(3, 2, 1, 1), "V": w(4, 2, 3, 3), "k": w(1, 2, 5, 5)},
    )
    check(m, (1, 2, 5, 5))
    g = import_onnx(m, classify=False).graph
    permutes = [
        n for n in g.walk() if isinstance(n.op, ops.Reshape) and n.op.order != tuple(sorted(n.op.order))
    ]
    assert len(permutes) == 2  # the input to NHWC, the result back to NCHW: none for the concat
    assert max(p.shape for p in g.params if p.name.startswith("p_y_place")) == (4, 9)
