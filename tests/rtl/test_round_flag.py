"""The round_out flag in the accelerator (isa.py's ``rnd`` bit, units.round_half at the write
stage): 8-bit zoo programs (whose kernels the compiler flags) and a 16-bit program flagged at
every kernel where it may be, at one lane and split across lanes, bit-exact in Icarus."""

from __future__ import annotations

import pytest

import hlsfix
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.round_choice import flagged
from hlsfix.fixedpoint.round_fold import flag_rounding
from hlsfix.rtl.microcode import compile_image
from tests.tools import require_tool

pytest.importorskip("amaranth")
pytest.importorskip("cocotb_tools")


def _check(program, x_q, lanes, tmp_path):
    from hlsfix.sim.runner import run_cocotb

    res = run_cocotb(program, x_q, lanes=lanes, build_dir=tmp_path, trace=False)
    assert res.bit_exact, f"inputs {res.mismatches[:10]} differ"
    assert res.cycles_per_inference == res.predicted_cycles
    return res


@pytest.mark.parametrize(("model", "n"), [("protonn", 12), ("bonsai", 8)])
def test_rounding_8bit_zoo_model_is_bit_exact_in_icarus(model, n, tmp_path):
    require_tool("iverilog")
    cm = hlsfix.compile(model, bits="8")  # both choose rounding on their training data
    assert flagged(cm.program)
    assert any(w.get("rnd") for w in compile_image(cm.program, 1).insns)
    _check(cm.program, quantize_input(cm.program, cm.test[0][:n]), 1, tmp_path)


def test_fastgrnn_8bit_with_its_wide_sums_and_folded_rounding_is_bit_exact_in_icarus(tmp_path):
    """FastGRNN's 8-bit program keeps W·x + U·h and its state at 16 bits inside the loop, and
    rounds by constants folded into its bias adds (explore.widen_sums, round_fold.py)."""
    require_tool("iverilog")
    cm = hlsfix.compile("fastgrnn", bits="8")
    assert {b.fmt.bits for b in cm.program.buffers if b.kind == "temp"} == {8, 16}
    _check(cm.program, quantize_input(cm.program, cm.test[0][:3]), 1, tmp_path)


def test_rounding_at_every_kernel_of_a_16bit_program_split_across_lanes(tmp_path):
    require_tool("iverilog")
    cm = hlsfix.compile("bonsai", bits="16")
    program = flag_rounding(cm.program, max_bits=32)
    assert len(flagged(program)) >= 3
    _check(program, quantize_input(program, cm.test[0][:8]), 4, tmp_path)
