"""The accelerator's memories, built from an ``Image``: each shaped so that a RAM primitive
(block RAM, or logic where that is the better fit) can hold it.

- the microcode ROM, in logic: few words, each hundreds of bits wide, read by one port per
  pipeline stage (every stage but the first reads its fields registered), and a copy shifted by
  one word (the next instruction at ``pc``, for the sequencer's look-ahead);
- the weight ROM, one copy per lane while that fits the block-RAM budget (two read ports each: a
  dual-port block RAM), else one shared ROM;
- the table ROM (Exp/SigmoidTanh tables, the weight ROM's first words) and the entry table, one
  copy per lane (two ports, one port): no memory with 4P read ports that only flip-flops and LUT
  multiplexers can build (and that crashed Yosys' memory_libmap at 16 read ports); in block RAM
  where big enough (``Image.entry_block``, ``Image.table_block``), else Yosys builds them as logic;
- the scratch RAM: ``scratch.py`` (banks with a copy per read port, or one multi-port memory).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Signal, Value, signed, unsigned
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


@dataclass(frozen=True)
class Memories:
    ucode: Memory
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
    words = [
        pack(insn_layout, narrowed(i, img.value_bits, img.word_bits)) | sequencer_bits(img.insns, pc)
        for pc, i in enumerate(img.insns)
    ]
    ucode, ucode_next = (
        Memory(
            attrs={"rom_style": "logic", "ram_style": "logic"},
            shape=unsigned(WORD_BITS),
            depth=len(img.insns),
            init=init,
        )
        for init in (words, [*words[1:], 0])
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
        for _ in range(P if img.table_words else 0)
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
    return Memories(ucode, ucode_next, ucode_target, words, roms, tables, ents, ent_layout)


def read_word(m: Module, mem: Memory, addr, *, domain: str):
    """A read port of ``mem`` at ``addr``: its data (registered for ``domain`` "sync": the word
    at ``addr``'s value of the previous cycle)."""
    port = mem.read_port(domain=domain)
    m.d.comb += port.addr.eq(addr)
    return port.data


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
