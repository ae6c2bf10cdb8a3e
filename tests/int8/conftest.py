"""Shared fixtures of the int8 tests: the bundled models, loaded once."""

from __future__ import annotations

import pytest

from hlsfix.frontend.tflite import TfliteInt8Model, load_tflite_int8
from hlsfix.zoo.int8 import int8_model_path
from tests.tools import tool_missing

_CACHE: dict[str, TfliteInt8Model] = {}


def int8_model(name: str) -> TfliteInt8Model:
    if name not in _CACHE:
        _CACHE[name] = load_tflite_int8(int8_model_path(name))
    return _CACHE[name]


@pytest.fixture
def require_tflm() -> None:
    from hlsfix.fixedpoint.int8.tflm_oracle import tflm_available

    if not tflm_available():
        tool_missing("the tflite-micro package (TFLM's reference kernels) is not installed")
