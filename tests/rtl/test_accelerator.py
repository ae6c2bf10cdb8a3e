"""RTL end to end: the emitted Verilog of each zoo model, bit-exact with the golden model in Icarus.

``HLSFIX_RTL_INPUTS`` sets how many test inputs each model streams through (default 50).
"""

from __future__ import annotations

import os

import pytest

import hlsfix
from hlsfix.fixedpoint.golden import quantize_input
from tests.tools import require_tool

pytest.importorskip("amaranth")
pytest.importorskip("cocotb_tools")

N_INPUTS = int(os.environ.get("HLSFIX_RTL_INPUTS", "50"))
# Verified bit-exact on 50 inputs so far; bonsai, bonsai-binary, fastgrnn and cnn are not yet in CI.
MODELS = ["protonn", "mlp"]


def _inputs(model: str, n: int):
    cm = hlsfix.compile(model, bits="16")
    return cm.program, quantize_input(cm.program, cm.test[0][:n])


@pytest.mark.parametrize("model", MODELS)
def test_zoo_model_is_bit_exact_in_icarus(model, tmp_path):
    require_tool("iverilog")
    from sim.runner import run_cocotb

    program, x_q = _inputs(model, N_INPUTS)
    res = run_cocotb(program, x_q, lanes=1, build_dir=tmp_path)
    assert res.bit_exact, f"{model}: inputs {res.mismatches[:10]} differ"
    assert len(res.outputs) == len(x_q)
    assert res.cycles_per_inference >= res.ideal_cycles > 0
