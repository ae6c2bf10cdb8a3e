"""The end of a lane's pipeline (``accelerator.py``): a SigmoidTanh result through the divider into
the pre-write stage, and each lane's write of the cycle after next for the forwarding.

The write stage's enable and address come from registers (``w0v``/``w0a``, ``w1v``/``w1a``, the
divider's output, the microcode word of the result's stage), so the values they take next cycle
are known a cycle ahead from those registers' inputs: ``write_ahead`` gives them, and
``forwarding.BankForwarding`` registers its per-bank table of next writes from them (the look-up
of an operand then starts from flip-flops instead of the write stage's logic and a crossbar of
every lane)."""

from __future__ import annotations

from functools import partial

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned

from hlsfix.rtl import program_facts as facts
from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import ADDR, Op
from hlsfix.rtl.memories import WORD_BITS, fields
from hlsfix.rtl.units import Divider


def divider_write(m: Module, img: Image, words: list, div: Divider, u7, s7: tuple, pcs8, write: tuple):
    """Lane ``p``'s S7 → ``div`` (``s7`` = (p, valid, table product, sign, destination) of a
    SigmoidTanh), and its quotient into the pre-write stage's ``write`` = (valid, value, address,
    microcode word) when it comes out; returns the valid with the divider's."""
    W, narrow = img.value_bits, partial(facts.narrow, img)
    p, v7, tprod, neg7, oa7 = s7
    wv, wval, wa, wword = write
    e_ = Signal(unsigned(W), name=f"e_{p}")
    one = Signal(unsigned(W), name=f"one_{p}")
    m.d.comb += [
        e_.eq(tprod >> narrow(u7.tshift, "tshift")),
        one.eq(1 << narrow(u7.e_frac, "e_frac")),
        div.in_valid.eq(v7 & (u7.op == Op.SIGTANH)),
        div.den.eq(one + e_),
        div.num.eq(Mux(u7.tanh, one - e_, Mux(neg7, e_, one)) << narrow(u7.out_frac, "out_frac")),
        div.tag.eq(Cat(u7.tanh & neg7, oa7, pcs8)),
    ]
    dneg, da, dpc = div.tag_out[0], div.tag_out[1 : 1 + ADDR], div.tag_out[1 + ADDR :]
    qv = Mux(dneg, -div.q, div.q)
    wv2 = Signal(name=f"wv2_{p}")
    m.d.comb += wv2.eq(wv | div.out_valid)
    with m.If(div.out_valid):
        m.d.comb += [
            wval.eq(qv),
            wa.eq(da.as_signed()),
            wword.eq(Array(Const(w, WORD_BITS) for w in words)[dpc]),
        ]
    return wv2


def writes_register(op) -> Value:
    """Whether a write-stage result of ``op`` goes to a register, not the RAM (ArgMax; Sgn and
    Select wrote theirs at S3)."""
    return op == Op.ARGMAX


def goes_first(u) -> Value:
    """Whether a beat of the instruction with fields ``u`` is a class-0 result: from S4 straight
    to the write stage (not an Exp or SigmoidTanh table product, not a split dot product)."""
    return (u.op != Op.EXP) & (u.op != Op.SIGTANH) & ~u.split


def write_ahead(w0: tuple, w1: tuple, div_ahead: tuple | None) -> tuple[Value, Value]:
    """A lane's RAM write (enable, address) of the cycle after next: the value its pre-write
    stage's (``wv & ~is_reg``, ``wa``) takes next cycle. ``w0``/``w1`` = (valid, address,
    microcode word) of the class-0 and the class-1 results as they enter their registers (the
    word of the stage before the one ``wword`` takes); ``div_ahead`` = the divider's (valid,
    tag) as they enter its output registers. The divider's result is a SigmoidTanh's, never a
    register's."""
    (v0, a0, word0), (v1, a1, word1) = w0, w1
    is_reg = writes_register(Mux(v1, fields(word1).op, fields(word0).op))
    en, addr = (v0 | v1) & ~is_reg, Mux(v1, a1, a0)
    if div_ahead is not None:
        valid, tag = div_ahead
        en, addr = en | valid, Mux(valid, tag[1 : 1 + ADDR].as_signed(), addr)
    return en, addr


def lane_write_ahead(m: Module, p: int, ahead: tuple, early: tuple, div: Divider | None, spread: bool):
    """Lane ``p``'s write (enable, address) of the cycle after next, for the forwarding: from
    ``ahead`` = (w0, w1) as ``write_ahead`` takes them, or with ``spread`` (lanes spread over the
    die, whose writes every lane's forwarding table gathers) registered from ``early``, the same
    of a cycle before (each register's input in place of the register), so that the table is
    built from flip-flops in the lanes."""
    if not spread:
        return write_ahead(*ahead, None if div is None else (div.valid_ahead, div.tag_ahead))
    en, addr = write_ahead(*early, None if div is None else (div.valid_early, div.tag_early))
    en_r, addr_r = Signal(name=f"ahead_en_{p}"), Signal(signed(ADDR), name=f"ahead_addr_{p}")
    m.d.sync += [en_r.eq(en), addr_r.eq(addr)]
    return en_r, addr_r
