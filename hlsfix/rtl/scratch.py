"""The accelerator's scratch RAM: P write ports (one per lane's write stage) and 2P read ports (a
lane's two operands), every read registered and transparent to a write of the same cycle.

Built one of two ways (``scratch_banks``):

- **banked** (P a power of two, P > 1, and the program's writes conflict-free): word ``w`` lives
  in bank ``w mod P`` at row ``w div P``. Each bank has one write port, fed by a crossbar from the
  lane that writes to it (the compiler checks, per beat of every kernel, that no two lanes write
  one bank in the same cycle: ``write_conflict``), and one copy per read port (one write, one
  read: a simple dual-port RAM that Yosys maps to distributed RAM, LUTRAM on Xilinx, DPR16X4 on
  ECP5). A read port reads its copy of every bank at the row and takes the bank of the address,
  selected after the register. Reads are unrestricted: every port has its own copies.
- **multi-port** (otherwise): one memory with P write and 2P read ports, which no RAM primitive
  holds beyond P = 1 (flip-flops and LUT read multiplexers).

Both are the same memory to the lanes: ``ScratchRAM.write``/``read_a``/``read_b`` have the
``addr``/``data``/``en`` of Amaranth memory ports.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Array, Module, Signal, signed
from amaranth.lib.memory import Memory

from hlsfix.rtl.isa import ADDR, SEQUENCER_OPS, Op


@dataclass(frozen=True)
class WritePort:
    en: Signal
    addr: Signal
    data: Signal


@dataclass(frozen=True)
class ReadPort:
    addr: Signal
    data: Signal


@dataclass(frozen=True)
class ScratchRAM:
    write: list  # per lane: en, addr, data
    read_a: list  # per lane: addr, data (registered)
    read_b: list
    banks: int  # 1: the multi-port memory


def build_scratch(m: Module, lanes: int, depth: int, bits: tuple[int, int], banks: int) -> ScratchRAM:
    """The scratch RAM of ``depth`` words for ``lanes`` lanes, added to ``m``: ``bits`` = (stored
    bits, port bits: reads sign-extend, writes keep the low bits, which hold every value the
    program stores); ``banks`` = ``lanes`` (banked, see the module's text) or 1 (multi-port)."""
    P = lanes
    ram_bits, word_bits = bits
    if banks == 1:
        ram = Memory(shape=signed(ram_bits), depth=depth, init=[])
        m.submodules.ram = ram
        w = [ram.write_port() for _ in range(P)]
        ra = [ram.read_port(domain="sync", transparent_for=w) for _ in range(P)]
        rb = [ram.read_port(domain="sync", transparent_for=w) for _ in range(P)]
        if ram_bits == word_bits:
            return ScratchRAM(w, ra, rb, 1)
        ports = []
        for i, r in enumerate([*ra, *rb]):
            wide = Signal(signed(word_bits), name=f"sr{i}_data")
            m.d.comb += wide.eq(r.data)
            ports.append(ReadPort(r.addr, wide))
        return ScratchRAM(w, ports[:P], ports[P:], 1)
    if banks != P or P & (P - 1):
        raise ValueError(f"banks must be 1 or the lane count {P} (a power of two), not {banks}")
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
    bank_w = []
    for b in range(P):
        en, row, data_ = (
            Signal(name=f"bw_en_{b}"),
            Signal(row_bits, name=f"bw_row_{b}"),
            Signal(signed(word_bits), name=f"bw_data_{b}"),
        )
        hits = [w.en & (w.addr[:k] == b) for w in writes]
        m.d.comb += [
            en.eq(sum_or(hits)),
            row.eq(sum_or([_gate(h, w.addr[k : k + row_bits]) for h, w in zip(hits, writes, strict=True)])),
            data_.eq(sum_or([_gate(h, w.data) for h, w in zip(hits, writes, strict=True)])),
        ]
        bank_w.append((en, row, data_))

    def read_port(name: str) -> ReadPort:
        addr, out = Signal(signed(ADDR), name=f"{name}_addr"), Signal(signed(word_bits), name=f"{name}_data")
        sel = Signal(k, name=f"{name}_bank")
        m.d.sync += sel.eq(addr[:k])
        datas = []
        for b, (en, row, data_) in enumerate(bank_w):
            mem = Memory(shape=signed(ram_bits), depth=rows, init=[], attrs={"ram_style": "distributed"})
            m.submodules[f"{name}_bank{b}"] = mem
            wp = mem.write_port()
            m.d.comb += [wp.en.eq(en), wp.addr.eq(row), wp.data.eq(data_)]
            rp = mem.read_port(domain="sync", transparent_for=[wp])
            m.d.comb += rp.addr.eq(addr[k : k + row_bits])
            datas.append(rp.data)
        m.d.comb += out.eq(Array(datas)[sel])
        return ReadPort(addr, out)

    ra = [read_port(f"sra{p}") for p in range(P)]
    rb = [read_port(f"srb{p}") for p in range(P)]
    return ScratchRAM(writes, ra, rb, P)


def sum_or(values: list):
    out = values[0]
    for v in values[1:]:
        out = out | v
    return out


def _gate(hit, value):
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
        n0 = insn.get("n0", 1)
        if not insn.get("o_ind"):
            live = min(P, n0)
            if len({(lane_o * p) % P for p in range(live)}) != live:
                return f"instruction {pc} ({Op(op).name}): lanes write with stride {lane_o}"
            continue
        why = _indirect_conflict(img, pc, insn)
        if why:
            return why
    return None


def _indirect_conflict(img, pc: int, insn: dict) -> str | None:
    """Walk the beats of a kernel whose write addresses come from its entries (a sparse row)."""
    P, x = img.lanes, insn.get("x", {})
    if x.get("reg_en"):
        return f"instruction {pc}: entry addresses depend on a register"
    n1, n0, chunks = insn.get("n1", 1), insn.get("n0", 1), insn.get("chunks", 1)
    m1, m0 = insn.get("m1", 1), insn.get("m0", 1)
    lane_o, lane_x = insn.get("o", {}).get("lane", 0), x.get("lane", 0)
    addr = x.get("base", 0)
    for _o1 in range(n1):
        for c in range(chunks):
            for r1 in range(m1):
                for r0 in range(m0):
                    offsets = []
                    for p in range(P):
                        if c * P + p >= n0:
                            continue
                        e = img.entries[addr + lane_x * p]
                        last = e["last"] if insn.get("sparse") else (r0 == m0 - 1 and r1 == m1 - 1)
                        if (e["valid"] or not insn.get("sparse")) and last:
                            offsets.append(lane_o * p + e["row"])
                    if len({v % P for v in offsets}) != len(offsets):
                        return f"instruction {pc} ({Op(insn['op']).name}): two lanes write one bank in a beat"
                    # the address generator's one step per beat (accelerator.py's ISSUE state)
                    if r0 < m0 - 1:
                        addr += x.get("d0", 0)
                    elif r1 < m1 - 1:
                        addr += x.get("d1", 0)
                    elif c < chunks - 1:
                        addr += x.get("d2", 0)
                    else:
                        addr += x.get("d3", 0)
    return None


def scratch_banks(img) -> int:
    """Banks of ``img``'s scratch RAM: its lane count where the banked RAM serves it, else 1."""
    P = img.lanes
    if P == 1 or P & (P - 1) or write_conflict(img) is not None:
        return 1
    return P


def bank_free_rows(
    owned: list[list[int]], lengths: dict[int, int], scale: int, tries: int = 200
) -> list[list[int]]:
    """Each lane's rows of a sparse matrix in an order in which no two lanes finish rows of one
    bank in the same beat (a lane's row finishes after its ``lengths[row]`` entries; row r is
    written at offset r·``scale``), so that the banked scratch RAM can take the writes: sorted
    first, then seeded shuffles. The lanes' loads are unchanged, and so are the cycles. Returns
    the sorted order where no order is found (the image then falls back to the multi-port RAM)."""
    import random

    P = len(owned)
    ordered = [sorted(rows) for rows in owned]
    if P == 1 or P & (P - 1):
        return ordered

    def free(order: list[list[int]]) -> bool:
        ends: dict[int, set[int]] = {}
        for rows in order:
            t = 0
            for r in rows:
                t += max(1, lengths[r])
                bank = (r * scale) % P
                if bank in ends.setdefault(t, set()):
                    return False
                ends[t].add(bank)
        return True

    rng = random.Random(0)
    candidate = ordered
    for _ in range(tries):
        if free(candidate):
            return candidate
        candidate = [rng.sample(rows, len(rows)) for rows in ordered]
    return ordered
