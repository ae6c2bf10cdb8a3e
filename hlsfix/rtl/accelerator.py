"""The accelerator: a microcoded sequencer, an address generator, P lanes and their memories.

One design executes any KernelProgram: ``microcode.compile_image`` turns the program into the
microcode ROM, the weight ROM, the entry table and the RAM size, and this module is the same for
every model (``memories.py`` builds the memories). Per cycle the address generator issues one
beat (one loop-nest point) to all P lanes; each lane runs the same pipeline, every stage after S0
reading its instruction's fields from registers (S1's the sequencer's word delayed, the later
stages' a microcode block-RAM row read at pc, registered and delayed stage by stage):

  S0 issue      counters and running addresses → entry-table read
  S1 address    + table column/row (gathers, sparse) → RAM/ROM operand reads (a banked scratch
                RAM's at S2 at 16 lanes; from 2 to 8 at S1, its data registered after the read
                network: ``scratch.py``)
  S2 select     operands selected (forwarded from this cycle's write) and registered; the next
                cycle's write matched against their addresses (late forwarding; with the
                multi-port RAM, P = 1, its word is chosen before the register)
  S3 operate    multiply (a 16×16 DSP multiply for 16-bit words, registered in and out) / align
                (ALU) / table index, registered / Sgn's and Select's register written (lane 0) /
                MAX's comparisons for the next beat, registered
  S4 reduce     accumulate, max, argmax, clamp / table-ROM read
  S5-S7 table   table words registered, their product registered → exp result / divider input
                (SigmoidTanh: + the divider's stages) / lane 0: the adder tree over every lane's
                partial sum (a dot product split across the lanes), registered
  pre-write     rescale_sat to the destination's bits, registered
  write         RAM or register write, forwarding

The sequencer starts from flip-flops: its word is a register loaded with ``pc`` (from copies of
the microcode one word ahead and at branch targets), loop ends are registered flags, LOOPNEXT's
comparison and whether the word has waited are registered a cycle early (``sequencer.py``), and
register-indexed addresses come from per-(register, stride) products of the registers alone.
Shifters, saturation and clipping are shaped by the program's shifts (``program_facts.py``).

Each lane has one write stage; ``schedule.py`` gives each instruction the wait its data
dependences and that stage need (a short-latency kernel may overtake an Exp or SigmoidTanh when
their writes never meet in a cycle), so independent kernels overlap. Memory reads are registered.
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import partial

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from hlsfix.rtl import program_facts as facts
from hlsfix.rtl.copies import spread_lanes
from hlsfix.rtl.forwarding import BankForwarding, Forwarding
from hlsfix.rtl.hostport import HOST_PORT, check_segments, host_idle_state
from hlsfix.rtl.isa import ADDR, CNT, PC, REGISTER_WRITE_OPS, Op, Src
from hlsfix.rtl.lane_ops import (
    early_register_write,
    is_early,
    reduce_beat,
    table_index,
    table_product,
    write_register,
)
from hlsfix.rtl.memories import (
    FAST_NEXT,
    NEEDS_NEXT,
    SEQ_WRITE,
    WORD_BITS,
    NoTable,
    adder_tree,
    build_memories,
    delayed,
    fields,
    late_words,
)
from hlsfix.rtl.microcode import Image
from hlsfix.rtl.rotation_plan import scratch_plan
from hlsfix.rtl.scratch import build_scratch, bypass_banks, connect_reads, connect_writes
from hlsfix.rtl.sequencer import AddressProducts, EntryAddresses, PipeBusy, WaitOver, early_again
from hlsfix.rtl.stream_states import output_states
from hlsfix.rtl.units import DIV_BITS_PER_STAGE, Divider, rescale_sat, round_half, shift_exact, times_constant
from hlsfix.rtl.write_stage import divider_write, goes_first, lane_write_ahead, writes_register


class Accelerator(wiring.Component):
    """Input elements stream in (one per beat), the class (or the output buffer) streams out.

    With ``host_port`` (co-design) there are no streams: a link wrapper reads and writes the
    scratch RAM and the integer registers through ``host`` (``hostport.HOST_PORT``) while the
    accelerator is idle, and starts one of the image's segments at a time."""

    def __init__(self, image: Image, *, host_port: bool = False) -> None:
        self.img = image
        self.host_port = host_port
        self.in_bits = image.program.input_buffer.fmt.bits
        self.in_layout = data.StructLayout({"value": signed(self.in_bits)})
        self.out_layout = data.StructLayout({"value": signed(32), "last": unsigned(1)})
        members = {"pc": Out(PC), "running": Out(1)}  # pc: cycle accounting per kernel in simulation
        check_segments(image, host_port)
        if host_port:
            members["host"] = In(HOST_PORT)
        else:
            members["inp"] = In(stream.Signature(self.in_layout))
            members["out"] = Out(stream.Signature(self.out_layout))
        super().__init__(members)

    def elaborate(self, platform):  # noqa: C901 - one pipeline, read top to bottom
        m = Module()
        img, P = self.img, self.img.lanes
        W, WB = img.value_bits, img.word_bits
        mems = build_memories(m, img)

        uses, span, narrow = (partial(f, img) for f in (facts.uses, facts.span, facts.narrow))
        roms, tables = mems.roms, mems.tables
        ents, ent_layout = mems.ents, mems.ent_layout

        regs = Array(Signal(signed(32), name=f"r{i}") for i in range(max(1, len(img.regs))))
        pc = Signal(PC)
        # the sequencer's word at pc, registered: loaded with pc (look-ahead/target copies)
        u_reg = Signal(WORD_BITS, init=mems.words[0])
        u = fields(u_reg)
        m.d.comb += self.pc.eq(pc)

        # ---- sequencer and address generator ------------------------------------------------
        o1, c, o0c, r1, r0 = (Signal(CNT, name=n) for n in ("o1", "c", "o0c", "r1", "r0"))
        streams = facts.STREAMS
        addr = {s: Signal(signed(ADDR), name=f"addr_{s}") for s in streams}
        # the entry stream's next address and lane stride: the entry table is read a cycle
        # ahead, so its block RAM's data is registered before the address adders (S1)
        x_next = Signal(signed(ADDR), name="x_next")
        entries = EntryAddresses(m, P, addr["x"], x_next, spread_lanes(P))
        entries.hold_stride(m, u.x.lane)  # unless a kernel starts
        issue = Signal()
        in_count = Signal(range(img.program.input_buffer.size + 1))
        out_count = Signal(range(img.output_len + 1))
        busy = PipeBusy(ahead=spread_lanes(P))
        pipe_busy = busy.busy

        def operand(v_reg, v):
            return Mux(v_reg, regs[v[: len(u.dst)]], v)

        # RAM ports: per lane two reads and one write; lane 0's are shared with the stream I/O.
        # A kernel may read a word in the cycle its producer writes it: a banked read is
        # transparent to that write, a multi-port read gets it from the forwarding.
        scratch = build_scratch(
            m,
            P,
            img.ram_depth,
            (img.ram_bits, WB),
            *scratch_plan(img),
            ahead=True,
            pipelined=spread_lanes(P),
            bypassed=bypass_banks(P),
        )
        ram_ra, ram_rb = scratch.read_a, scratch.read_b
        waited = WaitOver(m, issue, u_reg)
        u_next_port = mems.ucode_next.read_port(domain="comb")
        m.d.comb += u_next_port.addr.eq(pc)
        u_next = u_next_port.data  # the word at pc + 1
        u_target_port = mems.ucode_target.read_port(domain="comb")
        m.d.comb += u_target_port.addr.eq(pc)
        u_target = u_target_port.data  # a LOOPNEXT's target word

        setup = Signal()
        products = AddressProducts(m, img, regs, pc, issue, setup)
        indexed, product = products.indexed, products.product

        # each loop counter at its last value: flags set a cycle early (counter + 2 vs the count)
        z0, z1, zc, zo = (Signal(name=n) for n in ("z_r0", "z_r1", "z_c", "z_o1"))

        def start_kernel(insn, at, after=False):
            m.d.sync += [o1.eq(0), c.eq(0), o0c.eq(0), r1.eq(0), r0.eq(0)]
            m.d.sync += [z0.eq(insn.m0 == 1), z1.eq(insn.m1 == 1), zc.eq(insn.chunks == 1)]
            m.d.sync += zo.eq(insn.n1 == 1)
            for s in streams:
                f = getattr(insn, s)
                value = f.base + product(at, s, after) if s in indexed else f.base
                if s == "x":
                    entries.start(m, value, insn.x.lane)
                else:
                    m.d.sync += addr[s].eq(value)

        in_we, in_addr, in_data = Signal(), Signal(signed(ADDR)), Signal(signed(WB))
        out_addr = Signal(signed(ADDR))

        # the next instruction may start with the next beat (no wait, no SETUP cycle), and needs
        # an address product: constant bits per pc
        stay = Signal()  # ISSUE in this cycle and the previous one, at the same pc
        m.d.sync += stay.eq(0)
        lb = facts.loop_bits(img)  # the loop registers' values fit lb bits
        last_trip = Array(Const(v, signed(35 if lb == 32 else lb)) for v in facts.last_trips(img))
        again = early_again(m, img, regs, pc, lb)  # None: compared in LOOPNEXT's own cycle
        if again is None:  # R + 1 < stop as R < stop - 1: the bound is a constant per instruction
            again = regs[u.dst][:lb].as_signed() < last_trip[pc]

        # SETUP's decision, with only the terms the program's words can make true: a sequencer
        # instruction (INTOP, LOOPINIT, LOOPNEXT) waits or drains only where one of them does,
        # and only the ones present are told apart, so that the sequencer's registers follow
        # a few flip-flops (the word, ``waited``, ``again``) rather than a chain of every case.
        hold = (u.drain & pipe_busy) | ~waited.over
        kernel_go = ~hold & (~products.needed(u) | products.ready(pc))
        seq_words = [w for w in img.insns if w["op"] in REGISTER_WRITE_OPS]
        drains, waits = (any(w.get(f) for w in seq_words) for f in ("drain", "wait"))
        # 1, not ~0, where nothing drains: a signed -1 in a condition is what Amaranth warns of
        sequencer_go = (~(u.drain & pipe_busy) if drains else 1) & (waited.over if waits else 1)
        ops_present = sorted({Op(w["op"]) for w in seq_words})

        def sequencer_instruction():  # the writers told apart by the opcode's low bits (``isa``)
            for i, op in enumerate(ops_present):  # the last one present needs no comparison
                if len(ops_present) == 1:
                    branch = nullcontext()
                elif i == 0:
                    branch = m.If(u.op[:2] == op & 3)
                else:
                    branch = m.Elif(u.op[:2] == op & 3) if i < len(ops_present) - 1 else m.Else()
                with branch:
                    if op == Op.INTOP:
                        a, b = operand(u.opa_reg, u.opa), operand(u.opb_reg, u.opb)
                        # the 32-bit multiply only where the program multiplies registers
                        times = a * b if any(w.get("intop") == 2 for w in img.insns) else a
                        res = Array([a + b, a - b, times, a])[u.intop]
                        m.d.sync += [regs[u.dst].eq(res), pc.eq(pc + 1), *waited.load(u_next)]
                    elif op == Op.LOOPINIT:
                        m.d.sync += [regs[u.dst].eq(u.imm), pc.eq(pc + 1), *waited.load(u_next)]
                    else:
                        m.d.sync += [regs[u.dst].eq(regs[u.dst] + 1), pc.eq(Mux(again, u.target, pc + 1))]
                        m.d.sync += waited.load_either(again, u_target, u_next)

        with m.FSM(name="seq", init="IDLE" if self.host_port else "LOAD"):
            if self.host_port:
                ram_in = (in_we, in_addr, in_data, out_addr)
                ucode = (waited.load, mems.words)
                host_idle_state(m, self.host, img, regs, pc, ucode, scratch.idle_read, ram_in)
            else:  # the input streams in
                with m.State("LOAD"):
                    m.d.comb += self.inp.ready.eq(1)
                    with m.If(self.inp.valid):
                        m.d.comb += [
                            in_we.eq(1),
                            in_addr.eq(img.input_base + in_count * img.input_scale),
                            in_data.eq(self.inp.payload.value),
                        ]
                        m.d.sync += in_count.eq(in_count + 1)
                        with m.If(in_count == img.program.input_buffer.size - 1):
                            first = Const(mems.words[0], WORD_BITS)
                            m.d.sync += [in_count.eq(0), pc.eq(0), *waited.load(first)]
                            m.next = "SETUP"
            with m.State("SETUP"):
                m.d.comb += [self.running.eq(1), setup.eq(1)]
                # Only ISSUE reads the loop counters, their flags and the addresses, and only
                # SETUP's kernel start or the fast path enters it: loading them for the word
                # held in every SETUP cycle keeps SETUP's decision out of their logic.
                start_kernel(u, pc)
                if ops_present:  # first, so that the registers' write enable is the word's bit
                    with m.If(u_reg[SEQ_WRITE]), m.If(sequencer_go):
                        sequencer_instruction()
                done = m.Elif(u.op == Op.DONE) if ops_present else m.If(u.op == Op.DONE)
                with done, m.If(~pipe_busy):
                    m.d.sync += out_count.eq(0)
                    out_read = "OUTSEND" if img.program.output_is_class else "OUTREAD"  # a class: a register
                    m.next = "IDLE" if self.host_port else out_read
                with m.Elif(kernel_go):
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += [issue.eq(1), self.running.eq(1)]
                m.d.sync += stay.eq(1)
                step = {s: getattr(u, s) for s in streams}

                def step_addresses(d):
                    m.d.sync += [addr[s].eq(addr[s] + getattr(f, d)) for s, f in step.items() if s != "x"]
                    entries.step(m, getattr(step["x"], d))

                with m.If(~z0):
                    m.d.sync += [r0.eq(r0 + 1), z0.eq(r0 + 2 == u.m0)]
                    step_addresses("d0")
                with m.Elif(~z1):
                    m.d.sync += [r0.eq(0), r1.eq(r1 + 1), z0.eq(u.m0 == 1), z1.eq(r1 + 2 == u.m1)]
                    step_addresses("d1")
                with m.Elif(~zc):
                    m.d.sync += [r0.eq(0), r1.eq(0), c.eq(c + 1), o0c.eq(o0c + P)]
                    m.d.sync += [z0.eq(u.m0 == 1), z1.eq(u.m1 == 1), zc.eq(c + 2 == u.chunks)]
                    step_addresses("d2")
                with m.Elif(~zo):
                    m.d.sync += [r0.eq(0), r1.eq(0), c.eq(0), o0c.eq(0), o1.eq(o1 + 1)]
                    m.d.sync += [z0.eq(u.m0 == 1), z1.eq(u.m1 == 1), zc.eq(u.chunks == 1)]
                    m.d.sync += zo.eq(o1 + 2 == u.n1)
                    step_addresses("d3")
                with m.Else():
                    m.d.sync += [pc.eq(pc + 1), *waited.load(u_next)]
                    # The next kernel starts with the next beat unless it must wait (or is a
                    # sequencer instruction, which takes the SETUP cycle).
                    # (static per instruction; the product is ready iff this kernel issued a
                    # beat in the previous cycle too: ``stay``)
                    fast_ok = u_reg[FAST_NEXT] & (~u_reg[NEEDS_NEXT] | stay)
                    m.d.sync += stay.eq(0)
                    with m.If(fast_ok):
                        start_kernel(fields(u_next), pc, after=True)
                    with m.Else():
                        m.next = "SETUP"
            if not self.host_port:  # the result streams out, then the next input streams in
                output_states(m, img, self.out, regs, scratch.idle_read, out_count, out_addr)

        # ---- lanes ------------------------------------------------------------------------------
        first0 = (r0 == 0) & (r1 == 0)
        last0 = z0 & z1
        pcs = [pc] + [Signal(PC, name=f"pc{i}") for i in range(1, 10)]
        m.d.sync += [pcs[i].eq(pcs[i - 1]) for i in range(1, 10)]
        # the word at pcs[i]: S1's the sequencer's word registered, the later stages' from the
        # microcode block RAM (read at pc, its data registered, then delayed stage by stage)
        # (from 2 lanes on, each lane its own copies: ``copies.py``)
        lane_words = late_words(m, mems, pc, u_reg, P)
        div_args = (*facts.divider_operands(img), img.div_bits, 1 + ADDR + PC, DIV_BITS_PER_STAGE)
        div = Divider(*div_args, early=spread_lanes(P)) if img.div_bits else None
        if div is not None:
            m.submodules.div = div
            busy.add((div.busy, div.busy_next))
        # Forwarding (``forwarding.py``): every lane's writes, seen by every lane's operands.
        if scratch.banks > 1:
            fwd = BankForwarding(P, WB, img.ram_depth, pipelined=scratch.pipelined, bypassed=scratch.bypassed)
        else:
            fwd = Forwarding(P, WB, img.ram_depth)
        fw_en, fw_addr, fw_data, pw_en, pw_addr = fwd.en, fwd.addr, fwd.data, fwd.pen, fwd.paddr
        fwd.keep_previous(m)

        # Split dot products: each lane's partial sum (its result register), added by lane 0's tree.
        w0vals = [Signal(signed(W + 2), name=f"w0val_{q}") for q in range(P)]
        lane_writes = []  # per lane: its write stage's (enable, address, data), for the RAM

        for p in range(P):
            words = lane_words[p]
            # S2 (read) has no fields of its own: S2b (select) is a cycle after it
            u1, u2, u3, u4, u7 = (fields(words[i]) for i in (1, 3, 4, 5, 8))
            rom = roms[p % len(roms)]
            rom_a, rom_b = rom.read_port(domain="sync"), rom.read_port(domain="sync")
            if p < len(tables):  # ``Image.table_lanes``
                rom_t1, rom_t2 = tables[p].read_port(domain="sync"), tables[p].read_port(domain="sync")
            else:  # no table kernel runs on this lane: nothing reads these
                rom_t1, rom_t2 = (NoTable(f"notable{i}_{p}") for i in (1, 2))
            ent_r = ents[p].read_port(domain="sync")
            e_reg = Signal(ent_layout.size, name=f"ent1_{p}")
            m.d.sync += e_reg.eq(ent_r.data)
            e = data.View(ent_layout, e_reg)
            # S0 → S1
            v1, f1, l1 = Signal(name=f"v1_{p}"), Signal(name=f"f1_{p}"), Signal(name=f"l1_{p}")
            ri1 = Signal(CNT, name=f"ri1_{p}")
            part = {s: Signal(signed(ADDR), name=f"part_{s}_{p}") for s in ("a", "b", "o")}
            m.d.comb += ent_r.addr.eq(entries.address(p))
            m.d.sync += [
                v1.eq(v1_next := issue & (u.split | (o0c + p < u.n0))),
                f1.eq(first0),
                l1.eq(last0),
                ri1.eq(r0),
            ]
            m.d.sync += [part[s].eq(addr[s] + times_constant(getattr(u, s).lane, p)) for s in part]
            # S1 → S2
            a_addr, b_addr = Signal(signed(ADDR), name=f"aa_{p}"), Signal(signed(ADDR), name=f"ba_{p}")
            m.d.comb += [
                a_addr.eq(part["a"] + Mux(u1.a_ind, e.col, 0)),
                b_addr.eq(part["b"] + Mux(u1.b_ind, e.col, 0)),
                rom_a.addr.eq(a_addr),
                rom_b.addr.eq(b_addr),
            ]
            v2, f2, l2, pad2, kill = (Signal(name=f"{n}2_{p}") for n in ("v", "f", "l", "pad", "kill"))
            a_rom, b_rom = Signal(name=f"a_rom2_{p}"), Signal(name=f"b_rom2_{p}")
            ri2, oa2 = Signal(CNT, name=f"ri2_{p}"), Signal(signed(ADDR), name=f"oa2_{p}")
            ev2 = Signal(signed(WB), name=f"ev2_{p}")
            aa2, ba2 = Signal(signed(ADDR), name=f"aa2_{p}"), Signal(signed(ADDR), name=f"ba2_{p}")
            l1_ = Mux(u1.sparse, e.last, l1)
            pad1 = (u1.a_ind | u1.b_ind) & ~u1.sparse & ~e.valid
            kill1 = u1.split & l1_ & (u1.split_rem <= p)
            v2_next = v1 & (~u1.sparse | e.valid)
            m.d.sync += [
                v2.eq(v2_next),
                aa2.eq(a_addr),
                ba2.eq(b_addr),
                f2.eq(Mux(u1.sparse, e.first, f1)),
                l2.eq(l1_),
                pad2.eq(pad1),
                # a split kernel's last beat: lanes past the dot product's end contribute nothing
                kill.eq(kill1),
                a_rom.eq((u1.a_src == Src.ROM) & ~pad1 & ~kill1),
                b_rom.eq((u1.b_src == Src.ROM) & ~kill1),
                ri2.eq(ri1),
                oa2.eq(part["o"] + Mux(u1.o_ind, e.row, 0)),
                ev2.eq(e.value),
            ]
            # the scratch RAM's reads: at S1's address, or at S2's where it is banked and not
            # pipelined (``scratch.py``)
            reads = v1 & (~u1.sparse | e.valid)
            if not scratch.pipelined:
                reads &= ~kill1
            # (a pipelined RAM's lanes read at S1, where the kill is late in the cycle; a shared
            # group's crossbar may take a killed lane's row: ``scratch.read_conflict`` counts a
            # split kernel's lanes as reading, killed or not)
            connect_reads(
                m,
                scratch,
                p,
                addresses=((a_addr, b_addr), (aa2, ba2)),
                reads=(reads & (u1.a_src == Src.RAM) & ~pad1, reads & (u1.b_src == Src.RAM)),
                idle=(self.running, out_addr),
            )
            aa1, ba1 = aa2, ba2  # S2's operand addresses, for the forwarding's look-ahead
            # S2 → S2b: the block RAMs' data registered (their output register, in the fabric)
            # with everything that goes with it; S2b selects from those registers.
            v2_in = v2  # S2's valid: the input of S2b's
            v2, f2, l2, pad2, kill, a_rom, b_rom, ri2, oa2, ev2, aa2, ba2 = (
                delayed(m, sig) for sig in (v2, f2, l2, pad2, kill, a_rom, b_rom, ri2, oa2, ev2, aa2, ba2)
            )
            rom_ad, rom_bd = delayed(m, rom_a.data, f"rom_a_{p}"), delayed(m, rom_b.data, f"rom_b_{p}")
            ram_a, ram_b = ram_ra[p].data, ram_rb[p].data
            if scratch.banks == 1:  # the multi-port RAM's data registered like the block RAMs'
                ram_a, ram_b = delayed(m, ram_a, f"ram_a_{p}"), delayed(m, ram_b, f"ram_b_{p}")
            # S2 → S3: operands selected (forwarding included) and registered, so the multiplier
            # and every shifter start from flip-flops. Operands are RAM/ROM words, entry values or
            # immediates that fit a word (the compiler saturates fill values), all ``WB`` bits.
            # A killed lane's operands are both zero (its product too, even in simulation).
            a_on, b_on = ~kill & ~pad2, ~kill
            a_raw = fwd.operand(
                m,
                f"a_raw_{p}",
                lane=p,
                ram=ram_a,
                address=aa2,
                early_address=aa1,
                ram_en=a_on & (u2.a_src == Src.RAM),
                rom=(a_rom, rom_ad),
                rest=(
                    (a_on & (u2.a_src == Src.ENTRY), ev2),
                    (a_on & (u2.a_src == Src.IMM), u2.imm[:WB]),
                    (~kill & pad2 & (u2.op == Op.MAX), u2.imm[:WB]),
                ),
            )
            b_raw = fwd.operand(
                m,
                f"b_raw_{p}",
                lane=p,
                ram=ram_b,
                address=ba2,
                early_address=ba1,
                ram_en=b_on & (u2.b_src == Src.RAM),
                rom=(b_rom, rom_bd),
            )
            v3, f3, l3 = (Signal(name=f"{n}3_{p}") for n in ("v", "f", "l"))
            ri3, oa3 = Signal(CNT, name=f"ri3_{p}"), Signal(signed(ADDR), name=f"oa3_{p}")
            a3r, b3r = Signal(signed(WB), name=f"a3r_{p}"), Signal(signed(WB), name=f"b3r_{p}")
            m.d.sync += [
                v3.eq(v2),
                f3.eq(f2),
                l3.eq(l2),
                ri3.eq(ri2),
                oa3.eq(oa2),
                a3r.eq(a_raw),
                b3r.eq(b_raw),
            ]
            a_ram, b_ram = (u2.a_src == Src.RAM) & ~pad2 & ~kill, (u2.b_src == Src.RAM) & ~kill
            a3 = fwd.late(m, p, "a", a3r, aa2, a_ram, raw=a_raw, early_address=aa1)
            b3 = fwd.late(m, p, "b", b3r, ba2, b_ram, raw=b_raw, early_address=ba1)
            if p == 0:
                early_register_write(m, img, u3, v3, a3, regs, operand)
            # S3 → S4: the registered multiply (a DSP block with input and output registers),
            # operand alignment and the table address
            ap = shift_exact(m, a3, u3.a_sh, W + 1, f"ap_{p}", s_range=span("a_sh"))
            bp = shift_exact(m, b3, u3.b_sh, W + 1, f"bp_{p}", s_range=span("b_sh"))
            y = table_index(m, img, p, u3, a3r)
            # S4: the table addresses from the registered index
            y4 = Signal(unsigned(W + 2), name=f"y4_{p}")
            m.d.sync += y4.eq(y)
            m.d.comb += [
                rom_t1.addr.eq(u4.hi_base + (y4 >> narrow(u4.t, "t"))),
                rom_t2.addr.eq(u4.lo_base + (y4 & ((1 << narrow(u4.t, "t")) - 1))),
            ]
            v4, f4, l4, neg4 = (Signal(name=f"{n}4_{p}") for n in ("v", "f", "l", "neg"))
            ri4, oa4 = Signal(CNT, name=f"ri4_{p}"), Signal(signed(ADDR), name=f"oa4_{p}")
            a4, prod4 = Signal(signed(WB), name=f"a4_{p}"), Signal(signed(2 * WB), name=f"prod4_{p}")
            ap4, bp4 = Signal(signed(W + 1), name=f"ap4_{p}"), Signal(signed(W + 1), name=f"bp4_{p}")
            m.d.sync += [
                v4.eq(v3 & ~is_early(u3)),  # Sgn and Select are done at S3
                f4.eq(f3),
                l4.eq(l3),
                neg4.eq(a3r[-1]),
                ri4.eq(ri3),
                oa4.eq(oa3),
                a4.eq(a3),
                prod4.eq(a3 * b3),
                ap4.eq(ap),
                bp4.eq(bp),
            ]
            # S4: reduce (class-0 results go straight to the write stage)
            res, take = reduce_beat(
                m, img, p, u3, u4, v4=v4, f4=f4, ri4=ri4, a3=a3, a4=a4, prod4=prod4, ap4=ap4, bp4=bp4
            )
            class0 = goes_first(u4)
            w0v, w0val = Signal(name=f"w0v_{p}"), w0vals[p]
            w0a = Signal(signed(ADDR), name=f"w0a_{p}")
            w0_ahead = (v4 & l4 & class0, oa4, words[5])  # w0v, w0a, the word: next cycle's
            # ... and the cycle after's: the registers' inputs (``lane_write_ahead``)
            w0_early = (v3 & ~is_early(u3) & l3 & goes_first(fields(words[4])), oa3, words[4])
            m.d.sync += [w0v.eq(w0_ahead[0]), w0val.eq(res), w0a.eq(oa4)]
            # a MAX/ARGMAX beat that took its value: the result is that value (or index), chosen
            # after the register (the comparison feeds only a flag and the accumulator)
            took5, alt5 = Signal(name=f"took5_{p}"), Signal(signed(W + 2), name=f"alt5_{p}")
            m.d.sync += [took5.eq(take), alt5.eq(Mux(u4.op == Op.ARGMAX, ri4, a4))]
            w0out = Signal(signed(W + 2), name=f"w0out_{p}")
            m.d.comb += w0out.eq(Mux(took5, alt5, w0val))
            # S5 → S6 → S7: the table words (read at S4) registered, then their registered product
            v5, v6, v7, neg7, oa6, oa7, tprod = table_product(
                m, p, v4 & ~class0, neg4, oa4, rom_t1, rom_t2, WB
            )
            w1v, w1val = Signal(name=f"w1v_{p}"), Signal(signed(max(2 * WB, W)), name=f"w1val_{p}")
            w1a = Signal(signed(ADDR), name=f"w1a_{p}")
            if p == 0 and P > 1:
                # S5 of a split kernel: lane 0 adds every lane's partial sum (one adder tree, its
                # result registered, then delayed to an Exp product's latency). The true total
                # fits ``wide`` (the contract checks it), so the sum modulo 2^W is exact.
                ws, ws6, ws7 = (Signal(name=f"split_last{i}") for i in ("", "6", "7"))
                total, total7 = Signal(signed(W), name="split_total"), Signal(signed(W), name="split_total7")
                m.d.sync += [ws.eq(v4 & l4 & u4.split), ws6.eq(ws), ws7.eq(ws6)]
                m.d.sync += [total.eq(adder_tree(m, w0vals, W)[:W]), total7.eq(total)]
                w1_ahead = ((v7 & (u7.op == Op.EXP)) | ws7, oa7, words[8])
                w1_early = ((v6 & (fields(words[7]).op == Op.EXP)) | ws6, oa6, words[7])
                m.d.sync += [w1v.eq(w1_ahead[0]), w1val.eq(Mux(ws7, total7, tprod)), w1a.eq(oa7)]
                busy.add((ws, v4 & l4 & u4.split), (ws6, ws), (ws7, ws6))
            else:
                # no Exp beat reaches a lane past ``Image.table_lanes``: there the write stage
                # takes the class-0 result (``w0``) alone, one input fewer on its path
                exp7, exp6 = v7 & (u7.op == Op.EXP), v6 & (fields(words[7]).op == Op.EXP)
                if p >= len(tables):
                    exp7, exp6 = Const(0), Const(0)
                w1_ahead, w1_early = (exp7, oa7, words[8]), (exp6, oa6, words[7])
                m.d.sync += [w1v.eq(w1_ahead[0]), w1val.eq(tprod), w1a.eq(oa7)]
            busy.add((v1, v1_next), (v2_in, v2_next), (v2, v2_in), (v3, v2), (v4, v3 & ~is_early(u3)))
            busy.add((v5, v4 & ~class0))
            busy.add((v6, v5), (v7, v6))
            busy.add((w0v, w0_ahead[0]), (w1v, w1_ahead[0]))
            # S7 → divider (SigmoidTanh): only lane-parallel if the program has one
            wv = Signal(name=f"wv_{p}")
            wval = Signal(signed(W + 2), name=f"wval_{p}")
            wa = Signal(signed(ADDR), name=f"wa_{p}")
            wword = Signal(WORD_BITS, name=f"wword_{p}")
            m.d.comb += [
                wv.eq(w0v | w1v),
                wval.eq(Mux(w1v, w1val, w0out)),
                wa.eq(Mux(w1v, w1a, w0a)),
                wword.eq(Mux(w1v, words[9], words[6])),
            ]
            if div is not None:
                dv = Divider(*div_args, early=spread_lanes(P)) if p else div
                if p:
                    m.submodules[f"div{p}"] = dv
                    busy.add((dv.busy, dv.busy_next))
                lane_s7, write = (p, v7, tprod, neg7, oa7), (wv, wval, wa, wword)
                wv = divider_write(m, img, mems.words, dv, u7, lane_s7, pcs[8], write)
            # rescale and saturate to the destination's bits, registered: the write stage (RAM
            # write, register write, forwarding) starts from flip-flops
            uw = fields(wword)
            bits_used = {w["out_bits"] for w in img.insns if "out_bits" in w}
            out_bits = bits_used.pop() if len(bits_used) == 1 else uw.out_bits  # a constant where it is one
            out = rescale_sat(
                m,
                round_half(m, wval, uw, f"rnd_{p}", facts.round_span(img)),  # round_out: + 2^(s-1)
                uw.out_shift,
                out_bits,
                f"wr_{p}",
                max_bits=WB,
                s_range=span("out_shift"),
                s_values=facts.values(img, "out_shift"),
            )
            is_reg = writes_register(uw.op)
            wr_en, wr_addr = Signal(name=f"wr_en_{p}"), Signal(signed(ADDR), name=f"wr_addr_{p}")
            wr_data = Signal(signed(WB), name=f"wr_data_{p}")
            m.d.sync += [wr_en.eq(wv & ~is_reg), wr_addr.eq(wa), wr_data.eq(out)]
            m.d.comb += [pw_en[p].eq(wv & ~is_reg), pw_addr[p].eq(wa), fwd.pdata[p].eq(out)]
            writes = (w0_ahead, w1_ahead), (w0_early, w1_early), dv if div is not None else None
            fwd.write_ahead(m, p, *lane_write_ahead(m, p, *writes, spread_lanes(P)))
            m.d.comb += [fw_en[p].eq(wr_en), fw_addr[p].eq(wr_addr), fw_data[p].eq(wr_data)]
            busy.add((wr_en, wv & ~is_reg))
            if p == 0:
                # an Argmax result is written from the pre-write stage (no rescale): visible a
                # cycle before a RAM result (``schedule.py``)
                with m.If(wv & is_reg):
                    write_register(m, img, regs, uw.dst, wval)
            lane_writes.append((wr_en, wr_addr, wr_data))
        idle_write = (self.running, in_we, in_addr, in_data)  # the input stream's or the host's
        next_writes = list(zip(pw_en, pw_addr, strict=True))
        ahead_writes = fwd.ahead if spread_lanes(P) else None
        connect_writes(m, scratch, lane_writes, next_writes, idle_write, ahead_writes=ahead_writes)
        busy.connect(m)
        return m
