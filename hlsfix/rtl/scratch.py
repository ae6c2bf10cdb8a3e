"""The accelerator's scratch RAM: P write ports (one per lane's write stage) and 2P read ports (a
lane's two operands), every read registered; a banked read is transparent to a write of the same
cycle, a multi-port read is not (the forwarding gives that write).

Built one of two ways (``scratch_banks``):

- **banked** (P a power of two, P > 1, and the program's writes conflict-free): word ``w`` lives
  in bank ``w mod P`` at row ``w div P``. Each bank has one write port, fed by a crossbar from the
  lane that writes to it (the compiler checks, per beat of every kernel, that no two lanes write
  one bank in the same cycle: ``write_conflict``). The reads of one operand (A or B) of all lanes
  are a *read group*, built one of two ways (``shared_reads``):

  - **shared**: where the compiler proves, beat by beat, that the group's lanes never read two
    different rows of one bank (``read_conflict``: lane strides of 0 or 1, gathers whose columns
    fall in distinct banks), one copy of each bank serves the whole group, its row taken from the
    lane that reads it (a crossbar like the write's). P memories per group.
  - **a copy per read port**: otherwise; every port reads its own copy of every bank at the row
    and takes the bank of the address. P² memories per group.

  Each copy is a simple dual-port RAM (one write, one read) that Yosys maps to distributed RAM
  (LUTRAM on Xilinx, DPR16X4 on ECP5); the bank of a read is selected after the register. Banked
  reads are addressed one cycle later than the multi-port RAM's (the operand stage's registered
  address, ``ScratchRAM.late``): the read then covers the write of the cycle before the operand
  is selected, which the forwarding no longer needs to (``forwarding.BankForwarding``). The write
  of the select cycle is the forwarding's, looked up a cycle ahead and registered: a bank's data
  go from its register through the read network to the operand, never through another lane's
  write network in the same cycle (that path, at P = 8, was most of a 19 ns cycle of routing).
  For the same reason the input stream's (or host's) write is registered before the write
  network (``connect_writes``): it lands a cycle later, long before any kernel reads it.

  From 2 lanes on (``copies.spread_lanes``) the banks and the lanes lie far apart, and a bank's
  data crossing the die through the read network and then the operand select was the
  critical path (12-15 ns, 80 % routing). There the reads are **pipelined**: addressed at S1,
  like the multi-port RAM's, their data registered in the lane after the read network, and the
  operand selected from that register a cycle later, in the same cycle as before. The read then
  misses the writes of the select's cycle and of the one before, which the forwarding supplies
  (``BankForwarding`` with ``pipelined``); cycle counts do not change.

  From 16 lanes on (``bypass_banks``) the design is built to fit the part rather than for the
  clock: the reads are **bypassed**: in the cycle after its read each bank (a copied group's port,
  after its choice of bank) compares the row it read with the row of the write it takes, and
  where they meet returns that write's data instead of its own. The read then holds the write of
  the operand select's cycle too, which the forwarding no longer looks up per operand: P
  comparisons and 2:1 multiplexers per read group instead of, per operand, a look-up in a table of
  the banks' next writes and a P-input multiplexer over the lanes' writes. The written word then
  crosses the write network, the bypass and the read network in one cycle.
- **multi-port** (otherwise): one memory with P write and 2P read ports, which no RAM primitive
  holds beyond P = 1 (flip-flops and LUT read multiplexers).

Both are the same memory to the lanes: ``ScratchRAM.write``/``read_a``/``read_b`` have the
``addr``/``data``/``en`` of Amaranth memory ports (``en``: the lane reads the RAM in this beat, which
a shared group's crossbar needs; lane 0's when the accelerator is idle, for the output and host).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Array, Cat, Module, Mux, Signal, signed
from amaranth.lib.memory import Memory

from hlsfix.rtl.copies import SPREAD_BELOW, copy_register, delayed, spread_lanes
from hlsfix.rtl.isa import ADDR, SEQUENCER_OPS, Op, Src, live_lanes
from hlsfix.rtl.rotation import rotate


@dataclass(frozen=True)
class WritePort:
    en: Signal
    addr: Signal
    data: Signal


@dataclass(frozen=True)
class ReadPort:
    addr: Signal
    data: Signal
    en: Signal


@dataclass(frozen=True)
class ScratchRAM:
    write: list  # per lane: en, addr, data
    read_a: list  # per lane: addr, data (registered)
    read_b: list
    banks: int  # 1: the multi-port memory
    # read groups A, B: one copy of the banks each (else a copy per read port)
    shared: tuple[bool, bool] = (False, False)
    rotated: tuple[bool, bool, bool] = (False, False, False)  # writes, A, B (``rotation.py``)
    # rotated writes' shift, registered from the next cycle's writes (``connect_writes``)
    shift_next: Signal | None = None
    # reads addressed at S1 and their data registered after the read network (``pipelined``)
    pipelined: bool = False
    # lane 0's A port as the output and host read it while idle: its data a cycle after its
    # address (the lanes' ports of a pipelined RAM give theirs a cycle later); None: read_a[0]
    idle_port: ReadPort | None = None
    # reads return the write of the cycle after them (the operand select's) too (the module's text)
    bypassed: bool = False

    @property
    def idle_read(self) -> ReadPort:
        return self.read_a[0] if self.idle_port is None else self.idle_port

    @property
    def late(self) -> bool:
        """Reads are addressed at the operand stage (a cycle after the multi-port RAM's)."""
        return self.banks > 1 and not self.pipelined


def build_scratch(
    m: Module,
    lanes: int,
    depth: int,
    bits: tuple[int, int],
    banks: int,
    shared: tuple[bool, bool] = (False, False),
    rotated: tuple[bool, bool, bool] = (False, False, False),
    *,
    ahead: bool = False,
    pipelined: bool = False,
    bypassed: bool = False,
) -> ScratchRAM:
    """The scratch RAM of ``depth`` words for ``lanes`` lanes, added to ``m``: ``bits`` = (stored
    bits, port bits: reads sign-extend, writes keep the low bits, which hold every value the
    program stores); ``banks`` = ``lanes`` (banked, see the module's text) or 1 (multi-port);
    ``shared``: which read groups (A, B) share one copy of the banks (``shared_reads``);
    ``rotated``: whether the writes and read groups A, B use the rotation network
    (``rotation_plan.py``; a rotated read group is shared); ``ahead``: the rotated writes'
    shift is registered from the next cycle's writes (``ScratchRAM.shift_next``, driven by
    ``connect_writes``), not computed from the write ports; ``pipelined`` (banked only): the
    lanes address their reads at S1 and register the data after the read network
    (``ScratchRAM.pipelined``, the module's text); ``bypassed`` (banked, not pipelined): each
    read also returns the write of the cycle after it (``ScratchRAM.bypassed``)."""
    P = lanes
    ram_bits, word_bits = bits
    if banks == 1:
        # Not transparent: the forwarding supplies a write of the read's cycle (``Forwarding``),
        # whatever the memory reads then (``no_rw_check``). A transparent read is emitted as an
        # address register before an asynchronous read, into which Yosys then merges the
        # operand stage's data register, leaving the block RAM's 5.8 ns clock-to-output in the
        # operand select's cycle; a synchronous read keeps that register in the fabric.
        ram = Memory(shape=signed(ram_bits), depth=depth, init=[], attrs={"no_rw_check": 1})
        m.submodules.ram = ram
        w = [ram.write_port() for _ in range(P)]
        ra = [ram.read_port(domain="sync") for _ in range(P)]
        rb = [ram.read_port(domain="sync") for _ in range(P)]
        if ram_bits == word_bits:
            return ScratchRAM(w, ra, rb, 1)
        ports = []
        for i, r in enumerate([*ra, *rb]):
            wide = Signal(signed(word_bits), name=f"sr{i}_data")
            m.d.comb += wide.eq(r.data)
            ports.append(ReadPort(r.addr, wide, r.en))
        return ScratchRAM(w, ports[:P], ports[P:], 1)
    if banks != P or P & (P - 1):
        raise ValueError(f"banks must be 1 or the lane count {P} (a power of two), not {banks}")
    if bypassed and pipelined:
        raise ValueError(
            "a pipelined scratch RAM's reads must not be bypassed: they miss two writes, not one"
        )
    k = P.bit_length() - 1
    rows = -(-depth // P)
    row_bits = max(1, (rows - 1).bit_length())
    writes = [
        WritePort(
            Signal(name=f"sw_en_{p}"),
            Signal(signed(ADDR), name=f"sw_addr_{p}"),
            Signal(signed(word_bits), name=f"sw_data_{p}"),
        )
        for p in range(P)
    ]
    # the write crossbar: bank b takes the write of the lane addressing it (at most one per cycle)
    shift_ahead = Signal(k, name="sw_shift_next") if ahead and rotated[0] else None
    bank_w = rotated_bank_writes(m, writes, k, row_bits, shift_ahead) if rotated[0] else []
    for b in range(0 if rotated[0] else P):
        en, row, data_ = (
            Signal(name=f"bw_en_{b}"),
            Signal(row_bits, name=f"bw_row_{b}"),
            Signal(signed(word_bits), name=f"bw_data_{b}"),
        )
        hits = [w.en & (w.addr[:k] == b) for w in writes]
        m.d.comb += [
            en.eq(sum_or(hits)),
            row.eq(sum_or([gated(h, w.addr[k : k + row_bits]) for h, w in zip(hits, writes, strict=True)])),
            data_.eq(sum_or([gated(h, w.data) for h, w in zip(hits, writes, strict=True)])),
        ]
        bank_w.append((en, row, data_))

    def bypass(name: str, write, row_addr, read) -> Signal:
        """``read`` (a bank's data, read at ``row_addr`` in the cycle before), or ``write``'s data
        (enable, row, data: the bank's write of this cycle) where it lands on that row; the data
        as the bank stores them (the low ``ram_bits``, read back signed)."""
        en, row, data_ = write
        row_read = Signal(row_bits, name=f"{name}_row_q")
        m.d.sync += row_read.eq(row_addr)
        # kept: else Yosys' ABC folds the 2:1 multiplexer into each reader of the bank (ProtoNN at
        # P = 16: ~200 LUT more)
        out = Signal(signed(ram_bits), name=f"{name}_q", attrs={"keep": 1})
        m.d.comb += out.eq(Mux(en & (row == row_read), data_[:ram_bits].as_signed(), read))
        return out

    def bank_memory(name: str, b: int, row_addr, *, bypass_here: bool = True) -> Signal:
        en, row, data_ = bank_w[b]
        mem = Memory(shape=signed(ram_bits), depth=rows, init=[], attrs={"ram_style": "distributed"})
        m.submodules[f"{name}_bank{b}"] = mem
        wp = mem.write_port()
        m.d.comb += [wp.en.eq(en), wp.addr.eq(row), wp.data.eq(data_)]
        rp = mem.read_port(domain="sync", transparent_for=[wp])
        m.d.comb += rp.addr.eq(row_addr)
        if not bypassed or not bypass_here:
            return rp.data
        return bypass(f"{name}_bank{b}", bank_w[b], row_addr, rp.data)

    def port(name: str) -> tuple[ReadPort, Signal]:
        """A read port's signals and its bank, registered (the bank is selected after the RAM)."""
        addr, out = Signal(signed(ADDR), name=f"{name}_addr"), Signal(signed(word_bits), name=f"{name}_data")
        sel = Signal(k, name=f"{name}_bank")
        m.d.sync += sel.eq(addr[:k])
        return ReadPort(addr, out, Signal(name=f"{name}_en")), sel

    def copied_group(name: str) -> list[ReadPort]:
        out = []
        for p in range(P):
            rp, sel = port(f"{name}{p}")
            row = rp.addr[k : k + row_bits]
            datas = [bank_memory(f"{name}{p}", b, row, bypass_here=False) for b in range(P)]
            data_ = Array(datas)[sel]
            if bypassed:  # after the bank's choice: one comparison per port, not P
                write = tuple(Array(w[i] for w in bank_w)[sel] for i in range(3))
                data_ = bypass(f"{name}{p}", write, row, data_)
            m.d.comb += rp.data.eq(data_)
            out.append(rp)
        return out

    def shared_group(name: str) -> list[ReadPort]:
        ports = [port(f"{name}{p}") for p in range(P)]
        datas = []
        for b in range(P):
            # at most one row per bank is read in a beat (``read_conflict``): the reading lanes' row
            hits = [rp.en & (rp.addr[:k] == b) for rp, _ in ports]
            row = Signal(row_bits, name=f"{name}_row_{b}")
            m.d.comb += row.eq(
                sum_or([gated(h, rp.addr[k : k + row_bits]) for h, (rp, _) in zip(hits, ports, strict=True)])
            )
            datas.append(bank_memory(name, b, row))
        for rp, sel in ports:
            m.d.comb += rp.data.eq(Array(datas)[sel])
        return [rp for rp, _ in ports]

    def rotated_group(name: str) -> list[ReadPort]:
        """Lane p reads bank (p + base) mod P, or bank ``base mod P`` (stride 0; ``rotation.py``)."""
        ports = [port(f"{name}{p}")[0] for p in range(P)]
        base = ports[0].addr
        row0, row1 = Signal(row_bits, name=f"{name}_row0"), Signal(row_bits, name=f"{name}_row1")
        m.d.comb += [row0.eq(base[k : k + row_bits]), row1.eq(row0 + 1)]
        stride1 = ports[1].addr[:k] != base[:k]  # lane strides are 0 or 1
        rows = [Mux(stride1 & (base[:k] > b), row1, row0) for b in range(P)]
        banks_data = [bank_memory(name, b, row) for b, row in enumerate(rows)]
        if spread_lanes(P):
            # lanes spread over the die: each output of the network takes its multiplexers'
            # selects from a copy of the shift of its own (every bit of every level read one
            # register, routed to all of them; a P-input multiplexer per lane instead congested
            # the routing: the MLP's P = 8 went from 65 to 50 MHz)
            shift = [copy_register(m, base[:k], f"{name}_shift_l{p}") for p in range(P)]
            s1 = [copy_register(m, stride1, f"{name}_stride1_l{p}")[0] for p in range(P)]
        else:
            one, s1 = Signal(k, name=f"{name}_shift"), Signal(name=f"{name}_stride1")
            m.d.sync += [one.eq(base[:k]), s1.eq(stride1)]
            shift, s1 = one, [s1] * P
        datas = rotate(m, f"{name}_rot", banks_data, shift, 1)
        if pipelined:
            # each lane's rotated data registered, and the stride's choice (its own or lane 0's)
            # made after the register, in the operand select's cycle
            m.d.comb += ports[0].data.eq(datas[0].as_signed())  # the idle read's
            own = [delayed(m, datas[p].as_signed(), f"{name}{p}_q") for p in range(P)]
            stride = [delayed(m, s1[p], f"{name}_stride1_q{p}") for p in range(P)]
            lanes_data = [own[0]] + [Mux(stride[p], own[p], own[0]) for p in range(1, P)]
            return [ports[0], *(lane_port(rp, d) for rp, d in zip(ports, lanes_data, strict=True))]
        for p, rp in enumerate(ports):
            m.d.comb += rp.data.eq((datas[p] if p == 0 else Mux(s1[p], datas[p], datas[0])).as_signed())
        return ports

    def lane_port(rp: ReadPort, data_) -> ReadPort:
        """``rp`` as the lane sees it, with ``data_`` (a pipelined group's, a cycle later)."""
        out = Signal(signed(word_bits), name=f"{rp.data.name}_lane")
        m.d.comb += out.eq(data_)
        return ReadPort(rp.addr, out, rp.en)

    def pipelined_group(build, name: str) -> tuple[list[ReadPort], ReadPort | None]:
        """The lanes' ports of a read group and its port 0 as read while idle: with
        ``pipelined``, every port's data registered (a rotated group does its own)."""
        ports = build(name)
        if not pipelined:
            return ports, None
        if build is rotated_group:
            return ports[1:], ports[0]
        return [lane_port(rp, delayed(m, rp.data, f"{name}{p}_q")) for p, rp in enumerate(ports)], ports[0]

    groups = [
        rotated_group if rotated[1 + g] else shared_group if shared[g] else copied_group for g in (0, 1)
    ]
    (ra, idle), (rb, _) = pipelined_group(groups[0], "sra"), pipelined_group(groups[1], "srb")
    shared = (shared[0] or rotated[1], shared[1] or rotated[2])
    return ScratchRAM(writes, ra, rb, P, shared, rotated, shift_ahead, pipelined, idle, bypassed)


def bypass_banks(lanes: int) -> bool:
    """Whether the banked scratch RAM of an accelerator of ``lanes`` lanes bypasses its reads
    (the module's text): where the accelerator is built to fit, not for the clock."""
    return lanes >= SPREAD_BELOW


def write_shift(writes, k: int):
    """r of writes where every writing lane p writes bank (p + r) mod P: any writing lane's bank
    minus its lane (they agree: ``rotation.rotated_writes``); ``writes``: (en, addr) per lane."""
    P = len(writes)
    return sum_or([gated(en, (addr[:k] + (P - p) % P)[:k]) for p, (en, addr) in enumerate(writes)])


def connect_writes(
    m: Module,
    ram: ScratchRAM,
    writes: list,
    next_writes: list,
    idle: tuple,
    *,
    ahead_writes: list | None = None,
) -> None:
    """Drive the write ports: ``writes`` = each lane's (enable, address, data) of this cycle (its
    write stage's registers), ``next_writes`` = each lane's (enable, address) of the next cycle,
    ``idle`` = (running, enable, address, data): lane 0's port writes the input stream's or host's
    words while the accelerator is not running. The banked RAM registers that write (and the
    rotated writes' shift, from the next cycle's writes), so that its write network starts from
    flip-flops; it lands a cycle later, when no kernel runs yet (the first reads the RAM three
    cycles after it starts) and the lanes' write stages are empty. ``ahead_writes`` (lanes spread
    over the die): each lane's registered (enable, address) of the cycle after next, from which
    the rotated writes' shift is made a cycle earlier still and registered, so that no OR over
    every lane's write-stage logic lies in one cycle."""
    running, *idle_write = idle
    if ram.banks > 1:
        held = (Signal(name="in_we_reg"), Signal(signed(ADDR), name="in_addr_reg"))
        held += (Signal(signed(len(ram.write[0].data)), name="in_data_reg"),)
        m.d.sync += [r.eq(v) for r, v in zip(held, idle_write, strict=True)]
        lane0 = tuple(Mux(held[0], h, w) for h, w in zip(held, writes[0], strict=True))
        # the input's write of the next cycle is the one registered now (no lane writes meanwhile)
        in_we, in_addr, _ = idle_write
        next_writes = [(next_writes[0][0] | in_we, Mux(in_we, in_addr, next_writes[0][1])), *next_writes[1:]]
    else:
        lane0 = tuple(Mux(running, w, i) for w, i in zip(writes[0], idle_write, strict=True))
    for port, (en, addr, data_) in zip(ram.write, [lane0, *writes[1:]], strict=True):
        m.d.comb += [port.en.eq(en), port.addr.eq(addr), port.data.eq(data_)]
    if ram.shift_next is None:
        return
    k = len(ram.shift_next)
    if ahead_writes is None:
        m.d.comb += ram.shift_next.eq(write_shift(next_writes, k))
        return
    lanes_shift = Signal(k, name="sw_shift_lanes")
    m.d.sync += lanes_shift.eq(write_shift(ahead_writes, k))
    in_we, in_addr, _ = idle_write  # lands alone: lane 0's bank is the shift
    m.d.comb += ram.shift_next.eq(Mux(in_we, in_addr[:k], lanes_shift))


def rotated_bank_writes(m: Module, writes: list[WritePort], k: int, row_bits: int, ahead) -> list[tuple]:
    """Per bank (enable, row, data) of its write, through the rotation network: every writing
    lane p writes bank (p + r) mod P for one r (``rotation_plan.rotated_writes``); r registered a cycle
    ahead (``ahead``: the next cycle's r) or computed from ``writes``."""
    r = Signal(k, name="sw_shift")
    if ahead is None:
        m.d.comb += r.eq(write_shift([(w.en, w.addr) for w in writes], k))
    else:
        m.d.sync += r.eq(ahead)
    packed = [Cat(w.en, w.addr[k : k + row_bits], w.data) for w in writes]
    out = []
    for b, x in enumerate(rotate(m, "sw_rot", packed, r, -1)):
        en, row = Signal(name=f"bw_en_{b}"), Signal(row_bits, name=f"bw_row_{b}")
        data_ = Signal(signed(len(writes[0].data)), name=f"bw_data_{b}")
        m.d.comb += [en.eq(x[0]), row.eq(x[1 : 1 + row_bits]), data_.eq(x[1 + row_bits :])]
        out.append((en, row, data_))
    return out


def connect_reads(m: Module, ram: ScratchRAM, p: int, *, addresses, reads, idle) -> None:
    """Address lane ``p``'s two read ports: ``addresses`` = ((A, B) at S1, (A, B) at S2, the
    latter registered from the former), the banked RAM taking S2's (``ScratchRAM.late``) with
    ``reads`` (A, B: the lane reads the RAM in this beat, known at S1) registered beside it, a
    pipelined one S1's with S1's ``reads``; ``idle`` = (running, address): lane 0's A port
    reads for the output and host while idle."""
    running, idle_addr = idle
    (a, b) = addresses[1] if ram.late else addresses[0]
    m.d.comb += [
        ram.read_a[p].addr.eq(Mux(running, a, idle_addr) if p == 0 else a),
        ram.read_b[p].addr.eq(b),
    ]
    if ram.banks > 1:
        a_reads, b_reads = reads
        if ram.late:
            a_reads, b_reads = Signal(name=f"a_reads_{p}"), Signal(name=f"b_reads_{p}")
            m.d.sync += [a_reads.eq(reads[0]), b_reads.eq(reads[1])]
        m.d.comb += [
            ram.read_a[p].en.eq(Mux(running, a_reads, 1) if p == 0 else a_reads),
            ram.read_b[p].en.eq(b_reads),
        ]


def sum_or(values: list):
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out


def gated(hit, value):
    """``value`` where ``hit``, else 0 (a term of an AND-OR multiplexer)."""
    return value & hit.replicate(len(value))


# ---- the compile-time check ---------------------------------------------------------------------

REG_WRITING = (Op.ARGMAX, Op.SGN, Op.SELECT)  # their results go to a register, not the RAM


def write_conflict(img) -> str | None:
    """Why the banked scratch RAM cannot serve ``img`` (two lanes writing one bank in one
    cycle, or a write address the compiler cannot know), or None: the writes are conflict-free.

    A beat's lanes write at a common base plus a per-lane offset (the output stream's lane stride,
    and a sparse entry's row), so conflicts are decided by the offsets alone, whatever the base
    (registers, loop counters). Writes of one cycle come from one kernel (``schedule.py``: kernels
    whose write windows meet follow each other)."""
    P = img.lanes
    for pc, insn in enumerate(img.insns):
        op = insn["op"]
        if op in SEQUENCER_OPS or op == Op.DONE or op in REG_WRITING or insn.get("split"):
            continue
        if img.uses and img.uses[pc].ram_write is None:
            continue
        o = insn.get("o", {})
        lane_o = o.get("lane", 0)
        if not insn.get("o_ind"):
            live = live_lanes(insn, P)
            if len({(lane_o * p) % P for p in live}) != len(live):
                return f"instruction {pc} ({Op(op).name}): lanes write with stride {lane_o}"
            continue
        why = _indirect_conflict(img, pc, insn)
        if why:
            return why
    return None


def entry_beats(img, insn: dict):
    """The beats of a kernel whose addresses come from its entries (a gather, a sparse row), in
    issue order: per beat, whether it ends a reduction and each live lane's (lane, entry)."""
    P, x = img.lanes, insn.get("x", {})
    n1, chunks = insn.get("n1", 1), insn.get("chunks", 1)
    m1, m0 = insn.get("m1", 1), insn.get("m0", 1)
    lane_x = x.get("lane", 0)
    addr = x.get("base", 0)
    for _o1 in range(n1):
        for c in range(chunks):
            for r1 in range(m1):
                for r0 in range(m0):
                    live = live_lanes(insn, P, c)
                    yield r0 == m0 - 1 and r1 == m1 - 1, [(p, img.entries[addr + lane_x * p]) for p in live]
                    # the address generator's one step per beat (accelerator.py's ISSUE state)
                    if r0 < m0 - 1:
                        addr += x.get("d0", 0)
                    elif r1 < m1 - 1:
                        addr += x.get("d1", 0)
                    elif c < chunks - 1:
                        addr += x.get("d2", 0)
                    else:
                        addr += x.get("d3", 0)


def _indirect_conflict(img, pc: int, insn: dict) -> str | None:
    """Walk the beats of a kernel whose write addresses come from its entries (a sparse row)."""
    P = img.lanes
    if insn.get("x", {}).get("reg_en"):
        return f"instruction {pc}: entry addresses depend on a register"
    for beat in indirect_write_beats(img, insn):
        if len({v % P for _, v in beat}) != len(beat):
            return f"instruction {pc} ({Op(insn['op']).name}): two lanes write one bank in a beat"
    return None


def indirect_write_beats(img, insn: dict):
    """Per beat of a kernel whose write addresses come from its entries (a sparse row): each
    writing lane and its word's offset from the beat's base (the lane stride plus the entry's row)."""
    lane_o = insn.get("o", {}).get("lane", 0)
    sparse = insn.get("sparse")
    for ends, lanes in entry_beats(img, insn):
        yield [
            (p, lane_o * p + e["row"])
            for p, e in lanes
            if (e["valid"] or not sparse) and (e["last"] if sparse else ends)
        ]


def _two_rows_of_a_bank(offsets: list[int], P: int) -> bool:
    rows: dict[int, int] = {}
    return any(rows.setdefault(v % P, v) != v for v in offsets)


def read_conflict(img, group: str) -> str | None:
    """Why the lanes' reads of operand ``group`` ("a" or "b") cannot share one copy of the banks
    (two lanes reading different rows of one bank in a beat, or addresses the compiler cannot
    know), or None. A beat's lanes read at a common base plus a per-lane offset (the stream's lane
    stride, and a gather's column), so, as for the writes, the offsets alone decide. A lane counts
    as reading wherever the hardware may enable its read (``BankForwarding``'s callers gate it by
    the beat's validity, the operand's source, padding and a split's killed lanes)."""
    P = img.lanes
    for pc, insn in enumerate(img.insns):
        op = insn["op"]
        if op in SEQUENCER_OPS or op == Op.DONE or insn.get(f"{group}_src", Src.RAM) != Src.RAM:
            continue
        lane = insn.get(group, {}).get("lane", 0)
        if not insn.get(f"{group}_ind"):
            if _two_rows_of_a_bank([lane * p for p in live_lanes(insn, P)], P):
                return f"instruction {pc} ({Op(op).name}): lanes read with stride {lane}"
            continue
        if insn.get("x", {}).get("reg_en"):
            return f"instruction {pc}: entry addresses depend on a register"
        sparse = insn.get("sparse")
        for _ends, lanes in entry_beats(img, insn):
            # an invalid entry of a dense gather pads operand A with the immediate (no read)
            offsets = [lane * p + e["col"] for p, e in lanes if e["valid"] or (not sparse and group == "b")]
            if _two_rows_of_a_bank(offsets, P):
                return f"instruction {pc} ({Op(op).name}): two lanes read two rows of one bank in a beat"
    return None


def shared_reads(img) -> tuple[bool, bool]:
    """Which read groups (A, B) of ``img``'s banked scratch RAM share one copy of the banks."""
    if scratch_banks(img) == 1:
        return (False, False)
    return (read_conflict(img, "a") is None, read_conflict(img, "b") is None)


def scratch_banks(img) -> int:
    """Banks of ``img``'s scratch RAM: its lane count where the banked RAM serves it, else 1."""
    P = img.lanes
    if P == 1 or P & (P - 1) or write_conflict(img) is not None:
        return 1
    return P
