"""Parts of the accelerator's sequencer that start its decisions from flip-flops."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

from hlsfix.rtl import program_facts as facts
from hlsfix.rtl.image import Image
from hlsfix.rtl.isa import ADDR, PC
from hlsfix.rtl.memories import fields
from hlsfix.rtl.units import times_constant


def early_again(m: Module, img: Image, regs, pc: Value, lb: int) -> Value | None:
    """Whether the LOOPNEXT at ``pc`` loops again, from comparisons registered in the cycle before
    (``facts.early_loop_compares``: exact where its register is not written in that cycle), so
    the taken-branch choice of the sequencer's word is a flip-flop; None where not exact."""
    early = facts.early_loop_compares(img)
    if not early:
        return None
    flags = []
    for at, reg, last in early:
        flag = Signal(name=f"again_r{reg}_pc{at}")
        m.d.sync += flag.eq(regs[reg][:lb].as_signed() < last)
        flags.append(flag & (pc == at) if len(early) > 1 else flag)
    return Cat(*flags).any()


class WaitOver:
    """Whether the sequencer's word has waited its ``wait`` cycles since the last issued beat, as a
    flip-flop (``over``): SETUP's decision, which every sequencer register follows, then starts
    from it instead of from a comparison of the beat counter with the word. It is computed a
    cycle early for the word the sequencer holds next: every load of the word goes through
    ``load``, which compares next cycle's count with the loaded word's wait."""

    def __init__(self, m: Module, issue: Value, word: Signal) -> None:
        self.word = word
        gap = Signal(6, init=63, name="gap")  # cycles since the last issued beat (saturating)
        self.gap_next = Signal(6, name="gap_next")
        m.d.comb += self.gap_next.eq(Mux(issue, 1, Mux(gap == 63, 63, gap + 1)))
        m.d.sync += gap.eq(self.gap_next)
        # a wait fits 6 bits, so the initial word's is over at gap's initial 63
        self.over = Signal(init=1, name="wait_over")
        m.d.sync += self.over.eq(self.ready(word))  # the word stays unless it is loaded

    def ready(self, word: Value) -> Value:
        """Whether ``word``, held next cycle, has waited enough then."""
        return self.gap_next >= fields(word).wait

    def load(self, word: Value, ready: Value | None = None) -> list:
        """The statements that load the sequencer's word with ``word`` (``ready``: its
        ``self.ready``, computed per choice where ``word`` is a choice of words)."""
        return [self.word.eq(word), self.over.eq(self.ready(word) if ready is None else ready)]

    def load_either(self, choose: Value, word_if: Value, word_else: Value) -> list:
        """``load`` of Mux(``choose``, ``word_if``, ``word_else``), each word compared alone."""
        ready = Mux(choose, self.ready(word_if), self.ready(word_else))
        return self.load(Mux(choose, word_if, word_else), ready)


class AddressProducts:
    """Register-indexed addresses (base + R[reg]·rs): a registered product per (register, stride)
    pair, from the registers alone; a kernel takes its pairs' products when it starts (registers
    of the cycle before). One not ready (after a sequencer instruction, or at a segment's start)
    waits one cycle in SETUP, as ``schedule.py`` models. Addresses wrap."""

    def __init__(self, m: Module, img: Image, regs, pc: Value, issue: Value, setup: Value) -> None:
        self.img = img
        self.indexed = facts.indexed_streams(img)
        self.pairs = facts.address_pairs(img)
        self.values = []
        for k, (reg, rs) in enumerate(self.pairs):
            pp = Signal(signed(ADDR), name=f"rprod{k}_r{reg}")
            m.d.sync += pp.eq(regs[reg][:ADDR].as_signed() * rs)
            self.values.append(pp)
        self.pc, self.ok = Signal(PC, name="prod_pc"), Signal(name="prod_ok")
        m.d.sync += [self.pc.eq(Mux(issue, pc + 1, pc)), self.ok.eq(issue | setup)]

    def product(self, at: Value, stream: str, after: bool = False) -> Value:
        """The start offset of ``stream`` of the instruction at ``at`` (``after``: at ``at`` + 1):
        its pair's product, or 0 (the pair is a constant bit table indexed by ``at``)."""
        value = Const(0, signed(ADDR))
        for pair, pp in zip(self.pairs, self.values, strict=True):
            bits = facts.pair_bits(self.img, stream, pair, after)
            if bits.value:
                value = Mux(bits.bit_select(at, 1), pp, value)
        return value

    def needed(self, insn) -> Value:
        return Cat(*(getattr(insn, s).reg_en for s in self.indexed)).any() if self.indexed else Const(0)

    def ready(self, at: Value) -> Value:
        return self.ok & (self.pc == at)


class EntryAddresses:
    """The entry table's read address of the next beat, per lane: the entry stream's next
    address (``x_next``, its register ``addr_x``) plus the lane's offset, the lane stride × p.

    With ``per_lane`` (from 2 lanes on, ``copies.spread_lanes``) each lane p > 0 keeps its own
    stream address, p lane strides on, in a register of its own and makes every candidate (held,
    stepped, a kernel's start) in the lane, so that the decision, broadcast from the sequencer,
    only picks among them before the block RAM's address: no adder after a route across the die.
    Otherwise (one lane, or 16 built to fit) the sum is made after the sequencer's decision
    (``x_next`` + the offset).
    The strides of one kernel are the same in every lane, and each kernel's start sets the offset,
    so the lane's register stays the stream's address plus its offset while the kernel issues."""

    def __init__(self, m: Module, lanes: int, addr_x: Signal, x_next: Signal, per_lane: bool) -> None:
        self.per_lane = per_lane
        self.lane_next = Signal(signed(ADDR), name="lane_next")  # the stride, where not per lane
        self.next = [x_next]
        self.held = [addr_x]
        if per_lane:
            for p in range(1, lanes):
                held = Signal(signed(ADDR), name=f"addr_x_{p}")
                nxt = Signal(signed(ADDR), name=f"x_next_{p}")
                m.d.sync += held.eq(nxt)
                m.d.comb += nxt.eq(held)  # unless a beat moves it
                self.next.append(nxt)
                self.held.append(held)
        m.d.sync += addr_x.eq(x_next)
        m.d.comb += x_next.eq(addr_x)

    def hold_stride(self, m: Module, stride) -> None:
        """The stride of the word the sequencer holds (where no kernel starts)."""
        if not self.per_lane:
            m.d.comb += self.lane_next.eq(stride)

    def start(self, m: Module, value, stride) -> None:
        """A kernel starts: its stream at ``value`` (lane 0's), lanes ``stride`` apart."""
        for p, nxt in enumerate(self.next):
            m.d.comb += nxt.eq(value + times_constant(stride, p) if p else value)
        self.hold_stride(m, stride)

    def step(self, m: Module, delta) -> None:
        """A beat moves every lane's address by ``delta``."""
        for nxt, held in zip(self.next, self.held, strict=True):
            m.d.comb += nxt.eq(held + delta)

    def address(self, p: int):
        """Lane ``p``'s entry-table read address of the next beat."""
        if self.per_lane:
            return self.next[p]
        return self.next[0] + times_constant(self.lane_next, p)


class PipeBusy:
    """Whether a beat is anywhere in the lanes' pipeline (``busy``; a drain waits for it to
    clear): the OR of the pipeline's valid registers. For lanes spread over the die
    (``ahead``) it is registered from the OR of those registers' inputs, the same value a cycle
    early, so that the sequencer's decisions read one flip-flop rather than an OR gathered
    from every lane across the die. Every register added must load its input in every cycle."""

    def __init__(self, ahead: bool) -> None:
        self.ahead = ahead
        self.busy = Signal(name="pipe_busy")
        self.registers: list = []
        self.inputs: list = []

    def add(self, *pairs) -> None:
        """(register, its input) pairs of valid flags in the pipeline."""
        for register, value in pairs:
            self.registers.append(register)
            self.inputs.append(value)

    def connect(self, m: Module) -> None:
        if self.ahead:
            m.d.sync += self.busy.eq(Cat(*self.inputs).any())
        else:
            m.d.comb += self.busy.eq(Cat(*self.registers).any())
