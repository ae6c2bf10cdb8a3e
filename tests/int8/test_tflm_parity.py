"""The golden model against TFLM's reference kernels (the tflite-micro package), per model and so
per operator: every operator the int8 frontend supports occurs in at least one bundled model."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.fixedpoint.int8.arith import dequantize, quantize_float
from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.frontend.tflite import SUPPORTED_OPERATORS
from hlsfix.zoo.int8 import INT8_MODEL_NAMES, int8_model_path

from .conftest import int8_model

N_INPUTS = {
    "person_detect": 6,
    "mlperf_vww_mobilenet": 6,
    "mlperf_ic_resnet8": 8,
    "bottleneck": 8,
    "resnet_tiny": 12,
}


def random_inputs(name: str, n: int, seed: int = 0) -> np.ndarray:
    size = int8_model(name).program.input_buffer.size
    rng = np.random.default_rng(seed)
    # Each row its own level and spread: i.i.d. noise alone averages out in pooled models.
    level = rng.integers(-128, 128, (n, 1))
    spread = rng.integers(1, 128, (n, 1))
    x = np.clip(level + rng.integers(-128, 128, (n, size)) * spread // 128, -128, 127)
    x[0] = -128  # the extremes, where saturation and clamps act
    if n > 1:
        x[1] = 127
    return x


@pytest.mark.usefixtures("require_tflm")
@pytest.mark.parametrize("name", INT8_MODEL_NAMES)
def test_golden_is_bit_exact_with_tflm(name: str) -> None:
    from hlsfix.fixedpoint.int8.tflm_oracle import tflm_run

    m = int8_model(name)
    x = random_inputs(name, N_INPUTS.get(name, 40))
    if m.float_input:  # the model's own float inputs, across QUANTIZE's rounding boundaries
        jitter = np.random.default_rng(1).uniform(-0.6, 0.6, x.shape)
        x = ((x - m.input_zero_point + jitter) * np.float32(m.input_scale)).astype(np.float32)
        q = quantize_float(x, m.input_scale, m.input_zero_point)
    else:
        q = x
    got = run_int8(m.program, q).output
    if m.float_output:
        got = dequantize(got, m.output_scale, m.output_zero_point)
    want = tflm_run(int8_model_path(name), x)
    assert got.shape == want.shape and got.dtype.kind == want.dtype.kind
    mismatched = np.nonzero((got != want).any(axis=1))[0]
    assert mismatched.size == 0, f"{name}: rows {mismatched[:10]} differ from TFLM"
    assert len(np.unique(got, axis=0)) > 1 or got.shape[1] == 1  # the test is not vacuous


@pytest.mark.usefixtures("require_tflm")
@pytest.mark.parametrize("name", ["person_detect", "bottleneck", "float_io"])
def test_the_scheduled_program_is_bit_exact_with_tflm(name: str) -> None:
    """Reordered and sliced (partial execution), through the API: still TFLM's outputs."""
    from hlsfix.fixedpoint.int8.tflm_oracle import tflm_run
    from hlsfix.flows.int8 import compile_tflite

    cm = compile_tflite(int8_model_path(name))
    x = cm.random_model_inputs(6, seed=2)
    got = cm.predict(x).reshape(6, -1)
    assert np.array_equal(got, tflm_run(cm.source, x).astype(got.dtype))


def test_every_supported_operator_is_covered_by_a_bundled_model() -> None:
    used = {op for name in INT8_MODEL_NAMES for op in int8_model(name).operators}
    assert set(SUPPORTED_OPERATORS) <= used
