"""Issue 16, item 5: 8-bit numerics on the zoo's test splits (programs chosen on training data)."""

from __future__ import annotations

import numpy as np
import pytest

import hlsfix
from hlsfix.fixedpoint import explore
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.scales import loop_states, partial_sums
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


@pytest.mark.parametrize("name", ["cnn", "mlp", "protonn", "bonsai", "bonsai-binary", "fastgrnn"])
def test_8_bit_agreement_with_float_is_at_least_99_5_percent(name: str) -> None:
    assert _agreement(hlsfix.compile(name, bits="8")) >= 0.995


def test_partial_sums_are_the_values_only_ever_added_to_something() -> None:
    g = load_model("fastgrnn").graph
    # W·x, U·h, their sum (read by the two bias adds), ζ(1−z) (+ ν), the state's two terms, FC·h
    assert partial_sums(g) == ("t.3", "t.4", "t.5", "t.9", "t.11", "t.12", "t.14")
    # the bias adds' results feed sigmoid and tanh, the logits argmax: not partial sums
    assert not {"t.6", "t.7", "t.15"} & set(partial_sums(g))
    assert loop_states(g) == (("loop", "t.13", "t.11", "t.12"),)
    assert partial_sums(load_model("protonn").graph) == ()


def _widths(cm: hlsfix.CompiledModel) -> dict[str, int]:
    p = cm.program
    return {b.name: b.fmt.bits for b in p.buffers if b.kind == "temp"}


def test_fastgrnn_at_8_bits_keeps_its_state_and_pre_activation_sums_wide_and_its_tables_8_bit() -> None:
    """What the training split chose (explore.widen_sums): the recurrent state and W·x + U·h at 16
    bits; sigmoid's and tanh's arguments stay 8-bit, so the AVR reads them from one 256-entry table."""
    cm = hlsfix.compile("fastgrnn", bits="8")
    p = cm.program
    wide = _widths(cm)
    assert wide["H0"] == 16 and wide["t_5"] == 16
    squash = [k for k in p.walk() if isinstance(k, kp.SigmoidTanh)]
    assert len(squash) == 2 and all(p.buffer(k.x.buffer).fmt.bits == 8 for k in squash)
    assert all(p.buffer(c).fmt.bits == 8 for c in ("W", "U", "FC"))


def test_a_widening_that_does_not_pay_on_the_training_data_is_not_kept(monkeypatch) -> None:
    """With a gain no widening can reach (the scores' error cut to nothing) and the metric already
    at its best on the training split, every value stays 8-bit."""
    monkeypatch.setattr(explore, "WIDEN_GAIN", 1.0)
    cm = hlsfix.compile("mlp", bits="8")
    assert set(_widths(cm).values()) == {8}
    monkeypatch.undo()
    assert 16 in _widths(hlsfix.compile("mlp", bits="8")).values()


def test_bonsai_binary_features_are_clipped_so_an_8_bit_input_keeps_5_fractional_bits() -> None:
    """Its standardised features are clipped to +-3.9 (examples/zoo_data.py): before, outliers up
    to 10.6 left an 8-bit input 3 fractional bits, a step of 1/8 for the bulk of the values."""
    cm = hlsfix.compile("bonsai-binary", bits="8")
    assert cm.test is not None
    for x in (cm.test[0], load_model("bonsai-binary").data.x_train):
        assert np.abs(x).max() <= np.float32(3.9)
    assert cm.program.input_buffer.fmt.frac >= 5
