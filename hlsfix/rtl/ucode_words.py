"""The accelerator's microcode words as integers (no hardware): each instruction's fields packed
(``isa.insn_layout``, bounds narrowed to the bits they can matter in) with the sequencer's bits
about the next word, and the columns of the late stages' block RAM. ``memories.py`` builds the
memories from them; ``Image.memories`` reports their sizes.
"""

from __future__ import annotations

from amaranth.hdl import Value
from amaranth.lib import data

from hlsfix.rtl.isa import REGISTER_WRITE_OPS, Op, insn_layout

# Above the instruction's fields, each microcode word carries two facts about the next word
# for the sequencer's end-of-kernel decision, so that it starts from flip-flops: the next
# instruction may start with the next beat (a kernel with no wait and no drain), and it needs
# an address product (a register-indexed stream). A third bit says the word itself is a
# sequencer instruction that writes a register (INTOP, LOOPINIT, LOOPNEXT): the registers'
# write enable then starts from one flip-flop, not from a decode of the opcode (at 8 lanes that
# decode, placed by the sequencer's many readers, sat a route across the die from the
# registers, ProtoNN's critical path).
FAST_NEXT, NEEDS_NEXT, SEQ_WRITE = insn_layout.size, insn_layout.size + 1, insn_layout.size + 2
WORD_BITS = insn_layout.size + 3


def sequencer_bits(insns: list[dict], pc: int) -> int:
    """The word at ``pc``'s SEQ_WRITE bit, and its FAST_NEXT and NEEDS_NEXT bits (of the
    instruction at ``pc`` + 1)."""
    writes = int(insns[pc]["op"] in REGISTER_WRITE_OPS) << SEQ_WRITE
    if pc + 1 >= len(insns):
        return writes
    w = insns[pc + 1]
    fast = w["op"] < Op.INTOP and not w.get("drain") and not w.get("wait")
    needs = any(w.get(s, {}).get("reg_en") for s in ("a", "b", "x", "o"))
    return writes | int(fast) << FAST_NEXT | int(needs) << NEEDS_NEXT


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


def microcode_words(img) -> list[int]:
    """The program's microcode (``img``: an ``Image``): each instruction's fields packed, with
    the sequencer's bits."""
    return [
        pack(insn_layout, narrowed(i, img.value_bits, img.word_bits)) | sequencer_bits(img.insns, pc)
        for pc, i in enumerate(img.insns)
    ]


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
