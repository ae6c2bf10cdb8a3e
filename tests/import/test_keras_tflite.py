"""The Keras zoo model through the TFLite converter (``examples/train_keras_tflite.py``): the float
file imported into the IR agrees with the TFLite interpreter on the whole test split; its int8
twin runs TFLM-exact in host C and on a Cortex-M4 in QEMU, and reads as its dequantised float
graph too. (Host C, HLS, AVR, QEMU and the accelerator for the float model: ``test_backends``.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.flows.options import ModelSpec, OptionError
from hlsfix.frontend.tflite_oracle import softmax
from hlsfix.frontend.tflite_reader import read_tflite
from hlsfix.ir.interp import run_float
from hlsfix.zoo import load_model
from hlsfix.zoo.imported import ZOO_DIR
from hlsfix.zoo.int8 import int8_model_path
from tests.tools import require_tool

from .test_tflite_float import oracle

FLOAT = ZOO_DIR / "keras-cnn" / "model.tflite"
DATA = ZOO_DIR / "keras-cnn" / "data.npz"


def test_float_import_agrees_with_the_interpreter_on_the_test_split():
    from hlsfix.frontend.tflite_float import import_tflite

    m = load_model("keras-cnn")
    assert m.data is not None and m.meta["tflite"]["dequantized"] is False
    x = m.data.x_test
    want = oracle(FLOAT, x)
    scores = run_float(import_tflite(FLOAT, classify=False).graph, x).reshape(len(x), -1)
    assert np.max(np.abs(softmax(scores) - want)) < 1e-5
    pred = run_float(m.graph, x)
    assert np.array_equal(pred, want.argmax(axis=1))
    assert round(float(np.mean(pred == m.data.y_test)), 4) == m.meta["float_test_accuracy"]


def test_compiles_at_8_bits_within_the_float_accuracy():
    m = load_model("keras-cnn")
    cm = hlsfix.compile(m, bits=8)
    assert m.data is not None
    assert cm.accuracy(m.data.x_test, m.data.y_test) >= m.meta["float_test_accuracy"] - 0.03


def _int8_rows(n: int) -> np.ndarray:
    tensors, _, inputs, _ = read_tflite(int8_model_path("keras_cnn_int8").read_bytes())
    t = tensors[inputs[0]]
    with np.load(DATA) as d:
        x = d["X_test"][:n]
    return np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)


def test_int8_twin_keeps_the_float_accuracy_through_the_tflm_exact_path():
    cm = hlsfix.compile("keras_cnn_int8")
    with np.load(DATA) as d:
        y = d["y_test"]
    pred = np.asarray(cm.predict(_int8_rows(len(y)))).reshape(len(y), -1).argmax(axis=1)
    assert np.mean(pred == y) >= 0.95


def test_int8_twin_in_host_c_and_cortex_m4_qemu_is_bit_exact(tmp_path: Path):
    require_tool("gcc")
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    from hlsfix.fixedpoint.int8.golden import run_int8
    from hlsfix.mcu import runners
    from hlsfix.mcu.int8_emit import decode_int8_records, emit_int8_firmware, emit_int8_model
    from hlsfix.memory.int8_plan import plan_int8_memory

    m = hlsfix.compile_tflite(int8_model_path("keras_cnn_int8")).model
    x = _int8_rows(20)
    mem = plan_int8_memory(m.program)
    scales = (m.input_scale, m.input_zero_point, m.output_scale, m.output_zero_point)
    em = emit_int8_firmware(emit_int8_model(mem, tmp_path, scales=scales), "keras_cnn_int8", x, tmp_path)
    want = run_int8(m.program, x).output
    exe = runners.compile_host(em.sources, tmp_path / "fw", sanitize=True, include_dirs=em.include_dirs)
    assert np.array_equal(decode_int8_records(runners.run_host(exe).records), want)
    elf = runners.compile_cortex_m(
        em.sources, tmp_path / "fw.elf", cpu="cortex-m4", include_dirs=em.include_dirs
    )
    run = runners.run_qemu(elf, machine="mps2-an386", timeout_s=300)
    assert np.array_equal(decode_int8_records(run.records), want)


def test_int8_twin_as_its_dequantised_float_graph():
    """Read as float, the int8 file is the Keras model up to its weights' rounding: it classifies
    the test split almost as the float file does."""
    tensors, _, inputs, _ = read_tflite(int8_model_path("keras_cnn_int8").read_bytes())
    m = load_model(str(int8_model_path("keras_cnn_int8")), data=DATA)
    assert m.meta["tflite"]["dequantized"] is True and m.data is not None
    float_m = load_model("keras-cnn")
    agree = np.mean(run_float(m.graph, m.data.x_test) == run_float(float_m.graph, m.data.x_test))
    assert agree >= 0.97


def test_the_api_takes_a_tflite_path_with_an_input_range():

    cm = hlsfix.compile(ModelSpec(str(FLOAT), data=DATA, input_range=(0.0, 2.0)), bits=16)
    assert cm.graph.input.declared_range == (0.0, 2.0) and cm.graph.input.shape == (1, 8, 8, 1)
    assert cm.test is not None and cm.accuracy(*cm.test) >= 0.95
    for bad in ((1.0, 0.0), (0.0, float("nan")), (float("-inf"), 1.0), (1.0,)):
        with pytest.raises(OptionError, match="--input-range must be LO,HI"):
            ModelSpec(str(FLOAT), input_range=bad)  # type: ignore[arg-type]
