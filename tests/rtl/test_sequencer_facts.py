"""Facts the sequencer is built from (no simulation): the loop compare's width, the
end-of-kernel bits each microcode word carries about the next one and its own register-write
bit."""

from __future__ import annotations

import pytest

pytest.importorskip("amaranth")

import hlsfix  # noqa: E402
from hlsfix.rtl import program_facts as facts  # noqa: E402
from hlsfix.rtl.isa import INTOPS, Op  # noqa: E402
from hlsfix.rtl.memories import FAST_NEXT, NEEDS_NEXT, SEQ_WRITE, sequencer_bits  # noqa: E402
from hlsfix.rtl.microcode import compile_image  # noqa: E402


def test_loop_compare_is_as_wide_as_the_loop_registers_values():
    image = compile_image(hlsfix.compile("protonn", bits="16").program, 1, unroll=1)
    stops = [w["imm"] for w in image.insns if w["op"] == Op.LOOPNEXT]
    assert stops == [20]
    assert facts.loop_bits(image) == 6  # 0..20 signed
    image = compile_image(hlsfix.compile("protonn", bits="16").program, 1, unroll=4)
    assert [w["imm"] for w in image.insns if w["op"] == Op.LOOPNEXT] == [5]  # trips of 4 copies
    assert facts.loop_bits(image) == 4  # 0..5 signed


def test_loop_compare_keeps_32_bits_when_a_loop_register_is_computed():
    image = compile_image(hlsfix.compile("protonn", bits="16").program, 1)
    reg = next(w["dst"] for w in image.insns if w["op"] == Op.LOOPNEXT)
    add = {"op": Op.INTOP, "dst": reg, "intop": INTOPS["+"], "opa": 1, "opb": 2}
    image.insns.insert(0, add)
    assert facts.loop_bits(image) == 32
    image.insns[0] = {**add, "intop": INTOPS["="], "opa": -1000}  # an immediate: its width counts
    assert facts.loop_bits(image) == 11


def test_each_word_says_whether_the_next_kernel_starts_without_a_setup_cycle():
    insns = [
        {"op": Op.MAC},
        {"op": Op.MAC, "a": {"reg_en": 1}},
        {"op": Op.MAC, "wait": 2},
        {"op": Op.LOOPNEXT},
        {"op": Op.DONE},
    ]
    bits = [sequencer_bits(insns, pc) for pc in range(len(insns))]
    fast, needs = ([b >> k & 1 for b in bits] for k in (FAST_NEXT, NEEDS_NEXT))
    assert fast == [1, 0, 0, 0, 0]
    assert needs == [1, 0, 0, 0, 0]


def test_each_word_says_whether_the_sequencer_writes_a_register_with_it():
    insns = [
        {"op": Op.LOOPINIT},
        {"op": Op.MAC},
        {"op": Op.INTOP},
        {"op": Op.ARGMAX},  # a lane writes this register, not the sequencer
        {"op": Op.LOOPNEXT},
        {"op": Op.DONE},
    ]
    bits = [sequencer_bits(insns, pc) >> SEQ_WRITE & 1 for pc in range(len(insns))]
    assert bits == [1, 0, 1, 0, 1, 0]
