"""The Uno's limits are "does not fit" errors with the numbers, whatever overflows first: a
constant larger than avr-gcc's largest object (32,767 bytes), a buffer of more than 32,767
elements (the kernels' int16 indices), and a float baseline that cannot be built is a note in the
report, never an error of the fixed build. (Each failed differently before: avr-gcc's own error,
UnsupportedProgram, and the baseline's build error raised.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.boards import BOARDS
from hlsfix.errors import BoardError
from hlsfix.flows.options import ModelSpec
from hlsfix.mcu.uno import build_uno
from tests.tools import require_tool

UNO = BOARDS["arduino-uno"]


def dense_model(tmp: Path, n_in: int, n_out: int, seed: int = 0) -> ModelSpec:
    """argmax(W · X) with W (n_out, n_in): its weights are n_out·n_in constants."""
    rng = np.random.default_rng(seed)
    (tmp / "m.sd").write_text(
        f"let X = ({n_in}, 1) in [0.0, 1.0] in\nlet W = ({n_out}, {n_in}) in [-1.0, 1.0] in\nargmax(W * X)\n"
    )
    w = rng.uniform(-1, 1, (n_out, n_in))
    np.savez(tmp / "weights.npz", W=w)
    x = rng.uniform(0, 1, (40, n_in, 1))
    y = np.argmax(np.einsum("oi,nij->no", w, x), axis=1)
    np.savez(tmp / "data.npz", X_train=x[:30], y_train=y[:30], X_test=x[30:], y_test=y[30:])
    return ModelSpec(str(tmp / "m.sd"), tmp / "weights.npz", tmp / "data.npz")


def test_a_16_bit_constant_over_32_kb_is_a_flash_fit_error(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    cm = hlsfix.compile(dense_model(tmp_path, 100, 200), bits=16)  # 20,000 weights: 40,000 bytes
    with pytest.raises(BoardError) as e:
        build_uno(cm, tmp_path / "out", n_inputs=2, arduino=False)
    msg = e.value.message
    assert msg.startswith("arduino-uno: flash must fit the Uno's 32256 bytes, not need at least 40000")
    assert "\n" not in msg


def test_a_buffer_over_32767_elements_is_a_fit_error(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    cm = hlsfix.compile(dense_model(tmp_path, 33000, 2), bits=8)
    with pytest.raises(BoardError) as e:
        build_uno(cm, tmp_path / "out", n_inputs=2, arduino=False)
    msg = e.value.message
    assert msg.startswith("arduino-uno: ") and "RAM must fit the Uno's 2048 bytes, not need at least" in msg
    assert "flash must fit the Uno's 32256 bytes, not need at least 66000" in msg  # its 66,000 weights


def test_a_float_baseline_that_cannot_be_built_is_a_note(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    require_tool("avr-size")
    cm = hlsfix.compile(dense_model(tmp_path, 100, 90), bits=8)  # 9,000 bytes fixed; 36,000 in float
    built = build_uno(cm, tmp_path / "out", n_inputs=2, arduino=False)
    assert built.bit_exact and built.flash_bytes <= UNO.flash_bytes
    fb = built.float_baseline
    assert fb is not None and fb.cycles == () and fb.note is not None
    assert "flash must fit the Uno's 32256 bytes, not need at least 36000" in fb.note
    assert built.mcu_report()["float_note"] == fb.note and built.mcu_report()["cycles_float"] is None
