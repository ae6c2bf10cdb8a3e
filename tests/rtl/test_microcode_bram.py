"""The microcode block RAM (the late pipeline stages' varying fields) and the LOOPNEXT comparison
registered a cycle early: facts checked without simulating a model (the zoo's bit-exact runs in
``test_accelerator.py`` exercise the hardware)."""

from __future__ import annotations

import pytest

pytest.importorskip("amaranth")

from amaranth.hdl import Module, Signal  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

import hlsfix  # noqa: E402
from hlsfix.rtl import program_facts as facts  # noqa: E402
from hlsfix.rtl.isa import Op, insn_layout  # noqa: E402
from hlsfix.rtl.memories import expand  # noqa: E402
from hlsfix.rtl.microcode import compile_image  # noqa: E402
from hlsfix.rtl.ucode_words import (  # noqa: E402
    ISSUE_ONLY_FIELDS,
    WORD_BITS,
    late_bits,
    late_word,
    microcode_words,
)


def _issue_only() -> set[int]:
    return {
        b
        for name in ISSUE_ONLY_FIELDS
        for b in range(insn_layout[name].offset, insn_layout[name].offset + insn_layout[name].width)
    }


def _rebuilt(rows: list[int], columns: list[int], like: int) -> list[int]:
    """``expand`` of each block-RAM row, evaluated by Amaranth's simulator."""
    row, out = Signal(max(1, len(columns))), Signal(WORD_BITS)
    m = Module()
    m.d.comb += out.eq(expand(row, columns, like))
    sim = Simulator(m)
    got = []

    async def bench(ctx):
        for r in rows:
            ctx.set(row, r)
            got.append(ctx.get(out))

    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize(("model", "lanes"), [("protonn", 1), ("protonn", 8), ("mlp", 1), ("fastgrnn", 8)])
def test_block_ram_rows_rebuild_every_field_the_late_stages_read(model, lanes):
    image = compile_image(hlsfix.compile(model, bits="16").program, lanes)
    words = microcode_words(image)
    columns = late_bits(words)
    issue_only = _issue_only()
    assert columns and not set(columns) & issue_only
    rebuilt = _rebuilt([late_word(w, columns) for w in words], columns, words[0])
    late = [b for b in range(insn_layout.size) if b not in issue_only]
    for w, r in zip(words, rebuilt, strict=True):
        assert [(r >> b) & 1 for b in late] == [(w >> b) & 1 for b in late]
    # the block RAM is far narrower than the word: only bits that differ between words
    assert len(columns) < insn_layout.size // 4


def test_memory_report_shows_the_microcode_block_ram_and_its_size():
    image = compile_image(hlsfix.compile("protonn", bits="16").program, 1)
    rows = {r["memory"]: r for r in image.memories()}
    ucode = rows["microcode"]
    assert ucode["style"].startswith("block RAM")
    assert ucode["words"] == len(image.insns)
    assert ucode["bits"] == len(late_bits(microcode_words(image))) > 0
    assert rows["microcode look-ahead"]["style"].startswith("logic")


def _protonn_loop():
    image = compile_image(hlsfix.compile("protonn", bits="16").program, 1)
    pc = next(i for i, w in enumerate(image.insns) if w["op"] == Op.LOOPNEXT)
    return image, pc, image.insns[pc]


def test_loopnext_compares_a_cycle_early_when_nothing_else_writes_its_register():
    image, pc, w = _protonn_loop()
    assert facts.early_loop_compares(image) == [(pc, w["dst"], w["imm"] - 1)]


def test_loopnext_compares_in_its_own_cycle_when_its_register_may_have_just_changed():
    image, pc, w = _protonn_loop()
    image.insns.insert(len(image.insns) - 1, {"op": Op.SELECT, "dst": w["dst"]})  # a result lands on it
    assert facts.early_loop_compares(image) is None
    image, pc, w = _protonn_loop()
    image.insns[pc] = {**w, "target": pc}  # an empty body: LOOPNEXT follows LOOPNEXT
    assert facts.early_loop_compares(image) is None
    image, pc, w = _protonn_loop()
    image.insns[pc - 1] = {"op": Op.LOOPINIT, "dst": w["dst"], "imm": 0}
    assert facts.early_loop_compares(image) is None
    image, pc, w = _protonn_loop()
    image.segment_entries = [0, pc]  # the host may write it just before
    assert facts.early_loop_compares(image) is None


def test_only_the_lanes_that_run_a_table_kernel_get_a_table_rom():
    # ProtoNN's Exp is one element per prototype: on lane 0 alone, whatever P; FastGRNN's
    # SigmoidTanh of 16-element vectors: every lane up to 16
    for model, lanes, table_lanes in (
        ("protonn", 8, 1),
        ("protonn", 16, 1),
        ("fastgrnn", 8, 8),
        ("mlp", 8, 0),
    ):
        image = compile_image(hlsfix.compile(model, bits="16").program, lanes)
        assert image.table_lanes == table_lanes, model
        widths = [w.get("n0", 1) for w in image.insns if w["op"] in (Op.EXP, Op.SIGTANH)]
        assert max(widths, default=0) >= table_lanes  # no lane without an element gets a table
        tables = [m for m in image.memories() if m["memory"] == "table ROM"]
        assert [m["copies"] for m in tables] == ([table_lanes] if table_lanes else [])
