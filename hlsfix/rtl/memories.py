"""The accelerator's memories, built from an ``Image``: each shaped so that a RAM primitive
(block RAM, or logic where that is the better fit) can hold it.

- the microcode, split by who reads it: the sequencer's look-ahead copies in logic (the word
  after ``pc`` and a LOOPNEXT's target word, indexed by ``pc`` in the cycle it changes), and
  for the later pipeline stages a block RAM holding only the bits of their fields that vary
  across the program's words (``late_bits``), read at ``pc`` and registered per stage;
- the weight ROM, one copy per lane while that fits the block-RAM budget (two read ports each: a
  dual-port block RAM), else one shared ROM;
- the table ROM (Exp/SigmoidTanh tables, the weight ROM's first words) and the entry table, one
  copy per lane (two ports, one port; the table only on the lanes that run a table kernel,
  ``Image.table_lanes``): no memory with 4P read ports that only flip-flops and LUT
  multiplexers can build (and that crashed Yosys' memory_libmap at 16 read ports); in block RAM
  where big enough (``Image.entry_block``, ``Image.table_block``), else Yosys builds them as logic;
- the scratch RAM: ``scratch.py`` (banks with a copy per read port, or one multi-port memory).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Signal, signed, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from hlsfix.rtl.copies import copy_register, delayed, spread_lanes
from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import ADDR, Op, entry_layout, insn_layout
from hlsfix.rtl.ucode_words import (  # noqa: F401 - the word helpers, where the accelerator and tests import them
    FAST_NEXT,
    NEEDS_NEXT,
    SEQ_WRITE,
    WORD_BITS,
    late_bits,
    late_word,
    microcode_words,
    narrowed,
    pack,
    sequencer_bits,
    table_saturation,
)


def expand(data, columns: list[int], like: int):
    """A full microcode word from a block-RAM row ``data``: its columns in place, every other bit
    as in ``like`` (a word of the program; the same in all of them, or a field the late stages
    never read)."""
    parts, at = [], 0
    for i, b in enumerate(columns):
        if b > at:
            parts.append(Const((like >> at) & ((1 << (b - at)) - 1), b - at))
        parts.append(data[i])
        at = b + 1
    if at < WORD_BITS:
        parts.append(Const(like >> at, WORD_BITS - at))
    return Cat(*parts)


# The pipeline stages after S1 that read microcode fields (S2, the read, has none of its own).
LATE_STAGES = (3, 4, 5, 6, 7, 8, 9)


@dataclass(frozen=True)
class Memories:
    ucode: Memory  # the late stages' columns (``late_bits``), in block RAM
    columns: list[int]
    ucode_next: Memory  # the word after each one: the sequencer's look-ahead without an adder
    ucode_target: Memory  # a LOOPNEXT's target word (the sequencer's taken branch)
    words: list[int]  # the microcode words
    roms: list[Memory]
    tables: list[Memory]
    ents: list[Memory]
    ent_layout: data.StructLayout


def build_memories(m: Module, img: Image) -> Memories:
    """Every memory of the accelerator for ``img``, added to ``m`` as submodules."""
    P, WB = img.lanes, img.word_bits
    ent_layout = entry_layout(*img.entry_widths)
    words = microcode_words(img)
    columns = late_bits(words)
    ucode = Memory(
        attrs={"rom_style": "block", "ram_style": "block"},
        shape=unsigned(max(1, len(columns))),
        depth=len(img.insns),
        init=[late_word(w, columns) for w in words],
    )
    ucode_next = Memory(
        attrs={"rom_style": "logic", "ram_style": "logic"},
        shape=unsigned(WORD_BITS),
        depth=len(img.insns),
        init=[*words[1:], 0],
    )
    ucode_target = Memory(
        attrs={"rom_style": "logic", "ram_style": "logic"},
        shape=unsigned(WORD_BITS),
        depth=len(img.insns),
        init=[words[i["target"]] if i["op"] == Op.LOOPNEXT else 0 for i in img.insns],
    )
    roms = [Memory(shape=signed(WB), depth=img.rom_depth, init=img.rom or [0]) for _ in range(img.rom_copies)]
    # Yosys builds small ROMs as logic; the big per-lane ones are asked for in block RAM
    block = {"rom_style": "block"}
    tables = [
        Memory(
            shape=signed(WB),
            depth=img.table_words,
            init=img.rom[: img.table_words],
            attrs=block if img.table_block else None,
        )
        for _ in range(img.table_lanes)
    ]
    ent_init = [pack(ent_layout, e) for e in img.entries]
    ents = [
        Memory(
            shape=unsigned(ent_layout.size),
            depth=len(img.entries),
            init=ent_init,
            attrs=block if img.entry_block else None,
        )
        for _ in range(P)
    ]
    m.submodules.ucode, m.submodules.ucode_next = ucode, ucode_next
    m.submodules.ucode_target = ucode_target
    for name, mems in (("rom", roms), ("table", tables), ("ent", ents)):
        for i, mem in enumerate(mems):
            m.submodules[f"{name}{i}"] = mem
    return Memories(ucode, columns, ucode_next, ucode_target, words, roms, tables, ents, ent_layout)


def late_words(m: Module, mems: Memories, pc, u_reg, lanes: int) -> list[dict]:
    """Per lane, the microcode word of each pipeline stage: S1's (1) the sequencer's word
    ``u_reg`` registered, and the later stages' (``LATE_STAGES``) the word at ``pc`` delayed by
    that many cycles: the block RAM is read at ``pc``, its data (the word at pc delayed by one,
    late in the cycle: the block RAM's clock-to-output) registered, then delayed stage by stage,
    so every stage's fields come from flip-flops. Only the bits a stage reads stay (Yosys drops
    the others' registers). One set for all lanes, or from ``copies.SPREAD_FROM`` lanes on
    a set per lane (``copies.py``), each lane's chain registered from the shared S2 word."""
    port = mems.ucode.read_port(domain="sync")
    m.d.comb += port.addr.eq(pc)
    if not spread_lanes(lanes):
        row, out = port.data, {1: delayed(m, u_reg, "word1")}
        for i in range(2, max(LATE_STAGES) + 1):
            row = delayed(m, row, f"ucode_row{i}")
            if i in LATE_STAGES:
                out[i] = expand(row, mems.columns, mems.words[0])
        return [out] * lanes
    row2, per_lane = delayed(m, port.data, "ucode_row2"), []
    for p in range(lanes):
        row, out = row2, {1: copy_register(m, u_reg, f"word1_l{p}")}
        for i in range(3, max(LATE_STAGES) + 1):
            row = copy_register(m, row, f"ucode_row{i}_l{p}")
            if i in LATE_STAGES:
                out[i] = expand(row, mems.columns, mems.words[0])
        per_lane.append(out)
    return per_lane


def adder_tree(m: Module, values: list, width: int):
    """Σ values by a balanced tree of two-input adders (combinational, ⌈log2 n⌉ levels), each
    sum kept to ``width`` + 2 bits: only the low ``width`` bits of the total are used."""
    level = list(values)
    depth = 0
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            s = Signal(signed(width + 2), name=f"tree{depth}_{i // 2}")
            m.d.comb += s.eq(level[i] + level[i + 1])
            nxt.append(s)
        if len(level) % 2:
            nxt.append(level[-1])
        level, depth = nxt, depth + 1
    return level[0]


class NoTable:
    """A table read port's interface where the program has no table: its data is zero."""

    def __init__(self, name: str) -> None:
        self.addr = Signal(ADDR, name=f"{name}_addr")
        self.data = Const(0, 1)


def fields(word) -> data.View:
    """A microcode word's instruction fields (the sequencer's bits above them left out)."""
    return data.View(insn_layout, word[: insn_layout.size])
