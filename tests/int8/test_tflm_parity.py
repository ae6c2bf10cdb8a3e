"""The golden model against TFLM's reference kernels (the tflite-micro package), per model and so
per operator: every operator the int8 frontend supports occurs in at least one bundled model."""

from __future__ import annotations

import numpy as np
import pytest

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

    x = random_inputs(name, N_INPUTS.get(name, 40))
    got = run_int8(int8_model(name).program, x).output
    want = tflm_run(int8_model_path(name), x)
    assert got.shape == want.shape
    mismatched = np.nonzero((got != want).any(axis=1))[0]
    assert mismatched.size == 0, f"{name}: rows {mismatched[:10]} differ from TFLM"
    assert len(np.unique(got, axis=0)) > 1 or got.shape[1] == 1  # the test is not vacuous


def test_every_supported_operator_is_covered_by_a_bundled_model() -> None:
    used = {op for name in INT8_MODEL_NAMES for op in int8_model(name).operators}
    assert set(SUPPORTED_OPERATORS) <= used
