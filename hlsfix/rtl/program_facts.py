"""What the accelerator specialises on, read from a program's microcode (``Image.insns``): the
operations it uses, the range of each shift field, the register-indexed address pairs,
constant bits per instruction that the sequencer indexes by pc (no adder or microcode read on
its paths), and the divider's operand widths (from the program's tables). Pure functions of the
image: the hardware is built from them in ``accelerator.py``.
"""

from __future__ import annotations

from amaranth.hdl import Const

from hlsfix.fixedpoint import program as kp
from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import INTOPS, Op

STREAMS = ("a", "b", "x", "o")


def uses(img: Image, op: Op) -> bool:
    return any(w["op"] == op for w in img.insns)


def span(img: Image, key: str) -> tuple[int, int]:
    """Lowest and highest value of a shift field in the program (0: a field left unset): each
    shifter is only as deep as the program's shifts."""
    values = [0, *(w[key] for w in img.insns if key in w)]
    return min(values), max(values)


def round_span(img: Image) -> int:
    """The largest final shift of an instruction that rounds (a kernel's ``round_out``), or 0
    where none does (then no rounding adder is built)."""
    return max([0, *(w["out_shift"] for w in img.insns if w.get("rnd"))])


def values(img: Image, key: str) -> set[int]:
    return {0, *(w[key] for w in img.insns if key in w)}


def narrow(img: Image, field, key: str):
    """An unsigned shift field cut to the bits its largest value in the program needs."""
    return field[: max(1, span(img, key)[1].bit_length())]


def no_index_wrap(img: Image) -> bool:
    """SigmoidTanh's (|x| << sh_l) >> sh_r never wraps the W + 2-bit table index, so
    ``memories.narrowed``'s saturation bounds hold."""
    W, WB = img.value_bits, img.word_bits
    return all(
        w["op"] != Op.SIGTANH or WB - 1 + w.get("sh_l", 0) - w.get("sh_r", 0) < W + 1 for w in img.insns
    )


def indexed_streams(img: Image) -> list[str]:
    """The address streams some instruction offsets by a register."""
    return [s for s in STREAMS if any(i.get(s, {}).get("reg_en") for i in img.insns)]


def address_pairs(img: Image) -> list[tuple[int, int]]:
    """Every (register, stride) pair a register-indexed address uses: one product each."""
    streams = indexed_streams(img)
    return sorted(
        {(i[s]["reg"], i[s]["rs"]) for i in img.insns for s in streams if s in i and i[s]["reg_en"]}
    )


def pc_bits(img: Image, bit, after: bool = False) -> Const:
    """A constant bit per instruction (``bit(word)``), to index by pc: of the word at pc, or with
    ``after`` of the word after it."""
    here = sum(1 << i for i, w in enumerate(img.insns) if bit(w))
    return Const(here >> 1 if after else here, len(img.insns) + 1)


def pair_bits(img: Image, stream: str, pair: tuple[int, int], after: bool = False) -> Const:
    """Per instruction: whether its ``stream`` is offset by ``pair``'s product."""
    return pc_bits(
        img,
        lambda w: stream in w and w[stream]["reg_en"] and (w[stream]["reg"], w[stream]["rs"]) == pair,
        after,
    )


def last_trips(img: Image) -> list[int]:
    """Per instruction: a LOOPNEXT's stop - 1 (loop again iff R < it), clipped to 34 bits."""
    return [max(-(1 << 33), min(w["imm"] - 1, 1 << 33)) if w["op"] == Op.LOOPNEXT else 0 for w in img.insns]


def loop_bits(img: Image) -> int:
    """Bits on which LOOPNEXT compares its register with the loop's last trip: the signed width of
    every value a loop register takes, where only loop instructions and immediate assignments
    write those registers (a loop keeps its index in [start, stop]); else the registers' 32."""
    loop_regs = {w["dst"] for w in img.insns if w["op"] == Op.LOOPNEXT}
    writers = (Op.LOOPINIT, Op.LOOPNEXT, Op.INTOP, Op.ARGMAX, Op.SGN, Op.SELECT)
    values = [0]
    for w in img.insns:
        if w["op"] not in writers or w.get("dst") not in loop_regs:
            continue
        if w["op"] in (Op.LOOPINIT, Op.LOOPNEXT):
            values += [w["imm"], w["imm"] - 1]
        elif w["op"] == Op.INTOP and w.get("intop") == INTOPS["="] and not w.get("opa_reg"):
            values.append(w["opa"])  # R = an immediate (a loop that never runs)
        else:
            return 32
    return min(32, 1 + max(max(v.bit_length(), (-v - 1).bit_length()) for v in values))


def early_loop_compares(img: Image) -> list[tuple[int, int, int]] | None:
    """(pc, register, last trip) of every LOOPNEXT, where each may compare its register a cycle
    early (the comparison registered, so the taken-branch decision starts from a flip-flop): no
    instruction but its own loop's writes the register (no IntOp, Argmax, Sgn or Select result
    lands on it), and none does in the cycle before the LOOPNEXT runs (its loop's body is not
    empty and it starts no segment, after which the host may have written it). None otherwise:
    the sequencer compares in the LOOPNEXT's own cycle."""
    loops = [(pc, w["dst"], w["target"]) for pc, w in enumerate(img.insns) if w["op"] == Op.LOOPNEXT]
    others = {w.get("dst") for w in img.insns if w["op"] in (Op.INTOP, Op.ARGMAX, Op.SGN, Op.SELECT)}
    trips = last_trips(img)
    out = []
    for pc, reg, target in loops:
        before = img.insns[pc - 1] if pc else {"op": Op.DONE}
        empty = target >= pc or (before["op"] in (Op.LOOPINIT, Op.LOOPNEXT) and before.get("dst") == reg)
        if reg in others or empty or pc in img.segment_entries:
            return None
        out.append((pc, reg, trips[pc]))
    return out


def divider_operands(img: Image) -> tuple[int, int]:
    """Bits of the SigmoidTanh divider's numerator and denominator (``units.Divider``): with
    one = 2^e_frac and e ≤ the tables' largest product, the denominator one + e and the
    numerator (one − e, e or one) · 2^out_frac, over every SigmoidTanh of the program."""
    num = den = 1
    for k in img.program.walk():
        if isinstance(k, kp.SigmoidTanh):
            hi, lo = (int(abs(img.program.constants[t]).max()) for t in (k.hi, k.lo))
            one, e = 1 << k.e_frac, (hi * lo) >> k.table_shift
            num, den = max(num, max(one, e) << k.out_frac), max(den, one + e)
    return num.bit_length(), den.bit_length()
