"""Every form the ONNX importer writes operators in (depthwise and dilated convolutions, average
pooling with and without counted padding, an unfolded BatchNormalization, Pad, a Transpose,
Concat placements, Div by a constant, constant-left Subs, ReduceMean, LeakyRelu,
HardSigmoid, Clip, 1-D convolution) in one random model, compiled to fixed
point and run bit-exact with the golden model through host C and HLS C-simulation (16 and 8 bits),
every element of the output tensor compared. (The accelerator runs the same kernels in
test_backends.py on the DS-CNN; two inputs of this model took Icarus over 3 CPU minutes.)"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.onnx import import_onnx
from hlsfix.ir.interp import run_float

from .backend_checks import assert_hls_csim_equals_golden, assert_host_c_equals_golden
from .onnx_helpers import helper, model, run_ort

R = np.random.default_rng(11)


def w(*shape: int, scale: float = 0.5) -> np.ndarray:
    return (R.normal(size=shape) * scale).astype(np.float32)


def node(op, inputs, outputs, **attrs):
    return helper.make_node(op, list(inputs), list(outputs), **attrs)


NODES = [
    node("Conv", ["x", "W1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    node("LeakyRelu", ["c1"], ["l1"], alpha=0.1),
    node("Conv", ["l1", "D"], ["dw"], group=4, pads=[2, 2, 2, 2], dilations=[2, 2]),
    node("HardSigmoid", ["dw"], ["hs"]),
    node("BatchNormalization", ["l1", "gam", "bet", "mu", "var"], ["bn"]),
    node("Pad", ["bn", "pads"], ["pd"]),
    node("AveragePool", ["pd"], ["ap"], kernel_shape=[3, 3], strides=[1, 1], pads=[0, 0, 0, 0]),
    node("AveragePool", ["hs"], ["ap2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    node("Transpose", ["ap"], ["apt"], perm=[0, 1, 3, 2]),
    node("Concat", ["apt", "hs"], ["cat"], axis=1),
    node("ReduceMean", ["cat"], ["rm"], axes=[2, 3], keepdims=0),
    node("Flatten", ["ap2"], ["f2"]),
    node("Concat", ["rm", "f2"], ["feat"], axis=1),
    node("Unsqueeze", ["feat", "ax"], ["f3"]),
    node("Conv", ["f3", "C1"], ["t"], pads=[1, 1]),
    node("Flatten", ["t"], ["tf"]),
    node("Gemm", ["tf", "G", "g"], ["z"], transB=1),
    node("Clip", ["z", "lo", "hi"], ["zc"]),
    node("Sub", ["k", "zc"], ["s"]),
    node("Div", ["s", "two"], ["s2"]),
    node("Sub", ["half", "s2"], ["y"]),
]
INITS = {
    "W1": w(4, 2, 3, 3), "b1": w(4), "D": w(4, 1, 3, 3), "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1]),
    "G": w(6, 88, scale=0.5), "g": w(6, scale=0.1), "lo": np.array(-2.0, np.float32),
    "hi": np.array(2.5, np.float32), "k": w(6, scale=0.05), "ax": np.array([1]), "C1": w(2, 1, 3, scale=1.0),
    "gam": w(4), "bet": w(4), "mu": w(4), "var": np.abs(w(4)) + 0.5, "two": np.array(2.0, np.float32),
    "half": np.array(0.5, np.float32),
}  # fmt: skip


@cache
def program(bits: int):
    """The model's output tensor (not a class: every element is compared), at data-driven formats."""
    graph = import_onnx(model(NODES, (1, 2, 6, 6), None, INITS), name="forms", classify=False).graph
    x = np.random.default_rng(5).uniform(-1, 1, size=(300, 72))
    prof = profile(graph, x[:200])
    prog = lower(graph, assign_formats(graph, prof, FormatPolicy(bits=bits)), prof)
    x_q = quantize_input(prog, x[200:])
    return prog, x_q, run_golden(prog, x_q).output


def test_float_reference_agrees_with_onnxruntime() -> None:
    m = model(NODES, (1, 2, 6, 6), None, INITS)
    x = np.random.default_rng(6).uniform(-1, 1, size=(16, 72))
    got = run_float(import_onnx(m, classify=False).graph, x)
    np.testing.assert_allclose(got.reshape(16, -1), run_ort(m, x).reshape(16, -1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("bits", [16, 8])
def test_host_c_equals_golden(bits: str, tmp_path: Path) -> None:
    prog, x_q, golden = program(bits)
    assert golden.shape == (100, 6) and len(np.unique(golden)) > 20  # outputs vary: a difference shows
    assert_host_c_equals_golden(prog, x_q, golden, tmp_path)


@pytest.mark.parametrize("bits", [16, 8])
def test_hls_csim_equals_golden(bits: str, tmp_path: Path) -> None:
    prog, x_q, golden = program(bits)
    assert_hls_csim_equals_golden(prog, x_q, golden, tmp_path)
