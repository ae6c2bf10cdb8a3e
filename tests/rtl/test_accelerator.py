"""RTL end to end: the emitted Verilog of each zoo model, bit-exact with the golden model in Icarus.

``HLSFIX_RTL_INPUTS`` sets how many test inputs each model streams through (default 50; FastGRNN,
~5k cycles per inference, uses half and CNN, ~28k, a tenth: Icarus runs a few thousand cycles a
second; ``benchmarks/bench_rtl.py --inputs 50`` covers them at 50). Every run also checks that the
measured cycles equal the static schedule's timing model: the hazard schedule is only safe if that
model is exact.
"""

from __future__ import annotations

import os

import pytest

import hlsfix
from hlsfix.fixedpoint.golden import quantize_input
from tests.tools import require_tool

pytest.importorskip("amaranth")
pytest.importorskip("cocotb_tools")

# 20 inputs by default (most of a test's time is Icarus, about 0.5 s per ProtoNN inference);
# HLSFIX_RTL_INPUTS=50 or more for a deeper run, benchmarks/bench_rtl.py --inputs N for whole sets
N_INPUTS = int(os.environ.get("HLSFIX_RTL_INPUTS", "20"))
SLOW = {"cnn": 10, "fastgrnn": 2}  # inputs divided by this: long inferences in a slow simulator


def _inputs(model: str, n: int, bits: str = "16"):
    cm = hlsfix.compile(model, bits=bits)
    return cm.program, quantize_input(cm.program, cm.test[0][:n])


def _check(model, program, x_q, lanes, tmp_path, **kw):
    from hlsfix.sim.runner import run_cocotb

    res = run_cocotb(program, x_q, lanes=lanes, build_dir=tmp_path, **kw)
    assert res.bit_exact, f"{model}: inputs {res.mismatches[:10]} differ"
    assert len(res.outputs) == len(x_q)
    assert res.cycles_per_inference == res.predicted_cycles
    assert res.cycles_per_inference >= res.ideal_cycles > 0
    return res


@pytest.mark.slow
@pytest.mark.parametrize("model", hlsfix.ZOO_NAMES)
def test_zoo_model_is_bit_exact_in_icarus(model, tmp_path):
    require_tool("iverilog")
    n = max(1, N_INPUTS // SLOW.get(model, 1))
    program, x_q = _inputs(model, n)
    res = _check(model, program, x_q, 1, tmp_path)
    assert res.per_kernel and sum(m for _, m, _ in res.per_kernel) <= res.cycles_per_inference


@pytest.mark.parametrize("model", ["protonn", "bonsai", "bonsai-binary"])
def test_mixed_bitwidth_model_is_bit_exact_in_icarus(model, tmp_path):
    require_tool("iverilog")
    program, x_q = _inputs(model, max(1, N_INPUTS // 5), bits="mixed")
    assert {b.fmt.bits for b in program.buffers} >= {8, 16}
    _check(model, program, x_q, 1, tmp_path, trace=False)


# fastgrnn at 8 lanes: the divider's writes of the cycle after next, registered in the lanes
# (``write_stage.lane_write_ahead``), and its busy flag a cycle early (``sequencer.PipeBusy``)
@pytest.mark.parametrize(
    ("model", "lanes"), [("bonsai", 4), ("protonn", 3), ("protonn", 8), ("mlp", 4), ("fastgrnn", 8)]
)
@pytest.mark.slow
def test_lanes_keep_the_model_bit_exact(model, lanes, tmp_path):
    require_tool("iverilog")
    program, x_q = _inputs(model, max(1, N_INPUTS // 5))
    _check(model, program, x_q, lanes, tmp_path, trace=False)


def test_a_read_in_its_producers_write_cycle_gets_the_written_word(tmp_path):
    """Every kernel of ProtoNN one cycle later than its schedule: reads then fall in the cycle
    their producer writes the word, which the multi-port RAM's read misses (it is not
    transparent, ``scratch.py``) and the forwarding gives (``Forwarding.keep_previous``)."""
    from hlsfix.rtl.isa import SEQUENCER_OPS
    from hlsfix.sim.runner import run_cocotb

    def one_cycle_later(image):
        for w in image.insns:
            if w["op"] not in SEQUENCER_OPS:
                w["wait"] = w.get("wait", 0) + 1

    require_tool("iverilog")
    program, x_q = _inputs("protonn", 3)
    res = run_cocotb(program, x_q, lanes=1, build_dir=tmp_path, fault=one_cycle_later, trace=False)
    assert res.bit_exact, f"inputs {res.mismatches[:10]} differ"
    assert res.cycles_per_inference > res.predicted_cycles  # the waits did move the kernels


def test_row_vector_dot_products_are_split_across_lanes():
    """A 1×k·k×n product keeps every lane busy: each dot product is dealt across the P lanes
    (⌈k/P⌉ beats, the last one partly masked) and summed by the adder tree. With the loop
    unrolling and the schedule, ProtoNN and Bonsai are within 1.5 times the ideal at 8 lanes and
    1.15 times at one (the schedule's model equals the measured cycles; the simulations above
    check that)."""
    from hlsfix.fixedpoint import program as kp
    from hlsfix.rtl.microcode import compile_image

    for model in ("protonn", "bonsai"):
        program = hlsfix.compile(model, bits="16").program
        one, eight = compile_image(program, 1), compile_image(program, 8)
        rows = [i for i, k in enumerate(eight.kernels) if isinstance(k, kp.MatMul) and k.m == 1 and k.k > 1]
        assert rows
        for kid in rows:  # one split instruction per copy of the kernel (an unrolled loop's)
            k = eight.kernels[kid]
            insns = [w for w, i in zip(eight.insns, eight.kernel_of, strict=True) if i == kid]
            assert insns and all(w.get("split") for w in insns)
            for insn in insns:
                assert insn["m0"] == -(-k.k // 8) and 1 <= insn["split_rem"] <= 8
                assert insn["m0"] * 8 - 8 + insn["split_rem"] == k.k
        assert not any(i.get("split") for i in one.insns)
        assert eight.predicted_cycles <= 1.5 * sum(eight.ideal)
        assert one.predicted_cycles <= 1.15 * sum(one.ideal)


def test_independent_kernels_fill_the_latency_of_a_dependent_chain():
    """Bonsai's branch score and Select do not wait for the SigmoidTanh divider once each
    temporary has its own words (no block RAM more than the plan here) and the runs are
    list-scheduled: bonsai-binary within 1.35 x ideal at one lane. Under the memory plan's
    layout the reuse chains the kernels (slower, even with k1's tanh chain as a vector in words
    of its own: cones.py), and the schedule is never worse than program order."""
    from hlsfix.memory.liveness import plan_memory
    from hlsfix.rtl.microcode import compile_image
    from hlsfix.rtl.regfold import plan_folds

    program = hlsfix.compile("bonsai-binary", bits="16").program
    auto, plan = compile_image(program, 1), compile_image(program, 1, "plan")
    assert auto.ram_layout == "spread" and plan.ram_layout == "plan"
    assert auto.predicted_cycles <= 1.35 * sum(auto.ideal) and auto.predicted_cycles < plan.predicted_cycles
    arena_words = plan_memory(program).arena_bytes // (program.input_buffer.fmt.bits // 8)
    assert plan.input_base == arena_words < auto.input_base
    # the same instructions, reordered (but register arithmetic that regfold.py folds away)
    dead = {i for i, k in enumerate(plan.kernels) if id(k) in plan_folds(program).dead}
    assert sorted(k for k in auto.kernel_of if k not in dead) == sorted(
        k for k in plan.kernel_of if k not in dead
    )


@pytest.mark.slow
def test_memory_plan_layout_stays_bit_exact(tmp_path):
    require_tool("iverilog")
    program, x_q = _inputs("bonsai", max(1, N_INPUTS // 5))
    _check("bonsai", program, x_q, 4, tmp_path, trace=False, ram_layout="plan")


def test_scoreboard_reports_a_broken_accelerator(tmp_path):
    """The checker can fail: negate every weight ROM word and the scoreboard must say which inputs
    differ (and the cocotb test itself fails, which must not hide the result)."""
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    program, x_q = _inputs("protonn", 10)
    top = (1 << (max(b.fmt.bits for b in program.buffers) - 1)) - 1

    def negate_rom(image):
        image.rom[:] = [min(-v, top) for v in image.rom]

    res = run_cocotb(program, x_q, lanes=1, build_dir=tmp_path, fault=negate_rom, trace=False)
    assert not res.bit_exact
    assert res.mismatches and all(0 <= i < len(x_q) for i in res.mismatches)
    assert [i for i in range(len(x_q)) if res.outputs[i] != res.expected[i]] == res.mismatches
