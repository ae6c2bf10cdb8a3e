"""The banked scratch RAM's rotation network (``rtl/rotation.py``): which programs it serves
(``rtl/rotation_plan.py``), and
the RAM it builds read against a plain dictionary of words, cycle by cycle, in amaranth.sim."""

from __future__ import annotations

import random

import pytest

import hlsfix
from hlsfix.rtl.isa import Op
from hlsfix.rtl.microcode import compile_image
from hlsfix.rtl.rotation_plan import rotated_reads, rotated_writes, rotation_plan

pytest.importorskip("amaranth")

from amaranth.hdl import Module  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hlsfix.rtl.scratch import build_scratch  # noqa: E402


def test_dense_models_rotate_everything_and_gathers_keep_the_crossbar():
    # rows dealt by load, each lane's rows on the lane where the lanes finishing rows together
    # are one rotation apart (``bank_order.bank_free_rows``; tests/rtl/test_bank_order.py)
    img = compile_image(hlsfix.compile("protonn", bits="16").program, 8)
    assert rotated_writes(img) is None
    mlp = hlsfix.compile("mlp", bits="16").program
    for lanes in (2, 4, 8, 16):
        assert rotation_plan(compile_image(mlp, lanes)) == (True, True, True)
    assert rotation_plan(compile_image(mlp, 1)) == (False, False, False)  # not banked
    img = compile_image(hlsfix.compile("protonn", bits="16").program, 16)
    assert rotated_reads(img, "a") is None
    assert rotated_reads(img, "b") == "instruction 0 (MAC): a gather"  # x[column] of the sparse rows
    # each lane owns the rows of its bank (as fast as by load alone here): its writes rotate
    assert rotated_writes(img) is None
    assert rotation_plan(img) == (True, True, False)
    scratch = next(m for m in img.memories() if m["memory"] == "scratch RAM")
    assert "A reads: rotated, one copy" in scratch["style"] and "B reads: one copy shared" in scratch["style"]
    assert "reads bypassed at the bank" in scratch["style"]  # 16 lanes: built to fit (rtl/scratch.py)
    eight = next(m for m in compile_image(mlp, 8).memories() if m["memory"] == "scratch RAM")
    assert "bypassed" not in eight["style"]


def test_lane_strides_other_than_0_or_1_do_not_rotate():
    img = compile_image(hlsfix.compile("mlp", bits="16").program, 4)
    pc = next(i for i, w in enumerate(img.insns) if w["op"] == Op.ALU and w["a_src"] == 0)
    img.insns[pc] = {**img.insns[pc], "a": {**img.insns[pc]["a"], "lane": 2}, "n0": 4}
    assert rotated_reads(img, "a") == f"instruction {pc} (ALU): lanes read with stride 2"
    # writes with an odd stride are conflict-free but no rotation; 5 ≡ 1 (mod 4) is one
    for stride, why in ((3, f"instruction {pc} (ALU): lanes write with stride 3"), (5, None)):
        img.insns[pc] = {**img.insns[pc], "o": {**img.insns[pc]["o"], "lane": stride}}
        assert rotated_writes(img) == why


def _run_ram(
    lanes: int,
    depth: int,
    rotated: tuple[bool, bool, bool],
    cycles: int,
    seed: int,
    ahead=False,
    pipelined=False,
    bypassed=False,
    shared=(True, True),
    sees_next=None,
):
    """Random rotation-shaped writes (lane p to bank p + r, rows at random) and stride-0/1 reads
    of both groups, every cycle; each read's data (a cycle later, two where ``pipelined``; the
    idle read of lane 0's A port always one) against a dictionary holding every write up to the
    cycle it was addressed in (the banked RAM's reads see that cycle's write; later ones are the
    forwarding's; a ``bypassed`` RAM's hold the write of the cycle after too). ``ahead``: the next
    cycle's r is given a cycle early; ``shared``: whether the read groups share their banks (else
    every port reads its own copy); ``sees_next``: whether the dictionary's reads see the write of
    the cycle after them (as ``bypassed`` unless given)."""
    rng = random.Random(seed)
    m = Module()
    ram = build_scratch(
        m, lanes, depth, (16, 16), lanes, shared, rotated, ahead=ahead, pipelined=pipelined, bypassed=bypassed
    )
    assert ram.bypassed == bypassed
    assert (ram.idle_read is ram.read_a[0]) == (not pipelined)
    assert (ram.shift_next is not None) == (ahead and rotated[0])
    rows = depth // lanes
    shifts = [rng.randrange(lanes) for _ in range(cycles + 1)]
    words: dict[int, int] = {}
    mismatches: list[tuple] = []

    async def bench(ctx):
        expected = [None, None]  # the reads addressed one and two cycles ago, with the words then
        if ram.shift_next is not None:  # the first cycle's r, a cycle before it (no writes meanwhile)
            ctx.set(ram.shift_next, shifts[0])
            await ctx.tick()
        for t in range(cycles):
            r = shifts[t]
            if ram.shift_next is not None:
                ctx.set(ram.shift_next, shifts[t + 1])  # registered for the next cycle
            writes = {}
            for p, w in enumerate(ram.write):
                en = rng.random() < 0.5
                addr = rng.randrange(rows) * lanes + (p + r) % lanes
                data = rng.randrange(-(1 << 15), 1 << 15)
                ctx.set(w.en, en)
                ctx.set(w.addr, addr)
                ctx.set(w.data, data)
                if en:
                    writes[addr] = data
            reads = []
            for group in (ram.read_a, ram.read_b):
                stride = rng.randrange(2)
                base = rng.randrange(depth - lanes + 1)
                for p, rp in enumerate(group):
                    ctx.set(rp.addr, base + stride * p)
                    ctx.set(rp.en, 1)
                    reads.append(base + stride * p)
            if bypassed if sees_next is None else sees_next:  # the last cycle's reads see these writes
                words.update(writes)
                expected = [e and (e[0], [words.get(a, 0) for a in e[0]]) for e in expected]
            lanes_read = expected[1 if pipelined else 0]
            if lanes_read is not None:
                got = [ctx.get(rp.data) for rp in (*ram.read_a, *ram.read_b)]
                if got != lanes_read[1]:
                    mismatches.append((t, lanes_read, got))
            if expected[0] is not None and ctx.get(ram.idle_read.data) != expected[0][1][0]:
                mismatches.append((t, "idle read", expected[0], ctx.get(ram.idle_read.data)))
            words.update(writes)  # this cycle's writes: seen by this cycle's reads
            expected = [(reads, [words.get(a, 0) for a in reads]), expected[0]]
            await ctx.tick()

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return mismatches


@pytest.mark.parametrize(
    ("rotated", "ahead", "pipelined"),
    [
        ((True, True, True), False, False),
        ((True, True, True), True, False),
        ((False, False, False), False, False),
        ((True, False, True), True, False),
        ((True, True, True), True, True),
        ((True, False, False), True, True),
    ],
)
def test_banked_ram_reads_what_was_written(rotated, ahead, pipelined):
    # the crossbars (no rotation) against the same dictionary: both networks are one memory
    assert _run_ram(8, 64, rotated, 300, seed=1, ahead=ahead, pipelined=pipelined) == []
    assert _run_ram(4, 32, rotated, 200, seed=2, ahead=ahead, pipelined=pipelined) == []


@pytest.mark.parametrize(
    ("rotated", "shared"),
    [
        ((True, True, True), (True, True)),
        ((False, False, False), (True, True)),
        ((True, False, False), (False, False)),  # every port its own copy: bypassed after its bank
    ],
)
@pytest.mark.slow
def test_bypassed_banked_ram_reads_the_write_of_the_cycle_after(rotated, shared):
    # 16 lanes' bypass: each read holds the write landing in the cycle after it (the operand
    # select's), which the forwarding then no longer supplies
    # 80 cycles: 1,280 random writes into 128 words (200 took 70-90 s of Amaranth simulation)
    assert _run_ram(16, 128, rotated, 80, seed=3, ahead=True, bypassed=True, shared=shared) == []
    assert _run_ram(4, 32, rotated, 200, seed=4, ahead=True, bypassed=True, shared=shared) == []
    # without the bypass the same reads miss those writes
    assert _run_ram(4, 32, rotated, 200, seed=4, ahead=True, shared=shared, sees_next=True) != []
