"""The TFLite float import: each operator form's imported float reference against the TFLite
interpreter on random inputs (float32 tolerance), the layouts (NHWC flattening, per-channel
constants), int8 files as their dequantised float graph, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hlsfix.errors import ModelError
from hlsfix.frontend.tflite_float import SUPPORTED, import_tflite, is_float_tflite
from hlsfix.ir.interp import run_float
from hlsfix.zoo.int8 import int8_model_path
from tests.tools import tool_missing

DATA = Path(__file__).parent / "data" / "tflite"
CASES = sorted(p.stem for p in DATA.glob("*.tflite"))
N = 8


def oracle(path: Path, x: np.ndarray) -> np.ndarray:
    try:
        import ai_edge_litert  # noqa: F401
    except ImportError:
        tool_missing("ai-edge-litert (the TFLite interpreter) is not installed")
    from hlsfix.frontend.tflite_oracle import run_interpreter

    return run_interpreter(path, x)


def imported_scores(imported, x: np.ndarray) -> np.ndarray:
    from hlsfix.frontend.tflite_oracle import softmax

    got = np.asarray(run_float(imported.graph, x), np.float64).reshape(len(x), -1)
    return softmax(got) if "softmax" in imported.post else got


def test_the_operator_forms_are_all_there():
    assert len(CASES) >= 20
    ops = {op for c in CASES for op, _ in import_tflite(DATA / f"{c}.tflite").operators}
    wanted = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "AVERAGE_POOL_2D",
              "MAX_POOL_2D", "MEAN", "RESHAPE", "SOFTMAX", "LOGISTIC", "TANH", "LEAKY_RELU", "PAD",
              "CONCATENATION"}  # fmt: skip
    assert wanted <= ops, wanted - ops


@pytest.mark.parametrize("case", CASES)
def test_float_reference_matches_the_tflite_interpreter(case):
    path = DATA / f"{case}.tflite"
    imported = import_tflite(path, classify=False)
    x = np.random.default_rng(len(case)).normal(size=(N, imported.graph.input.size)).astype(np.float32)
    want = oracle(path, x)
    got = imported_scores(imported, x)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_classify_ends_in_the_interpreters_class():
    path = DATA / "fc_softmax.tflite"
    imported = import_tflite(path)
    x = np.random.default_rng(3).normal(size=(40, 10)).astype(np.float32)
    assert np.array_equal(run_float(imported.graph, x), oracle(path, x).argmax(axis=1))


def test_the_input_keeps_tflites_nhwc_shape():
    imported = import_tflite(DATA / "conv_same_relu.tflite", classify=False)
    assert imported.graph.input.shape == (1, 6, 6, 2)


def test_int8_files_go_to_the_int8_path_unless_dequantized():
    path = int8_model_path("float_io")
    assert not is_float_tflite(path.read_bytes())
    assert is_float_tflite((DATA / "conv_same_relu.tflite").read_bytes())
    with pytest.raises(ModelError, match="not int8 .*dequantize=True"):
        import_tflite(path)


@pytest.mark.parametrize("name", ["float_io", "ds_cnn_tiny"])
def test_an_int8_model_as_its_dequantised_float_graph(name):
    """The dequantised graph computes what the int8 model approximates: its outputs lie within a
    few of the int8 output's quantisation steps (the int8 rounding of every layer is all that differs)."""
    from hlsfix.frontend.tflite_reader import read_tflite

    path = int8_model_path(name)
    imported = import_tflite(path, classify=False, dequantize=True)
    assert imported.dequantized
    tensors, _, inputs, outputs = read_tflite(path.read_bytes())
    tin, tout = tensors[inputs[0]], tensors[outputs[0]]
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, imported.graph.input.size)).astype(np.float32)
    if tin.dtype != 0:  # an int8 input: the rows are int8 codes; the float graph reads their values
        q = np.clip(np.round(x * 40), -128, 127)
        x_float, x_int = (q - tin.zero_point) * tin.scale, q
    else:
        x_float = x_int = x
    want = oracle(path, x_int).astype(np.float64)
    if tout.dtype != 0:
        want = (want - tout.zero_point) * tout.scale
    got = imported_scores(imported, x_float)
    step = tout.scale if tout.scales else 0.0
    assert np.max(np.abs(got - want)) <= 12 * step + 0.1 * np.max(np.abs(want))


def test_an_unsupported_operator_is_one_error_naming_it_and_the_list():
    with pytest.raises(ModelError) as e:
        import_tflite(DATA.parent / "tflite_unsupported" / "abs.tflite")
    msg = e.value.message
    assert "\n" not in msg and msg.startswith("operator ABS#") and msg.endswith("not ABS")
    assert all(op in msg for op in SUPPORTED)


def test_a_missing_file_and_garbage_are_one_line_errors(tmp_path):
    with pytest.raises(ModelError, match="must exist"):
        import_tflite(tmp_path / "none.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(ModelError, match="TFLite flatbuffer"):
        import_tflite(bad)
