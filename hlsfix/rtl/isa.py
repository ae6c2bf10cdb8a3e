"""The accelerator's microinstruction: one word per kernel (or per group of a grouped conv with more
than one channel per group; a depthwise one is one word, its channels across the lanes).

Every beat-producing instruction walks the same four-level loop nest — output counters ``o1``
(outer) and ``o0`` (split across the P lanes), reduction counters ``r1`` and ``r0`` (innermost) —
and four address streams (operand A, operand B, the index/entry table, the output) advance by
per-level deltas that the compiler precomputes, so the hardware needs one adder per stream and no
multipliers in its address path. Fields are fixed and generous so one layout serves every program;
the microcode ROM is tiny (one word per kernel), so the width costs nothing worth saving.
"""

from __future__ import annotations

import enum

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

ADDR = 24  # signed address arithmetic (RAM, ROM and table addresses are all far below 2^23)
VAL = 64  # immediate values and clamp bounds: as wide as the widest ``wide`` type
CNT = 16  # loop-nest trip counts
PC = 10  # microcode depth up to 1024 words
REG = 4  # up to 16 integer registers


class Op(enum.IntEnum):
    NOP = 0
    MAC = 1  # acc = Σ (a·b) >> ps over the reduction, then rescale_sat (MatMul, Conv2d, SpMV, Mul)
    ALU = 2  # rescale_sat(clamp(a' ± b')) with a' = a·2^a_sh (AddSub, Rescale, Clamp, Fill, copies)
    MAX = 3  # running max over the reduction (MaxPool); padding reads the pad immediate
    EXP = 4  # two-table exp
    SIGTANH = 5  # exp table, then one pipelined division
    ARGMAX = 6  # register = index of the first maximum over the reduction
    SGN = 7  # register = a > 0
    SELECT = 8  # register = (a >= imm) ? opa : opb
    HARD = 9  # clipped-linear sigmoid/tanh
    # sequencer-only instructions (no beats)
    INTOP = 16
    LOOPINIT = 17
    LOOPNEXT = 18
    DONE = 19


SEQUENCER_OPS = frozenset({Op.INTOP, Op.LOOPINIT, Op.LOOPNEXT, Op.DONE})
# the sequencer instructions that write a register; the opcode's low two bits tell them apart
REGISTER_WRITE_OPS = (Op.INTOP, Op.LOOPINIT, Op.LOOPNEXT)
assert len({op & 3 for op in REGISTER_WRITE_OPS}) == len(REGISTER_WRITE_OPS)


class Src(enum.IntEnum):
    RAM = 0
    ROM = 1
    ENTRY = 2  # the value carried by the sparse entry table (A only)
    IMM = 3  # the instruction's immediate (A) / zero (B)


stream_layout = data.StructLayout(
    {
        "base": signed(ADDR),
        "reg": unsigned(REG),
        "reg_en": unsigned(1),
        "rs": signed(ADDR),  # register stride: base + R[reg]·rs, resolved when the kernel starts
        "d0": signed(ADDR),  # delta when r0 steps
        "d1": signed(ADDR),  # when r1 steps (r0 wraps)
        "d2": signed(ADDR),  # when the o0 chunk steps
        "d3": signed(ADDR),  # when o1 steps
        "lane": signed(ADDR),  # lane p reads at address + p·lane
    }
)

insn_layout = data.StructLayout(
    {
        "op": unsigned(5),
        "drain": unsigned(1),  # wait for the pipeline to empty first (a hazard the compiler found)
        "wait": unsigned(6),  # or only until this many cycles have passed since the last beat
        "n1": unsigned(CNT),
        "n0": unsigned(CNT),
        "chunks": unsigned(CNT),  # ceil(n0 / P)
        "m1": unsigned(CNT),
        "m0": unsigned(CNT),
        "a": stream_layout,
        "b": stream_layout,
        "x": stream_layout,  # the index / sparse-entry table
        "o": stream_layout,
        "a_src": unsigned(2),
        "b_src": unsigned(2),
        "a_ind": unsigned(1),  # add the table's column to A's address (padding when invalid)
        "b_ind": unsigned(1),
        "o_ind": unsigned(1),  # add the table's row to the output address
        "sparse": unsigned(1),  # first/last/valid come from the entry table
        "split": unsigned(1),  # one dot product dealt across the lanes, summed by the adder tree
        "split_rem": unsigned(CNT),  # lanes with a product in a split kernel's last beat
        "ps": unsigned(7),
        "out_shift": signed(8),
        "rnd": unsigned(1),  # the final shift rounds: 2^(out_shift-1) is added first (round_out)
        "out_bits": unsigned(7),
        "a_sh": signed(8),
        "b_sh": signed(8),
        "sub": unsigned(1),
        "b_first": unsigned(1),
        "lo_en": unsigned(1),
        "hi_en": unsigned(1),
        "lo": signed(VAL),
        "hi": signed(VAL),
        "imm": signed(VAL),  # A immediate, pad value, x_top, threshold, half, loop stop
        "sh_l": unsigned(7),
        "sh_r": unsigned(7),
        "t": unsigned(5),
        "ymax": unsigned(32),
        # the table index saturates to ymax iff the operand is <= y_lo or >= y_hi (set by
        # ``memories.narrowed`` from imm, sh_l, sh_r and ymax: compared beside the shifts)
        "y_lo": signed(40),
        "y_hi": signed(40),
        "tshift": unsigned(7),
        "e_frac": unsigned(6),
        "out_frac": unsigned(6),
        "tanh": unsigned(1),
        "hi_base": unsigned(ADDR),
        "lo_base": unsigned(ADDR),
        "dst": unsigned(REG),
        "opa_reg": unsigned(1),
        "opa": signed(32),
        "opb_reg": unsigned(1),
        "opb": signed(32),
        "intop": unsigned(2),  # 0 +, 1 -, 2 ·, 3 =
        "target": unsigned(PC),
    }
)

INTOPS = {"+": 0, "-": 1, "*": 2, "=": 3}


def beats(insn: dict) -> int:
    """The beats an instruction issues: its four loop levels' trips (0 for a sequencer one)."""
    return insn.get("n1", 0) * insn.get("chunks", 0) * insn.get("m1", 0) * insn.get("m0", 0)


def live_lanes(insn: dict, lanes: int, chunk: int = 0) -> range:
    """The lanes that issue in a beat of ``chunk`` of a kernel (element ``chunk * lanes + p`` on
    lane p; a split dot product's beats: every lane)."""
    if insn.get("split"):
        return range(lanes)
    return range(max(0, min(lanes, insn.get("n0", 1) - chunk * lanes)))


def signed_bits(values) -> int:
    """The fewest bits of a signed field that holds every one of ``values`` (at least 1)."""
    return max([1, *(int(v).bit_length() + 1 for v in values)])


def entry_layout(value_bits: int, col_bits: int, row_bits: int | None = None) -> data.StructLayout:
    """One word of the index/entry table: a sparse non-zero (value, column, row, flags), or for a
    gather (conv, pooling) a column address with ``valid`` = 0 meaning padding. The fields are as
    wide as the program's entries need (``Image.entry_widths``), not the address width."""
    return data.StructLayout(
        {
            "value": signed(value_bits),
            "col": signed(col_bits),
            "row": signed(col_bits if row_bits is None else row_bits),
            "first": unsigned(1),
            "last": unsigned(1),
            "valid": unsigned(1),
        }
    )
