"""The accelerator's memories, built from an ``Image``: each shaped so that a RAM primitive
(block RAM, or logic where that is the better fit) can hold it.

- the microcode, split by who reads it: the sequencer's look-ahead copies in logic (the word
  after ``pc`` and a LOOPNEXT's target word, indexed by ``pc`` in the cycle it changes), and
  for the later pipeline stages a block RAM holding only the bits of their fields that vary
  across the program's words (``late_bits``), read at ``pc`` and registered per stage;
- the weight ROM, one copy per lane while that fits the block-RAM budget (two read ports each: a
  dual-port block RAM), else one shared ROM;
- the table ROM (Exp/SigmoidTanh tables, the weight ROM's first words) and the entry table, one
  copy per lane (two ports, one port): no memory with 4P read ports that only flip-flops and LUT
  multiplexers can build (and that crashed Yosys' memory_libmap at 16 read ports);
- the scratch RAM: ``scratch.py`` (banks with a copy per read port, or one multi-port memory).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Signal, Value, signed, unsigned
from amaranth.lib import data
from amaranth.lib.memory import Memory

from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import ADDR, Op, entry_layout, insn_layout

# Above the instruction's fields, each microcode word carries two facts about the next word
# for the sequencer's end-of-kernel decision, so that it starts from flip-flops: the next
# instruction may start with the next beat (a kernel with no wait and no drain), and it needs
# an address product (a register-indexed stream).
FAST_NEXT, NEEDS_NEXT = insn_layout.size, insn_layout.size + 1
WORD_BITS = insn_layout.size + 2


def sequencer_bits(insns: list[dict], pc: int) -> int:
    """The word at ``pc``'s FAST_NEXT and NEEDS_NEXT bits (of the instruction at ``pc`` + 1)."""
    if pc + 1 >= len(insns):
        return 0
    w = insns[pc + 1]
    fast = w["op"] < Op.INTOP and not w.get("drain") and not w.get("wait")
    needs = any(w.get(s, {}).get("reg_en") for s in ("a", "b", "x", "o"))
    return int(fast) << FAST_NEXT | int(needs) << NEEDS_NEXT


# The fields only the sequencer and the issue stage read (loop counts, address streams, the
# sequencer's own operands): the late stages' block RAM leaves them out.
ISSUE_ONLY_FIELDS = frozenset(
    {"drain", "wait", "n1", "n0", "chunks", "m1", "m0", "a", "b", "x", "o", "intop", "target"}
)


def late_bits(words: list[int]) -> list[int]:
    """The word bits the late pipeline stages may read that differ between ``words``: the
    microcode block RAM's columns (every other bit is the same in every word, a constant)."""
    issue_only = {
        b
        for name in ISSUE_ONLY_FIELDS
        for b in range(insn_layout[name].offset, insn_layout[name].offset + insn_layout[name].width)
    }
    return [
        b for b in range(insn_layout.size) if b not in issue_only and len({(w >> b) & 1 for w in words}) > 1
    ]


def late_word(word: int, columns: list[int]) -> int:
    """``word``'s bits at ``columns``, packed: one row of the microcode block RAM."""
    return sum(((word >> b) & 1) << i for i, b in enumerate(columns))


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


def microcode_words(img: Image) -> list[int]:
    """The program's microcode: each instruction's fields packed, with the sequencer's bits."""
    return [
        pack(insn_layout, narrowed(i, img.value_bits, img.word_bits)) | sequencer_bits(img.insns, pc)
        for pc, i in enumerate(img.insns)
    ]


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
    tables = [
        Memory(shape=signed(WB), depth=img.table_words, init=img.rom[: img.table_words])
        for _ in range(P if img.table_words else 0)
    ]
    ent_init = [pack(ent_layout, e) for e in img.entries]
    ents = [Memory(shape=unsigned(ent_layout.size), depth=len(img.entries), init=ent_init) for _ in range(P)]
    m.submodules.ucode, m.submodules.ucode_next = ucode, ucode_next
    m.submodules.ucode_target = ucode_target
    for name, mems in (("rom", roms), ("table", tables), ("ent", ents)):
        for i, mem in enumerate(mems):
            m.submodules[f"{name}{i}"] = mem
    return Memories(ucode, columns, ucode_next, ucode_target, words, roms, tables, ents, ent_layout)


def late_words(m: Module, mems: Memories, pc, stages: tuple[int, ...]) -> dict:
    """The microcode word at ``pc`` delayed by each of ``stages`` (≥ 2) cycles, for the pipeline
    stages after S1: the block RAM is read at ``pc``, its data (the word at pc delayed by one,
    late in the cycle: the block RAM's clock-to-output) registered, then delayed stage by stage,
    so every stage's fields come from flip-flops. Only the bits a stage reads stay (Yosys drops
    the others' registers)."""
    port = mems.ucode.read_port(domain="sync")
    m.d.comb += port.addr.eq(pc)
    row, out = port.data, {}
    for i in range(2, max(stages) + 1):
        row = delayed(m, row, f"ucode_row{i}")
        if i in stages:
            out[i] = expand(row, mems.columns, mems.words[0])
    return out


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


def _clip(v: int, bits: int) -> int:
    return max(-(1 << (bits - 1)), min(v, (1 << (bits - 1)) - 1))


def narrowed(insn: dict, value_bits: int, word_bits: int) -> dict:
    """``insn`` with its clamp bounds clipped to the ``value_bits`` + 2 bits the clamped value has,
    and a Select's threshold to the ``word_bits`` + 2 of what it compares: the same comparisons, so
    the datapath compares the fields' low bits only (not 64-bit immediates)."""
    out = dict(insn)
    for key in ("lo", "hi"):
        if key in out:
            out[key] = _clip(out[key], value_bits + 2)
    if insn.get("op") == Op.SELECT and "imm" in out:
        out["imm"] = _clip(out["imm"], word_bits + 2)
    if insn.get("op") in (Op.EXP, Op.SIGTANH):
        out["y_lo"], out["y_hi"] = (_clip(v, word_bits + 2) for v in table_saturation(insn, value_bits))
    return out


def table_saturation(insn: dict, value_bits: int) -> tuple[int, int]:
    """(lo, hi): a table kernel's index saturates to ``ymax`` iff its operand x <= lo or x >= hi.

    Exp: y = max(imm - x, 0) >> sh_r (imm - x in ``value_bits`` + 2 bits) exceeds ymax iff
    imm - x >= (ymax + 1) << sh_r. SigmoidTanh: y = (|x| << sh_l) >> sh_r exceeds ymax iff
    |x| >= ceil(((ymax + 1) << sh_r) / 2^sh_l)."""
    k = (insn["ymax"] + 1) << insn["sh_r"]
    if insn["op"] == Op.EXP:
        width = value_bits + 2
        imm = insn["imm"] & ((1 << width) - 1)
        imm -= (1 << width) if imm >> (width - 1) else 0
        return imm - k, 1 << 40
    limit = -(-k // (1 << insn["sh_l"]))
    return -limit, limit


def pack(layout: data.StructLayout, value: dict) -> int:
    return Value.cast(layout.const(value)).value


class NoTable:
    """A table read port's interface where the program has no table: its data is zero."""

    def __init__(self, name: str) -> None:
        self.addr = Signal(ADDR, name=f"{name}_addr")
        self.data = Const(0, 1)


def fields(word) -> data.View:
    """A microcode word's instruction fields (the sequencer's bits above them left out)."""
    return data.View(insn_layout, word[: insn_layout.size])


def delayed(m: Module, sig, name: str | None = None) -> Signal:
    """``sig`` registered: its value of the previous cycle."""
    out = (
        Signal.like(sig, name=name or f"{sig.name}b")
        if isinstance(sig, Signal)
        else Signal(len(sig), name=name)
    )
    m.d.sync += out.eq(sig)
    return out
