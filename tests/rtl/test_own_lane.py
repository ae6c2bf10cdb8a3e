"""Late forwarding from the reading lane's own write stage above ``LATE_FORWARDING_LANES`` lanes
(``forwarding.Forwarding.own_late``) and the schedule's check of when it suffices
(``schedule.own_lane``, ``lane_words.py``): counted by hand on kernels made up for it, the
FastGRNN bound it restores at 8 lanes, and in Icarus where it must hold (bit-exact, measured =
predicted) and where breaking either half gives wrong results."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from amaranth.hdl import Const

import hlsfix
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.rtl import schedule as sched
from hlsfix.rtl.forwarding import Forwarding
from hlsfix.rtl.image import stream
from hlsfix.rtl.isa import Op, Src
from hlsfix.rtl.lane_words import first_reads, last_writes, with_beat_words
from hlsfix.rtl.microcode import compile_image
from hlsfix.rtl.schedule import InsnUse, late_forwarding, need, own_lane, write_at
from tests.tools import require_tool

pytest.importorskip("amaranth")

P = 8
IMG = SimpleNamespace(lanes=P, entries=[])
ALONE, ACROSS = write_at(9, late=False), write_at(9, late=True)


def _vector(op: Op, n: int, reads: int | None, writes: int, lane_a: int = 1) -> tuple[dict, InsnUse]:
    """An element-wise kernel over ``n`` words: operand A from ``reads`` (lane stride
    ``lane_a``; None: an immediate) to ``writes``, P words a beat."""
    g = {"n1": 1, "n0": n, "chunks": -(-n // P), "m1": 1, "m0": 1, "lanes": P}
    insn = {"op": int(op), **{k: v for k, v in g.items() if k != "lanes"}}
    insn["o"] = stream(writes, 0, 1, g=g)
    insn["a_src"], insn["b_src"] = (Src.IMM if reads is None else Src.RAM), Src.IMM
    ram_reads: tuple = ()
    if reads is not None:
        insn["a"] = stream(reads, 0, lane_a, g=g, lane=lane_a)
        ram_reads = ((reads, reads + max(1, lane_a * (n - 1) + 1)),)
    use = InsnUse(op, ram_reads=ram_reads, ram_write=(writes, writes + n))
    return insn, with_beat_words(IMG, insn, use)


def test_only_the_first_beat_against_the_producers_last_beat_is_checked():
    """Counted by hand at 8 lanes: a 16-word vector's second (last) beat writes words 8-15, lane p
    word 8 + p, and the next 16-word kernel's first beat reads words 0-7: no word of those
    writes, so it starts as early as with late forwarding across the lanes (2 cycles after the
    last beat, not 3), as does an 8-word kernel reading each word on the lane that wrote it.
    Read one word further on (lane p reads lane p + 1's word) or broadcast (every lane reads word
    3, lane 3's), it waits a cycle; with late forwarding across the lanes it never does."""
    _, long_producer = _vector(Op.ALU, 16, None, 0)
    _, long_reader = _vector(Op.ALU, 16, 0, 32)
    assert long_producer.last_writes == {(8 + p, p) for p in range(P)}
    assert long_reader.first_reads == {(p, p) for p in range(P)}
    _, short_producer = _vector(Op.ALU, 8, None, 0)
    _, same_lane = _vector(Op.MAC, 8, 0, 32)
    _, next_lane = _vector(Op.MAC, 7, 1, 32)
    _, broadcast = _vector(Op.MAC, 8, 3, 32, lane_a=0)
    assert next_lane.first_reads == {(p + 1, p) for p in range(7)}
    assert broadcast.first_reads == {(3, p) for p in range(P)}
    early, late = ALONE[0] - 5, ALONE[0] - 4
    assert (early, late) == (2, 3)
    assert need(long_producer, long_reader, ALONE) == early and own_lane(long_producer, long_reader)
    assert need(short_producer, same_lane, ALONE) == early
    assert need(short_producer, next_lane, ALONE) == late and not own_lane(short_producer, next_lane)
    assert need(short_producer, broadcast, ALONE) == late
    for reader in (same_lane, next_lane, broadcast):
        assert need(short_producer, reader, ACROSS) == early
    # a table kernel's index never sees a late-forwarded operand
    _, table = _vector(Op.EXP, 8, 0, 32)
    assert need(short_producer, table, ALONE) == late


def test_a_split_dot_product_is_written_by_lane_0_and_register_addresses_are_not_known():
    """A dot product dealt across the lanes (2 outputs of 2 beats) writes each result from lane 0's
    adder tree, its last at word 41: lane 0 may read it at the early start, not another lane. An
    operand addressed by a register (a loop's, a Select's) is not known at compile time: the
    reader waits."""
    g = {"n1": 2, "n0": 1, "chunks": 1, "m1": 1, "m0": 2, "lanes": P}
    split = {"op": int(Op.MAC), "n1": 2, "n0": 1, "chunks": 1, "m1": 1, "m0": 2, "split": 1, "split_rem": 3}
    split["o"] = stream(40, 1, 0, g=g, lane=0)
    split_use = with_beat_words(IMG, split, InsnUse(Op.MAC, ram_write=(40, 42), latency=1))
    assert split_use.last_writes == {(41, 0)}
    lane0, lane0_use = _vector(Op.ALU, 1, 41, 50)
    assert first_reads(IMG, lane0) == {(41, 0)}
    _, all_lanes = _vector(Op.ALU, 8, 41, 50, lane_a=0)
    assert ALONE[1] == 10
    assert need(split_use, lane0_use, ALONE) == 10 - 5
    assert need(split_use, all_lanes, ALONE) == 10 - 4
    indexed, _ = _vector(Op.ALU, 8, 0, 32)
    indexed["a"] = stream(0, 0, 1, g=g, reg=2, rs=8)
    assert first_reads(IMG, indexed) is None
    out_indexed = dict(indexed, o=stream(0, 0, 1, g=g, reg=2, rs=8))
    assert last_writes(IMG, out_indexed, InsnUse(Op.ALU, ram_write=(0, 64))) is None


def test_fastgrnn_stays_within_one_and_a_half_times_its_ideal_at_8_lanes():
    """FastGRNN's recurrent loop is a chain of element-wise kernels on 16-element vectors (2
    beats at 8 lanes): without late forwarding each waited a cycle (915 cycles, 1.51 × the
    ideal 604); no first beat reads its producer's last beat's words, so none waits now. The
    MLP and Bonsai get back the cycles of late forwarding across the lanes (337, 186). The
    select cycle's write served from the reading lane's own (``schedule.local_select``) costs
    FastGRNN 10 cycles, the MLP 1 and Bonsai 4."""
    assert not late_forwarding(P)
    cycles = {}
    for model in ("fastgrnn", "mlp", "bonsai"):
        img = compile_image(hlsfix.compile(model, bits="16").program, P)
        cycles[model] = img.predicted_cycles
        if model == "fastgrnn":
            assert img.predicted_cycles <= 1.5 * sum(img.ideal) and sum(img.ideal) == 604
    assert cycles == {"fastgrnn": 849, "mlp": 338, "bonsai": 190}


def _score_program():
    """bonsai-binary without its last kernel (the Sgn of the score): the score itself is the
    output, so that a wrong word anywhere shows (a class would hide most of them)."""
    program = hlsfix.compile("bonsai-binary", bits="16").program
    sgn = program.kernels[-1]
    assert sgn.out == program.output and program.output_is_class
    return replace(program, kernels=program.kernels[:-1], output=sgn.x.buffer, output_is_class=False)


def _simulate(program, tmp_path):
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile("bonsai-binary", bits="16")
    x_q = quantize_input(program, cm.test[0][:10])
    return run_cocotb(program, x_q, P, build_dir=tmp_path, trace=False)


@pytest.mark.slow
def test_the_score_needs_the_own_lane_forwarding_it_is_scheduled_for(tmp_path, monkeypatch):
    """bonsai-binary's score at 8 lanes: its two sums each start as their first beat reads the
    word lane 0, its own, writes in that cycle (the ⊙ product's, then the first sum's).
    Bit-exact and measured = predicted; with the hardware's own-lane path removed those reads
    take the old word and every score differs."""
    require_tool("iverilog")
    program = _score_program()
    res = _simulate(program, tmp_path / "own")
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles
    own_late = Forwarding.own_late  # never enabled: the operand register's word stays

    def no_own_lane(self, m, p, name, enable, **kw):
        return own_late(self, m, p, name, Const(0), **kw)

    monkeypatch.setattr(Forwarding, "own_late", no_own_lane)
    broken = _simulate(program, tmp_path / "broken")
    assert broken.predicted_cycles == res.predicted_cycles and not broken.bit_exact


@pytest.mark.slow
def test_a_schedule_that_trusts_forwarding_across_lanes_is_wrong(tmp_path, monkeypatch):
    """bonsai-binary's score at 8 lanes: a product of ZX may start 2 cycles after the sparse
    projection's last beat only if its first beat reads no word another lane writes in it;
    lane 5 writes ZX[2] there, which lane 2 reads, so the first (T·ZX) waits a cycle. A check
    that lets it start anyway (every pair "own-lane") predicts fewer cycles and computes wrong
    scores."""
    require_tool("iverilog")
    program = _score_program()
    honest = compile_image(program, P).predicted_cycles
    monkeypatch.setattr(sched, "_read_where_written", lambda writes, reads: True)  # every pair
    broken = _simulate(program, tmp_path)
    assert broken.predicted_cycles < honest
    assert not broken.bit_exact


LOCAL = write_at(9, late=False, local=True)


def test_from_8_lanes_the_select_cycles_write_must_be_the_reading_lanes_own():
    """Counted by hand at 8 lanes, where the write that lands in an operand's select cycle comes
    from the reading lane's own write stage only (``schedule.local_select``). A 16-word vector
    writes words 0-7 in its first beat and 8-15 in its last, lane p word p and 8 + p. At the early
    start (2 cycles after the last beat) the last beat's writes reach the next kernel's first
    beat in S3 and its second beat in the select cycle, the beat before's reach its first beat
    in the select cycle: every one of those words must be read by the lane that writes it. A
    16-word reader on the same lanes starts early; a 7-word one reading word p + 1 on lane p
    (the first beat's writes, another lane's) waits a cycle, its first beat's operand selected as
    the last beat writes; a broadcast of word 9 (the last beat's, lane 1's) waits two, so that
    the write lands before the select. Without the rule (``ALONE``, up to 4 lanes) each waits a
    cycle less or not at all."""
    _, producer = _vector(Op.ALU, 16, None, 0)
    assert producer.penult_writes == {(p, p) for p in range(P)}
    assert producer.last_writes == {(8 + p, p) for p in range(P)}
    _, same = _vector(Op.ALU, 16, 0, 32)
    assert same.second_reads == {(8 + p, p) for p in range(P)}
    _, shifted = _vector(Op.ALU, 7, 1, 32)
    assert shifted.first_reads == {(p + 1, p) for p in range(7)} and shifted.second_reads == frozenset()
    _, broadcast = _vector(Op.ALU, 8, 9, 32, lane_a=0)
    early = LOCAL[0] - 5
    assert early == 2
    assert need(producer, same, LOCAL) == early
    assert need(producer, shifted, LOCAL) == early + 1 and need(producer, shifted, ALONE) == early
    assert need(producer, broadcast, LOCAL) == early + 2 and need(producer, broadcast, ALONE) == early + 1
    # a table kernel's index is taken before the late forwarding: its select cycle decides
    _, table = _vector(Op.EXP, 16, 0, 32)
    _, table_broadcast = _vector(Op.EXP, 8, 9, 32, lane_a=0)
    assert need(producer, table, LOCAL) == early + 1
    assert need(producer, table_broadcast, LOCAL) == early + 2


def test_a_reduction_writes_at_its_last_beat_only():
    """A 2-beat dot product per output (m0 = 2) writes once per output, at the beat that ends it:
    the beat before the last writes nothing, so no reader's first beat can meet it."""
    g = {"n1": 3, "n0": 8, "chunks": 1, "m1": 1, "m0": 2, "lanes": P}
    dot = {"op": int(Op.MAC), "n1": 3, "n0": 8, "chunks": 1, "m1": 1, "m0": 2}
    dot["o"] = stream(40, 8, 1, g=g, lane=1)
    use = with_beat_words(IMG, dot, InsnUse(Op.MAC, ram_write=(40, 64)))
    assert use.last_writes == {(56 + p, p) for p in range(P)}
    assert use.penult_writes == frozenset()


@pytest.mark.slow
def test_a_schedule_that_trusts_the_select_cycles_write_across_lanes_is_wrong(tmp_path, monkeypatch):
    """The MLP at 8 lanes, whose hardware forwards the select cycle's write from the reading
    lane's own write stage only: bit-exact with measured = predicted cycles; scheduled as if it
    forwarded from every lane (``reorder.local_select`` off: one cycle fewer), it computes wrong
    outputs."""
    from hlsfix.rtl import reorder
    from hlsfix.sim.runner import run_cocotb

    require_tool("iverilog")
    cm = hlsfix.compile("mlp", bits="16")
    x_q = quantize_input(cm.program, cm.test[0][:10])
    res = run_cocotb(cm.program, x_q, P, build_dir=tmp_path / "local", trace=False)
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles
    monkeypatch.setattr(reorder, "local_select", lambda lanes: False)
    broken = run_cocotb(cm.program, x_q, P, build_dir=tmp_path / "broken", trace=False)
    assert broken.predicted_cycles < res.predicted_cycles and not broken.bit_exact
