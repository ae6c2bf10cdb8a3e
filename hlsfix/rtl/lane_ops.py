"""Parts of a lane's stages (``accelerator.py``): the table index of Exp and SigmoidTanh (S3),
lane 0's early register write of Sgn and Select (S3), the reduction of a beat into the
accumulator and the result (S4), and the table words' product (S5-S7)."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, Value, signed, unsigned

from hlsfix.rtl import program_facts as facts
from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import CNT, Op
from hlsfix.rtl.schedule import EARLY_OPS
from hlsfix.rtl.units import rescale_sat, shift_right_among


def table_index(m: Module, img: Image, p: int, u3, a3r) -> Signal:
    """S3: a table kernel's index from its operand register ``a3r`` (saturated to ``ymax``).

    The index starts from the operand register itself, not late-forwarded (a table kernel waits
    one cycle longer for its operand: ``schedule.py``)."""
    W, WB = img.value_bits, img.word_bits
    narrow = facts.narrow
    y0 = Signal(signed(W + 2), name=f"y0_{p}")
    y1 = Signal(unsigned(W + 2), name=f"y1_{p}")
    y = Signal(unsigned(W + 2), name=f"y_{p}")
    absx = Mux(a3r[-1], -a3r, a3r)
    if facts.no_index_wrap(img):  # saturation decided from the operand register, beside the shifts
        over = (a3r <= u3.y_lo[: WB + 2].as_signed()) | (a3r >= u3.y_hi[: WB + 2].as_signed())
    else:
        over = y1 > u3.ymax
    m.d.comb += [
        y0.eq(u3.imm[: W + 2].as_signed() - a3r),  # y0 keeps W + 2 bits: so may imm
        y1.eq(
            Mux(
                u3.op == Op.EXP,
                Mux(y0[-1], 0, y0).as_unsigned() >> narrow(img, u3.sh_r, "sh_r"),
                ((absx.as_unsigned() << narrow(img, u3.sh_l, "sh_l")) >> narrow(img, u3.sh_r, "sh_r")),
            )
        ),
        y.eq(Mux(over, u3.ymax, y1)),
    ]
    return y


def write_register(m: Module, img: Image, regs, index: Value, value: Value) -> None:
    """``regs[index]`` takes ``value`` (synchronously). A late stage's word keeps only the bits
    that differ between the program's words (``memories.expand``), so its register field may
    reach fewer registers than there are: then each one it reaches is its own case. (Assigned
    through all of them, each register out of reach is an empty case statement to Yosys, whose
    Verilog writer prints it as a bare ``(* full_case *)`` that Icarus cannot parse.)"""
    used = 0
    for v in facts.values(img, "dst"):
        used |= v
    reached = [r for r in range(len(regs)) if not r & ~used]
    if len(reached) == len(regs):
        m.d.sync += regs[index].eq(value)
        return
    with m.Switch(index):
        for r in reached:
            with m.Case(r):
                m.d.sync += regs[r].eq(value)


def is_early(u) -> Value:
    """Whether the word ``u`` is a Sgn or Select: done at S3 (``early_register_write``)."""
    return Cat(*(u.op == op for op in sorted(EARLY_OPS))).any()


def early_register_write(m: Module, img: Image, u3, v3, a3, regs, operand) -> None:
    """S3 of lane 0: Sgn and Select decide on the late-forwarded operand ``a3`` and write their
    register at once, 2 cycles before a write-stage result (``schedule.EARLY_REGISTER``): a
    kernel indexed by that register and the streamed class wait 2 cycles less.
    They never reach the write stage. ``operand(reg_flag, value)``: a Select's operand, an
    immediate or a register (read in this cycle)."""
    if not any(facts.uses(img, op) for op in EARLY_OPS):
        return
    at_least = a3 >= u3.imm[: img.word_bits + 2].as_signed()
    with m.If(v3 & (u3.op == Op.SGN)):
        write_register(m, img, regs, u3.dst, a3 > 0)
    with m.If(v3 & (u3.op == Op.SELECT)):
        chosen = Mux(at_least, operand(u3.opa_reg, u3.opa), operand(u3.opb_reg, u3.opb))
        write_register(m, img, regs, u3.dst, chosen)


def reduce_beat(m: Module, img: Image, p: int, u3, u4, *, v4, f4, ri4, a3, a4, prod4, ap4, bp4):
    """S4: accumulate, max, argmax, clamp. Returns the result (before the write
    stage's register) and ``take``: a MAX/ARGMAX beat's value is better than the accumulator.
    ``u3``, ``a3``: S3's word and operand, the next beat's ``u4`` and ``a4``."""
    W, WB = img.value_bits, img.word_bits
    acc = Signal(signed(W), name=f"acc_{p}")
    best_i = Signal(CNT, name=f"besti_{p}")
    nacc = Signal(signed(W + 1), name=f"nacc_{p}")
    q = Signal(signed(2 * WB), name=f"q_{p}")
    tot = Signal(signed(W + 2), name=f"tot_{p}")
    res = Signal(signed(W + 2), name=f"res_{p}")
    better = Signal(name=f"better_{p}")
    m.d.comb += [
        q.eq(shift_right_among(m, prod4, u3.ps, facts.values(img, "ps"), f"prod_sh_{p}")),
        tot.eq(Mux(u4.sub, Mux(u4.b_first, bp4 - ap4, ap4 - bp4), ap4 + bp4)),
    ]
    # MAX/ARGMAX keep a word in acc (a4 or an earlier one), compared on its bits. Both words
    # the next beat may be compared with are known at S3: this beat's a4 (taken into acc if it
    # wins) and acc. Both comparisons are registered and the beat's take picks one, so the
    # accumulator's loop holds no comparator (a reduction's beats are consecutive in a lane,
    # and its first takes its value whatever the comparison).
    beat_gt_a4, beat_gt_acc = Signal(name=f"gt_a4_{p}"), Signal(name=f"gt_acc_{p}")
    take = Signal(name=f"take_{p}")
    a4_taken = Signal(name=f"a4_taken_{p}")
    m.d.sync += [
        beat_gt_a4.eq(a3 > a4),
        beat_gt_acc.eq(a3 > acc[:WB].as_signed()),
        a4_taken.eq(v4 & take),
    ]
    m.d.comb += better.eq(f4 | Mux(a4_taken, beat_gt_a4, beat_gt_acc))
    pre = Signal(signed(W + 2), name=f"pre_{p}")
    if facts.uses(img, Op.HARD):  # only where the program has a clipped-linear kernel
        hard = rescale_sat(
            m, a4, u4.a_sh, W - 2, f"hard_{p}", max_bits=W - 2, s_range=facts.span(img, "a_sh")
        )
        m.d.comb += pre.eq(Mux(u4.op == Op.HARD, hard + u4.imm[: W + 2], tot))
    else:
        m.d.comb += pre.eq(tot)
    # bounds and thresholds compared on the bits ``memories.narrowed`` keeps
    lo, hi = u4.lo[: W + 2].as_signed(), u4.hi[: W + 2].as_signed()
    clamped = Mux(u4.lo_en & (pre < lo), lo, Mux(u4.hi_en & (pre > hi), hi, pre))
    # MAX/ARGMAX take the beat's value when it is better: that choice is the last mux
    # before the result register (its comparison was made at S3)
    keep_acc, keep_res = (
        Signal(signed(W + 1), name=f"kacc_{p}"),
        Signal(signed(W + 2), name=f"kres_{p}"),
    )
    m.d.comb += take.eq(better & ((u4.op == Op.MAX) | (u4.op == Op.ARGMAX)))
    with m.Switch(u4.op):
        with m.Case(Op.MAC):
            m.d.comb += [keep_acc.eq(Mux(f4, q, acc + q)), keep_res.eq(keep_acc)]
        with m.Case(Op.MAX):
            m.d.comb += [keep_acc.eq(acc), keep_res.eq(acc)]
        with m.Case(Op.ARGMAX):
            m.d.comb += [keep_acc.eq(acc), keep_res.eq(best_i)]
        with m.Default():
            m.d.comb += keep_res.eq(clamped)
    m.d.comb += [
        nacc.eq(Mux(take, a4, keep_acc)),
        res.eq(keep_res),
    ]
    with m.If(v4):
        m.d.sync += acc.eq(nacc)
        with m.If(better):
            m.d.sync += best_i.eq(ri4)
    return res, take


def table_product(m: Module, p: int, v4, neg4, oa4, rom_t1, rom_t2, WB: int):
    """S5 → S6 → S7 of a table kernel (``v4``: its beat in S4): the table words read at S4
    registered, then their registered product. Returns (v5, v6, v7, neg7, oa6, oa7, tprod)."""
    v5, neg5 = Signal(name=f"v5_{p}"), Signal(name=f"neg5_{p}")
    oa5 = Signal(signed(len(oa4)), name=f"oa5_{p}")
    m.d.sync += [v5.eq(v4), neg5.eq(neg4), oa5.eq(oa4)]
    v6, neg6 = Signal(name=f"v6_{p}"), Signal(name=f"neg6_{p}")
    oa6 = Signal(signed(len(oa4)), name=f"oa6_{p}")
    t1, t2 = Signal(signed(WB), name=f"t1_{p}"), Signal(signed(WB), name=f"t2_{p}")
    m.d.sync += [v6.eq(v5), neg6.eq(neg5), oa6.eq(oa5), t1.eq(rom_t1.data), t2.eq(rom_t2.data)]
    v7, neg7 = Signal(name=f"v7_{p}"), Signal(name=f"neg7_{p}")
    oa7, tprod = Signal(signed(len(oa4)), name=f"oa7_{p}"), Signal(signed(2 * WB), name=f"tprod_{p}")
    m.d.sync += [v7.eq(v6), neg7.eq(neg6), oa7.eq(oa6), tprod.eq(t1 * t2)]
    return v5, v6, v7, neg7, oa6, oa7, tprod
