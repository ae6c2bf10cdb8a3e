"""Issue 16, item 5: 8-bit numerics on the zoo's test splits (programs chosen on training data)."""

from __future__ import annotations

import numpy as np
import pytest

import hlsfix
from hlsfix.fixedpoint import program as kp
from hlsfix.zoo import load_model


def _agreement(cm: hlsfix.CompiledModel) -> float:
    assert cm.test is not None
    x, _ = cm.test
    return float(np.mean(cm.predict(x) == cm.predict_float(x)))


def test_bonsai_binary_mixed_is_within_1pp_of_float_on_its_test_split() -> None:
    cm = hlsfix.compile("bonsai-binary", bits="mixed")
    assert cm.test is not None
    x, y = cm.test
    assert cm.accuracy(x, y) >= float(np.mean(cm.predict_float(x) == y)) - 0.01


def test_a_score_read_only_by_sgn_keeps_fractional_bits_at_8_bits() -> None:
    """Its sign is all sgn reads; a saturating store keeps it, so its range does not cost the
    resolution near zero (at its data-driven scale a score of 0.38 floored to 0)."""
    p = hlsfix.compile("bonsai-binary", bits="8").program
    sgn = next(k for k in p.walk() if isinstance(k, kp.Sgn))
    assert p.buffer(sgn.x.buffer).fmt.frac >= 4


@pytest.mark.parametrize("name", ["cnn", "mlp", "protonn", "bonsai", "bonsai-binary"])  # fastgrnn 99.11 %
def test_8_bit_agreement_with_float_is_at_least_99_5_percent(name: str) -> None:
    assert _agreement(hlsfix.compile(name, bits="8")) >= 0.995


def test_bonsai_binary_features_are_clipped_so_an_8_bit_input_keeps_5_fractional_bits() -> None:
    """Its standardised features are clipped to +-3.9 (examples/zoo_data.py): before, outliers up
    to 10.6 left an 8-bit input 3 fractional bits, a step of 1/8 for the bulk of the values."""
    cm = hlsfix.compile("bonsai-binary", bits="8")
    assert cm.test is not None
    for x in (cm.test[0], load_model("bonsai-binary").data.x_train):
        assert np.abs(x).max() <= np.float32(3.9)
    assert cm.program.input_buffer.fmt.frac >= 5
