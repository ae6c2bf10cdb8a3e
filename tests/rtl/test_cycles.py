"""Cycle counts close to the ideal: loop unrolling (``unroll.py``), the write-stage rule on exact
write cycles (``schedule.py``), matrix rows past the last full chunk of lanes split across the
lanes (``kernels_mac.py``). Each rule is checked where it lets kernels overlap (cycles against a
count made by hand) and where it must keep them apart (bit-exact with the golden model)."""

from __future__ import annotations

import pytest

import hlsfix
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.rtl.isa import Op
from hlsfix.rtl.microcode import compile_image
from hlsfix.rtl.schedule import InsnUse, schedule, write_at
from hlsfix.rtl.unroll import private_buffers, unrollable
from tests.tools import require_tool

pytest.importorskip("amaranth")

# ProtoNN's ideal at one lane, counted from its shapes: the sparse projection's 358 non-zeros,
# the 10-score Fill, 20 prototypes of (16 differences + 16 squares + the γ² product + exp + 10
# products + 10 sums) and the 10-score argmax.
PROTONN_IDEAL_P1 = 358 + 10 + 20 * (16 + 16 + 1 + 1 + 10 + 10) + 10


def _protonn():
    cm = hlsfix.compile("protonn", bits="16")
    return cm, next(k for k in cm.program.kernels if isinstance(k, kp.Loop))


def test_protonn_loop_is_unrolled_with_private_temporaries_but_one_accumulator():
    cm, loop = _protonn()
    assert unrollable(cm.program, loop)
    private = set(private_buffers(cm.program, loop))
    written = {k.out for k in loop.body}
    read_first = {k.out for k in loop.body if k.out in {r.buffer for r in k.reads()}}
    assert read_first and not private & read_first  # the score accumulator keeps its words
    assert private == written - read_first
    img = compile_image(cm.program, 1)
    assert img.unrolled.get(loop.index, 1) > 1
    assert sum(img.ideal) == PROTONN_IDEAL_P1
    assert img.predicted_cycles <= 1.15 * PROTONN_IDEAL_P1
    assert compile_image(cm.program, 8).predicted_cycles <= 1.5 * sum(compile_image(cm.program, 8).ideal)


def test_a_loop_whose_register_is_a_value_is_not_unrolled():
    cm, loop = _protonn()
    use = kp.IntOp("+", loop.index, 0, loop.index)  # the register read as a value, and written
    changed = kp.Loop(loop.index, loop.start, loop.stop, (*loop.body, use))
    assert not unrollable(cm.program, changed)


def test_unrolled_protonn_overlaps_iterations_in_icarus(tmp_path):
    """Overlap: the unrolled body's iterations fill each other's waits, measured in Icarus; no
    overlap where a copy reads another's accumulator: bit-exact on every input."""
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm, _ = _protonn()
    x_q = quantize_input(cm.program, cm.test[0][:8])
    rolled = run_cocotb(cm.program, x_q, 1, build_dir=tmp_path / "rolled", trace=False, unroll=1)
    unrolled = run_cocotb(cm.program, x_q, 1, build_dir=tmp_path / "unrolled", trace=False)
    for res in (rolled, unrolled):
        assert res.bit_exact, f"inputs {res.mismatches} differ"
        assert res.cycles_per_inference == res.predicted_cycles
    assert unrolled.cycles_per_inference <= 1.15 * PROTONN_IDEAL_P1
    assert rolled.cycles_per_inference - unrolled.cycles_per_inference >= 200


def test_protonn_without_its_waits_is_not_bit_exact(tmp_path):
    """The waits the schedule keeps between dependent kernels are needed: one iteration of
    ProtoNN's loop (not unrolled) is a chain of dependent kernels (distance, its square, the
    γ² product, exp, the scores), and with every wait removed each reads its operand before the
    producer writes it."""
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm, _ = _protonn()
    x_q = quantize_input(cm.program, cm.test[0][:8])

    def no_waits(image):
        assert any(i.get("wait") for i in image.insns)
        for insn in image.insns:
            insn["wait"] = 0

    res = run_cocotb(cm.program, x_q, 1, build_dir=tmp_path, trace=False, fault=no_waits, unroll=1)
    assert not res.bit_exact


def _two_kernels(m0: int, outputs: int) -> tuple[list[dict], list[InsnUse], list[int]]:
    """A one-beat SigmoidTanh (RAM word 0 → 1), then an independent MAC (words 10..19 → 20..)
    of ``outputs`` reductions of ``m0`` beats each, at one lane."""
    sig = {"op": int(Op.SIGTANH), "n1": 1, "n0": 1, "chunks": 1, "m1": 1, "m0": 1}
    mac = {"op": int(Op.MAC), "n1": 1, "n0": outputs, "chunks": outputs, "m1": 1, "m0": m0}
    uses = [
        InsnUse(Op.SIGTANH, ram_reads=((0, 1),), ram_write=(1, 2), latency=2),
        InsnUse(Op.MAC, ram_reads=((10, 20),), ram_write=(20, 20 + outputs)),
        InsnUse(Op.DONE),
    ]
    return [sig, mac, {"op": int(Op.DONE)}], uses, [1, outputs * m0, 0]


@pytest.mark.parametrize(("m0", "outputs", "meets"), [(8, 2, False), (11, 1, True), (1, 16, True)])
def test_a_kernel_overtakes_the_divider_between_its_own_writes(m0, outputs, meets):
    """Counted by hand: the SigmoidTanh is accepted at 0 and issues its beat at 1, so its result
    uses the write stage at 1 + write_at(2) = 19 (divider latency 9). The MAC, accepted at 1 (the
    fast path), issues beats 2.. and writes 7 cycles after each reduction's last beat: 16 and 24
    for two reductions of 8 (no write at 19: it goes ahead, where the old first-to-last window
    rule made it wait), 19 for one of 11 and every cycle from 9 on for 16 of 1 (it must wait
    until its first write follows the divider's)."""
    insns, uses, beats = _two_kernels(m0, outputs)
    writes = write_at(9)
    assert 1 + writes[2] == 19
    _, wait, _ = schedule(insns, uses, beats, 9)
    mac_writes = {1 + m0 * q + writes[0] for q in range(1, outputs + 1)}
    assert (19 in mac_writes) == meets
    if not meets:
        assert wait[1] == 0
    else:
        start = 1 + wait[1]  # a wait counts from the SigmoidTanh's beat at 1
        assert min(start + m0 * q + writes[0] for q in range(1, outputs + 1)) > 19


def test_sgn_and_select_write_their_register_two_cycles_before_the_write_stage():
    """Counted by hand from the pipeline (``schedule.py``): a beat issued at t has its operand at
    t + 4. Argmax writes its register at the write stage, visible from t + 7; Sgn and Select
    decide on the operand and write theirs at once, visible from t + 5. A kernel indexed by the
    register computes its address at its acceptance - 1, so it is accepted 8 cycles after an
    Argmax's beat and 6 after a Select's; a Select reading another's register reads it in the
    cycle before its own write (1 cycle after a Select, 3 after an Argmax); a Select of the
    register an Argmax writes lands after it (2 cycles later). In Icarus: the cycles measured
    equal these predictions (``test_speculate.py``, bonsai-binary at 8 lanes)."""
    from hlsfix.rtl.schedule import EARLY_REGISTER, need

    writes = write_at(9)
    argmax = InsnUse(Op.ARGMAX, ram_reads=((0, 4),), reg_write=1)
    select = InsnUse(Op.SELECT, ram_reads=((4, 5),), reg_write=1)
    indexed = InsnUse(Op.MAC, ram_reads=((8, 9),), regs_issue=frozenset({1}))
    reads_it = InsnUse(Op.SELECT, ram_reads=((5, 6),), regs_post=frozenset({1}), reg_write=2)
    assert EARLY_REGISTER == 2
    assert (need(argmax, indexed, writes), need(select, indexed, writes)) == (8, 6)
    assert (need(argmax, reads_it, writes), need(select, reads_it, writes)) == (3, 1)
    assert need(argmax, select, writes) == 2 and need(select, argmax, writes) == 0


def test_matrix_rows_past_the_last_full_chunk_are_split_across_the_lanes():
    """Bonsai's 10×10 node products at 8 lanes: rows 0-7 one per lane (10 beats), rows 8 and 9
    each dealt across the lanes (2 beats each, the adder tree's sum): 14 beats, not 2 × 10."""
    program = hlsfix.compile("bonsai", bits="16").program
    img = compile_image(program, 8)
    square = [
        i for i, k in enumerate(img.kernels) if isinstance(k, kp.MatMul) and (k.m, k.k, k.n) == (10, 10, 1)
    ]
    assert len(square) == 6
    for kid in square:
        parts = [w for w, k in zip(img.insns, img.kernel_of, strict=True) if k == kid]
        beats = sorted(w["n1"] * w["chunks"] * w["m1"] * w["m0"] for w in parts)
        assert beats == [4, 10]
        tail = next(w for w in parts if w.get("split"))
        assert (tail["n1"], tail["m0"], tail["split_rem"]) == (2, 2, 2)
    assert img.predicted_cycles <= 1.5 * sum(img.ideal)


def test_arithmetic_on_a_select_of_immediates_is_folded_into_selects():
    """Bonsai's child indices 2·r + 1 and 2·r + 2 of r = (x ≥ 0 ? 1 : 2): (x ≥ 0 ? 3 : 5) and
    (x ≥ 0 ? 4 : 6), Selects of the same word; the products 2·r are not emitted (only folded
    IntOps read them). No sequencer instruction is left in bonsai-binary's microcode, which is
    within 1.15 x its ideal at one lane (bit-exact and cycle-exact in the zoo tests)."""
    from hlsfix.rtl.regfold import plan_folds

    program = hlsfix.compile("bonsai-binary", bits="16").program
    folds = plan_folds(program)
    ops = {id(k): k for k in program.walk() if isinstance(k, kp.IntOp)}
    assert set(folds.selects) == set(ops)
    values = {ops[i].out: (f.a, f.b) for i, f in folds.selects.items()}
    assert values == {"r_i": (2, 4), "r_i_1": (3, 5), "r_i_2": (2, 4), "r_i_3": (4, 6)}
    assert {ops[i].out for i in folds.dead} == {"r_i", "r_i_2"}
    img = compile_image(program, 1)
    assert not any(w["op"] == Op.INTOP for w in img.insns)
    assert img.predicted_cycles <= 1.15 * sum(img.ideal)


@pytest.mark.slow
def test_a_fold_ends_where_the_memory_plan_reuses_its_words(tmp_path):
    """Under the memory plan's layout bonsai-binary's W[k1]·ZX result takes the words of the
    first test's T[0]·ZX (its last reader in the program is the Select of k1), so the child
    indices 2·k1 + 1 and 2·k1 + 2 must not become Selects of that word after it: they stay
    register arithmetic, and the accelerator is bit-exact at 8 lanes (with the folds it gave the
    wrong class for 28 of the first 60 test inputs)."""
    require_tool("iverilog")
    from hlsfix.rtl.microcode import _Compiler
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile("bonsai-binary", bits="16")
    plan = _Compiler(cm.program, 8, "plan")
    t8, t10 = plan.locs["t_8"], plan.locs["t_10"]
    assert t8.base == t10.base and plan.shares("t_10", "t_8")
    assert not plan.folds.selects  # each fold reads t_8 after t_10 is written
    spread = _Compiler(cm.program, 8, "spread")
    assert not spread.shares("t_10", "t_8") and len(spread.folds.selects) == 4
    img = compile_image(cm.program, 8, "plan")
    assert sum(w["op"] == Op.INTOP for w in img.insns) == 4
    x_q = quantize_input(cm.program, cm.test[0][:60])
    res = run_cocotb(cm.program, x_q, 8, build_dir=tmp_path, trace=False, ram_layout="plan")
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles


def test_a_matrix_with_fewer_rows_than_lanes_deals_every_row_across_them():
    """The MLP's 10×32 output layer at 16 lanes: one row per lane takes 32 beats (with six lanes
    idle), each row's dot product dealt across the 16 lanes 2 beats: 20. ProtoNN's 10×1 product
    (in each copy of its unrolled loop body) stays one row per lane: 1 beat, where dealing its
    rows would take 10."""

    def parts(model: str, out: str) -> list[dict]:
        img = compile_image(hlsfix.compile(model, bits="16").program, 16)
        kid = next(i for i, k in enumerate(img.kernels) if getattr(k, "out", None) == out)
        return [w for w, k in zip(img.insns, img.kernel_of, strict=True) if k == kid]

    (layer,) = parts("mlp", "t_2")
    assert layer.get("split") and (layer["n1"], layer["m0"], layer["split_rem"]) == (10, 2, 16)
    assert layer["n1"] * layer["chunks"] * layer["m1"] * layer["m0"] == 20
    scores = parts("protonn", "t_7")  # one per copy of the unrolled loop body
    assert scores and all(
        not w.get("split") and w["n1"] * w["chunks"] * w["m1"] * w["m0"] == 1 for w in scores
    )


@pytest.mark.parametrize("model", ["torch-dscnn", "keras-cnn"])
def test_a_depthwise_conv_puts_its_channels_across_the_lanes(model):
    """A depthwise convolution (one input and one output channel per group) is one instruction
    whose lanes take a channel each: beats = output pixels × ⌈channels / P⌉ × taps. Group by group
    (an instruction per channel, every lane but one idle) the DS-CNN took 5,366 cycles at 8 lanes
    against an ideal of 2,280 (2.35 ×) and keras-cnn 2,841 against 1,556 (1.83 ×)."""
    program = hlsfix.compile(model, bits="16").program
    depthwise = [
        k
        for k in program.kernels
        if isinstance(k, kp.Conv2d) and k.filter_shape[0] > 1 and k.filter_shape[3:] == (1, 1)
    ]
    assert len(depthwise) == 2
    for lanes in (1, 3, 8):
        img = compile_image(program, lanes)
        for k in depthwise:
            groups, hf, wf, _, _ = k.filter_shape
            n, ho, wo, _ = k.out_shape
            kid = next(i for i, kk in enumerate(img.kernels) if kk is k)
            (word,) = [w for w, i in zip(img.insns, img.kernel_of, strict=True) if i == kid]
            beats = word["n1"] * word["chunks"] * word["m1"] * word["m0"]
            assert (word["n0"], word["chunks"]) == (groups, -(-groups // lanes))
            assert beats == n * ho * wo * -(-groups // lanes) * hf * wf
            if groups % lanes == 0:  # no lane idle: the ideal's beats
                assert beats == img.ideal[kid]
        if lanes == 8:
            assert img.predicted_cycles <= 1.1 * sum(img.ideal)
