"""Operand forwarding between the accelerator's lanes (``accelerator.py``).

Early forwarding: each lane's RAM write of this cycle (from the registered write stage), seen by
every lane's operand stage S2 (a kernel may start before its operands reach the RAM).

Late forwarding: each lane's write of the next cycle (its saturated result, about to be
registered), matched against every lane's S2 operand addresses; the match is registered and S3
takes the write stage's data instead of the operand. An operand then sees a write up to one cycle
after its S2 (``schedule.py``: a dependent kernel waits one cycle less). Addresses are compared on
the RAM's address bits only: both are RAM addresses. Accelerators of more than
``schedule.LATE_FORWARDING_LANES`` lanes late-forward from the operand's own lane only
(``own_late``: its cost across lanes grows with P², and its P-input multiplexer after a route
across the die bounded the clock at P = 8); the schedule starts a kernel a cycle early only where
every word that needs it is the reading lane's own (``lane_words.py``).

``Forwarding`` compares every operand with every lane's write (P² comparators and multiplexers of
P inputs), for the multi-port RAM, whose reads also miss the writes of their own cycle (they are
not transparent, ``scratch.py``) and of the cycle before the select. Every comparison is made a
cycle early and registered, and the late-forwarded word is chosen before S3's register from the
write stage's next data: the operand register's input is one AND-OR level over registers and that
data, and S3's multiplier starts from a flip-flop.
``BankForwarding`` serves the banked RAM (``scratch.py``), whose reads cover that write: a bank
takes at most one write a cycle, so an operand looks up the one write its bank takes next cycle
(a table of the writes' enables, rows and lanes per bank, shared by every operand) and registers
whether it hits and which lane writes it; the data then comes from that lane's write register.
Every operand does so for the write of its select cycle (early) and of the cycle after (late), so
that the select cycle starts from registers alone: the bank's read data, the hit, the lane's write.
The table is registered too, built by a crossbar from every lane's write of the cycle after next
(``write_stage.write_ahead``), so that neither the write stage's logic nor a crossing of every
lane is in series with a look-up. A pipelined banked RAM (``scratch.py``, from 2 lanes on) reads
a cycle earlier and misses the write of the cycle before the select too: the operand looks that
one up in the same table a cycle older, and takes its data from the writing lane's write register
kept a cycle (``keep_previous``). From ``schedule.LOCAL_SELECT_FROM`` lanes on (8) the select
cycle's write comes from the reading lane's own write stage only (``_local_operand``: one
comparison within the lane, where the table's look-up and a P-input multiplexer after a route
across the die were), and the write of the cycle before from the lane's own copies of every
lane's write register; the schedule waits a cycle where another lane's write would land in the
select cycle (``schedule.own_lane_near``). A bypassed banked RAM (``scratch.py``, from 16 lanes on)
holds the select cycle's write itself: an operand looks nothing up, and there is no table.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed

from hlsfix.rtl.copies import copy_register, delayed
from hlsfix.rtl.isa import ADDR
from hlsfix.rtl.schedule import late_forwarding, local_select
from hlsfix.rtl.scratch import gated, sum_or


def and_or(m: Module, name: str, terms, word_bits: int) -> Signal:
    """One AND-OR level over exclusive (select, value) terms: zero when no select is set."""
    value = Const(0, signed(word_bits))
    for select, v in terms:
        value = value | Mux(select, v, 0)
    out = Signal(signed(word_bits), name=name)
    m.d.comb += out.eq(value)
    return out


class Forwarding:
    """The write signals of every lane (``en``/``addr``/``data``: this cycle's write stage;
    ``pen``/``paddr``: next cycle's), driven by the lanes, and the two forwarding muxes."""

    AHEAD_NAME = "ahead"  # the names of the writes of the cycle after next

    def __init__(self, lanes: int, word_bits: int, ram_depth: int) -> None:
        P = self.lanes = lanes
        self.has_late = late_forwarding(lanes)
        self.word_bits = word_bits
        self.operand_terms: dict[str, list] = {}  # ``operand``'s (select, value) terms, by name
        self.bypassed = False  # a bypassed scratch RAM: 16 lanes, built to fit (``BankForwarding``)
        self.en = [Signal(name=f"fw_en_{q}") for q in range(P)]
        self.addr = [Signal(signed(ADDR), name=f"fw_addr_{q}") for q in range(P)]
        self.data = [Signal(signed(word_bits), name=f"fw_data_{q}") for q in range(P)]
        self.pen = [Signal(name=f"pw_en_{q}") for q in range(P)]
        self.paddr = [Signal(signed(ADDR), name=f"pw_addr_{q}") for q in range(P)]
        self.pdata = [Signal(signed(word_bits), name=f"pw_data_{q}") for q in range(P)]
        # each lane's write (enable, address) of the cycle after next (``write_ahead``): the late
        # forwarding's match is made with it a cycle early, and ``BankForwarding`` builds its table
        # of next writes from it
        pre = self.AHEAD_NAME
        self.ahead = [
            (Signal(name=f"{pre}_en_{q}"), Signal(signed(ADDR), name=f"{pre}_addr_{q}")) for q in range(P)
        ]
        self.ram_bits = max(1, (ram_depth - 1).bit_length())

    def write_ahead(self, m: Module, p: int, en, addr) -> None:
        """Lane ``p``'s write (``en``, ``addr``) of the cycle after next, which the late
        forwarding matches a cycle early."""
        m.d.comb += [self.ahead[p][0].eq(en), self.ahead[p][1].eq(addr)]

    def keep_previous(self, m: Module) -> None:
        """Keep each lane's writes of the two previous cycles: an operand read two cycles before
        its select (the block RAM's data registered), not transparently, misses the write of its
        read's cycle and the one between."""
        self.prev = []
        newer = list(zip(self.en, self.addr, self.data, strict=True))
        for age in (1, 2):
            kept = [
                (
                    Signal(name=f"fw{age}_en_{q}"),
                    Signal(signed(ADDR), name=f"fw{age}_addr_{q}"),
                    Signal(signed(self.word_bits), name=f"fw{age}_data_{q}"),
                )
                for q in range(self.lanes)
            ]
            for (en, addr, data), (en_, addr_, data_) in zip(kept, newer, strict=True):
                m.d.sync += [en.eq(en_), addr.eq(addr_), data.eq(data_)]
            self.prev = kept + self.prev  # oldest first
            newer = kept

    def _selected(self, m: Module, name: str, terms: list) -> Signal:
        """``and_or`` of an operand's terms, kept by the operand's name for ``own_late``."""
        out = and_or(m, name, terms, self.word_bits)
        self.operand_terms[name] = terms
        return out

    def _same(self, x, y):
        return x[: self.ram_bits] == y[: self.ram_bits]

    def operand(
        self, m: Module, name: str, *, ram, address, ram_en, rom, rest=(), early_address=None, lane=0
    ):
        """An operand selected at S2, before its register: the RAM word at ``address`` when
        ``ram_en`` (or a write to that address in this cycle or the two before: the newest, and
        of one cycle the last lane's, wins), ``rom`` (select, data) or one of ``rest``'s
        (select, value); zero when no select is set. The selects are exclusive and come from
        registers, so that the RAM's data and the writes' pass one AND-OR level on their way to
        the operand register: each write's match with ``address`` is made a cycle early, with
        the write one cycle younger and ``early_address`` (the operand's address a cycle before),
        and registered. (``lane``, the reading lane, serves ``BankForwarding``'s local select.)"""
        P = self.lanes
        writes = [(en, addr, data) for en, addr, data in self.prev]  # oldest first
        writes += [(self.en[q], self.addr[q], self.data[q]) for q in range(P)]
        # a cycle before, each write was the next younger one: the newest the pre-write stage's
        younger = [(en, addr) for en, addr, _ in writes[P:]] + list(zip(self.pen, self.paddr, strict=True))
        hits = []
        for i, (en, addr) in enumerate(younger):
            hit = Signal(name=f"{name}_hit{i}")
            m.d.sync += hit.eq(en & self._same(addr, early_address))
            hits.append(hit)
        terms = [(ram_en & ~Cat(*hits).any(), ram), rom, *rest]
        for i, (_, _, data) in enumerate(writes):
            later = Cat(*hits[i + 1 :]).any() if i + 1 < len(writes) else Const(0)
            terms.append((ram_en & hits[i] & ~later, data))
        return self._selected(m, name, terms)

    def late(self, m: Module, p: int, name: str, value, address, enable, *, raw, early_address):
        """``value`` (``raw`` registered) into S3, replaced there by a write that lands in S3's
        cycle (any lane's; above ``LATE_FORWARDING_LANES`` lanes, lane ``p``'s own: ``own_late``).
        Here the choice is made before the register, from next cycle's write data (``pdata``),
        so that S3's operand is a flip-flop: the multiplier's input then comes straight from it
        rather than through a multiplexer of two registers (the multi-port RAM serves one lane,
        whose write stage is short enough to feed the choice). The match with next cycle's write
        is made a cycle early (the write of the cycle after next against ``early_address``,
        ``address`` a cycle before)."""
        if not self.has_late:
            return self.own_late(m, p, name, enable, raw=raw, early_address=early_address)
        hits = []
        for q, (en, addr) in enumerate(self.ahead):
            hit = Signal(name=f"{name}_late_hit{q}_{p}")
            m.d.sync += hit.eq(en & self._same(addr, early_address))
            hits.append(enable & hit)
        data_ = and_or(m, f"{name}_late_{p}", list(zip(hits, self.pdata, strict=True)), self.word_bits)
        out = Signal(signed(self.word_bits), name=f"{name}_fwd_{p}")
        m.d.sync += out.eq(Mux(Cat(*hits).any(), data_, raw))
        return out

    def own_late(self, m: Module, p: int, name: str, enable, *, raw, early_address):
        """``late`` from lane ``p``'s own write stage alone, as ``Forwarding.late`` makes it at
        P = 1: its write of the cycle after next matched a cycle early, the word chosen from its
        next write data before S3's register. One comparison, and the choice made inside the
        operand's own AND-OR (``raw``'s terms, from ``operand``: each select also "not taken",
        one more term for the write), all within the lane (``schedule.own_lane`` starts a kernel
        early only where this serves it). As a 2:1 multiplexer after that AND-OR it was one
        logic level more on the path from the writes' data to the register, the MLP's critical
        one at P = 8 (94.8 MHz; folded, 101.1); at 16 lanes, built to fit, the multiplexer stays.
        (Chosen after the register instead, from the lane's write register, the multiplexer sits
        before the multiplier: the MLP at P = 8 went from 95.8 to 86.9 MHz, its path the write
        register → that multiplexer → the DSP block.)"""
        en, addr = self.ahead[p]
        hit = Signal(name=f"{name}_own_hit_{p}")
        m.d.sync += hit.eq(en & self._same(addr, early_address))
        take = enable & hit
        out = Signal(signed(self.word_bits), name=f"{name}_fwd_{p}")
        if self.bypassed:  # built to fit: the folded AND-OR cost ProtoNN 2,350 LUT at P = 16
            m.d.sync += out.eq(Mux(take, self.pdata[p], raw))
            return out
        if raw.name not in self.operand_terms:
            raise ValueError(f"raw must be an operand's selection, not {raw.name!r}")
        terms = [(select & ~take, value) for select, value in self.operand_terms[raw.name]]
        m.d.sync += out.eq(and_or(m, f"{name}_own_{p}", [*terms, (take, self.pdata[p])], self.word_bits))
        return out


class BankForwarding(Forwarding):
    """Forwarding for the banked scratch RAM (the module's text): per operand, one look-up of its
    bank's next write a cycle ahead, registered, instead of a comparison with every lane."""

    AHEAD_NAME = "aw"

    def __init__(
        self, lanes: int, word_bits: int, ram_depth: int, *, pipelined: bool = False, bypassed: bool = False
    ) -> None:
        if pipelined and bypassed:
            raise ValueError("a pipelined scratch RAM must not be bypassed")
        super().__init__(lanes, word_bits, ram_depth)
        self.bypassed = bypassed
        self.k = lanes.bit_length() - 1
        rows = -(-ram_depth // lanes)
        self.row_bits = max(1, (rows - 1).bit_length())
        self.pipelined = pipelined
        self.local = pipelined and local_select(lanes)  # the select cycle's write: the lane's own
        self._local: dict[int, tuple] = {}
        self._next: Array | None = None
        self._now: Array | None = None

    def keep_previous(self, m: Module) -> None:
        """Nothing where the banked RAM's read covers the write of the cycle before the select;
        a pipelined RAM's does not: each lane's write data of the cycle before, registered."""
        if self.pipelined and not self.local:  # (a local lane keeps copies: ``_lane_local``)
            self.prev_data = [delayed(m, data, f"fw1_data_{q}") for q, data in enumerate(self.data)]

    def _now_writes(self, m: Module) -> Array:
        """Per bank, its write of this cycle: the table of next writes a cycle older."""
        if self._now is None:
            self._now = Array(delayed(m, w, f"fwnow_{b}") for b, w in enumerate(self._next_writes(m)))
        return self._now

    def _next_writes(self, m: Module) -> Array:
        """Per bank, its write of the next cycle: (enable, row, writing lane), packed; registered
        from the lanes' writes of the cycle after next (``write_ahead``), so that every look-up
        starts from flip-flops."""
        if self._next is None:
            P, k, rb = self.lanes, self.k, self.row_bits
            en, addr = ([w[i] for w in self.ahead] for i in (0, 1))
            banks = []
            for b in range(P):
                hits = [en[q] & (addr[q][:k] == b) for q in range(P)]
                w = Signal(1 + rb + k, name=f"fwnext_{b}")
                m.d.sync += w.eq(
                    Cat(
                        sum_or(hits),
                        sum_or([gated(h, addr[q][k : k + rb]) for q, h in enumerate(hits)]),
                        sum_or([gated(h, Const(q, k)) for q, h in enumerate(hits)]),
                    )
                )
                banks.append(w)
            self._next = Array(banks)
        return self._next

    def _match(self, m: Module, address, enable, name: str, table: Array | None = None):
        """Whether the next cycle's write (or ``table``'s) hits ``address`` (and ``enable``), and
        the lane that writes it: both registered, for the next cycle's select."""
        k, rb = self.k, self.row_bits
        w = Signal(1 + rb + k, name=f"{name}_next")
        m.d.comb += w.eq((self._next_writes(m) if table is None else table)[address[:k]])
        hit, lane = Signal(name=f"{name}_hit"), Signal(k, name=f"{name}_lane")
        m.d.sync += [hit.eq(enable & w[0] & (w[1 : 1 + rb] == address[k : k + rb])), lane.eq(w[1 + rb :])]
        return hit, lane

    def operand(
        self, m: Module, name: str, *, ram, address, ram_en, rom, rest=(), early_address=None, lane=0
    ):
        """This cycle's write to the operand's word, looked up a cycle ahead (at
        ``early_address``) like the late forwarding's: the RAM data never hold it (a bypassed
        RAM's do); from ``LOCAL_SELECT_FROM`` lanes on, lane ``lane``'s own write only."""
        if self.bypassed:
            return self._selected(m, name, [(ram_en, ram), rom, *rest])
        if self.local:
            return self._local_operand(
                m, lane, name, ram=ram, ram_en=ram_en, rom=rom, rest=rest, early_address=early_address
            )
        hit, lane = self._match(m, early_address, Const(1), f"{name}_cur")
        terms = [(ram_en & ~hit, ram), rom, *rest, (ram_en & hit, Array(self.data)[lane])]
        if self.pipelined:  # and the write of the cycle before, where this cycle's does not hit
            hit1, lane1 = self._match(m, early_address, Const(1), f"{name}_prev", self._now_writes(m))
            terms[0] = (ram_en & ~hit & ~hit1, ram)
            terms.append((ram_en & hit1 & ~hit, Array(self.prev_data)[lane1]))
        return self._selected(m, name, terms)

    def _lane_local(self, m: Module, p: int) -> tuple:
        """Lane ``p``'s own write of the next cycle (enable, address: its write of the cycle after
        next, registered) and its copies of every lane's write data of the cycle before
        (``copy_register``: one route across the die from register to register), made once."""
        if p not in self._local:
            en, addr = self.ahead[p]
            own_next = (delayed(m, en, f"own_nen_{p}"), delayed(m, addr, f"own_naddr_{p}"))
            copies = [copy_register(m, self.data[q], f"fw1_data_{q}_at_{p}") for q in range(self.lanes)]
            self._local[p] = own_next, copies
        return self._local[p]

    def _local_operand(self, m: Module, p: int, name: str, *, ram, ram_en, rom, rest, early_address):
        """``operand`` from ``LOCAL_SELECT_FROM`` lanes on: the write of the select cycle from
        lane ``p``'s own write stage (one comparison within the lane; the schedule waits a cycle
        where another lane's would land there: ``schedule.own_lane_near``), the write of the
        cycle before from the lane's copies of every lane's write data, looked up in the table."""
        (nen, naddr), copies = self._lane_local(m, p)
        hit = Signal(name=f"{name}_own_cur_hit")
        m.d.sync += hit.eq(nen & self._same(naddr, early_address))
        hit1, lane1 = self._match(m, early_address, Const(1), f"{name}_prev", self._now_writes(m))
        older = Array(v.as_signed() for v in copies)[lane1]
        terms = [(ram_en & ~hit & ~hit1, ram), rom, *rest]
        terms += [(ram_en & hit, self.data[p]), (ram_en & hit1 & ~hit, older)]
        return self._selected(m, name, terms)

    def late(self, m: Module, p: int, name: str, value, address, enable, *, raw, early_address):
        """``value`` registered into S3, replaced there by a write that lands in S3's cycle: the
        data of the writing lane's register (``raw``, ``value``'s input: ``own_late``'s)."""
        if not self.has_late:
            return self.own_late(m, p, name, enable, raw=raw, early_address=early_address)
        hit, lane = self._match(m, address, enable, f"{name}_late_{p}")
        out = Signal(signed(self.word_bits), name=f"{name}_fwd_{p}")
        m.d.comb += out.eq(Mux(hit, Array(self.data)[lane], value))
        return out
