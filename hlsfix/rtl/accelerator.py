"""The accelerator: a microcoded sequencer, an address generator, P lanes and three memories.

One design executes any KernelProgram: ``microcode.compile_image`` turns the program into the
microcode ROM, the weight ROM, the entry table and the RAM size, and this module is the same for
every model. Per cycle the address generator issues one beat (one loop-nest point) to all P lanes;
each lane runs the same pipeline:

  S0 issue      counters and running addresses → entry-table read
  S1 address    + table column/row (gathers, sparse) → RAM/ROM operand reads
  S2 operate    select operands; multiply (MAC) / align (ALU) / table index → table reads
  S3 reduce     accumulate, max, argmax, clamp / table product
  S4 table      exp result / divider input (SigmoidTanh: + the divider's stages) / lane 0: the
                adder tree over every lane's partial sum (a dot product split across the lanes)
  write         rescale_sat to the destination's bits, RAM or register write

Each lane has one write stage; ``schedule.py`` gives each instruction the wait its data
dependences and that stage need (a short-latency kernel may overtake an Exp or SigmoidTanh when
their writes never meet in a cycle), so independent kernels overlap. Memory reads are registered
(block-RAM friendly) and the multiply is registered before the accumulate (DSP48 friendly).
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hlsfix.rtl.hostport import HOST_PORT
from hlsfix.rtl.isa import ADDR, CNT, PC, Op, entry_layout, insn_layout
from hlsfix.rtl.microcode import Image
from hlsfix.rtl.units import DIV_BITS_PER_STAGE, Divider, rescale_sat, shift_exact


def _adder_tree(m: Module, values: list, width: int):
    """Σ values by a balanced tree of two-input adders (combinational, ⌈log2 n⌉ levels), each
    sum kept to ``width`` + 2 bits: only the low ``width`` bits of the total are used."""
    level = list(values)
    depth = 0
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            s = Signal(signed(width + 2), name=f"tree{depth}_{i // 2}")
            m.d.comb += s.eq(level[i] + level[i + 1])
            nxt.append(s)
        if len(level) % 2:
            nxt.append(level[-1])
        level, depth = nxt, depth + 1
    return level[0]


def _pack(layout: data.StructLayout, value: dict) -> int:
    from amaranth.hdl import Value

    return Value.cast(layout.const(value)).value


def check_segments(image: Image, host_port: bool) -> None:
    """ValueError unless ``image``'s segments suit the accelerator's interface."""
    n = len(image.segment_entries)
    if host_port and n > 256:  # the host port's 8-bit segment number
        raise ValueError(f"at most 256 segments fit the host port, not {n}")
    if not host_port and n != 1:
        raise ValueError("a streaming accelerator runs one segment (the whole program)")


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
        members = {
            "pc": Out(PC),  # for cycle accounting per kernel in simulation
            "running": Out(1),
        }
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
        ent_layout = entry_layout(W, ADDR)
        ucode = Memory(
            shape=unsigned(insn_layout.size),
            depth=len(img.insns),
            init=[_pack(insn_layout, i) for i in img.insns],
        )
        rom = Memory(shape=signed(WB), depth=img.rom_depth, init=img.rom or [0])
        ram = Memory(shape=signed(WB), depth=img.ram_depth, init=[])
        ent = Memory(
            shape=unsigned(ent_layout.size),
            depth=len(img.entries),
            init=[_pack(ent_layout, e) for e in img.entries],
        )
        m.submodules.ucode, m.submodules.rom, m.submodules.ram, m.submodules.ent = ucode, rom, ram, ent

        def insn_at(pc):
            port = ucode.read_port(domain="comb")
            m.d.comb += port.addr.eq(pc)
            return data.View(insn_layout, port.data)

        regs = Array(Signal(signed(32), name=f"r{i}") for i in range(max(1, len(img.regs))))
        pc = Signal(PC)
        u = insn_at(pc)
        m.d.comb += self.pc.eq(pc)

        # ---- sequencer and address generator ------------------------------------------------
        o1, c, o0c, r1, r0 = (Signal(CNT, name=n) for n in ("o1", "c", "o0c", "r1", "r0"))
        streams = ("a", "b", "x", "o")
        addr = {s: Signal(signed(ADDR), name=f"addr_{s}") for s in streams}
        issue = Signal()
        in_count = Signal(range(img.program.input_buffer.size + 1))
        out_count = Signal(range(img.output_len + 1))
        busy_terms: list = []
        pipe_busy = Signal()

        def operand(v_reg, v):
            return Mux(v_reg, regs[v[: len(u.dst)]], v)

        # RAM ports: per lane two reads and one write; lane 0's are shared with the stream I/O.
        # Reads are transparent: a kernel may read a word in the cycle its producer writes it.
        ram_w = [ram.write_port() for _ in range(P)]
        ram_ra = [ram.read_port(domain="sync", transparent_for=ram_w) for _ in range(P)]
        ram_rb = [ram.read_port(domain="sync", transparent_for=ram_w) for _ in range(P)]
        gap = Signal(6, init=63)  # cycles since the last issued beat (saturating)
        m.d.sync += gap.eq(Mux(issue, 1, Mux(gap == 63, 63, gap + 1)))
        u_next = insn_at(pc + 1)

        def start_kernel(insn):
            m.d.sync += [o1.eq(0), c.eq(0), o0c.eq(0), r1.eq(0), r0.eq(0)]
            for s in streams:
                f = getattr(insn, s)
                m.d.sync += addr[s].eq(f.base + Mux(f.reg_en, regs[f.reg] * f.rs, 0))

        in_we, in_addr, in_data = Signal(), Signal(signed(ADDR)), Signal(signed(WB))
        out_addr = Signal(signed(ADDR))

        with m.FSM(name="seq", init="IDLE" if self.host_port else "LOAD"):
            if self.host_port:
                self._host_idle(m, regs, pc, ram_ra[0], in_we, in_addr, in_data, out_addr)
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
                            m.d.sync += [in_count.eq(0), pc.eq(0)]
                            m.next = "SETUP"
            with m.State("SETUP"):
                m.d.comb += self.running.eq(1)
                with m.If(u.op == Op.DONE), m.If(~pipe_busy):
                    m.d.sync += out_count.eq(0)
                    m.next = "IDLE" if self.host_port else "OUTREAD"
                with m.Elif((u.drain & pipe_busy) | (gap < u.wait)):
                    pass
                with m.Elif(u.op == Op.INTOP):
                    a, b = operand(u.opa_reg, u.opa), operand(u.opb_reg, u.opb)
                    res = Array([a + b, a - b, a * b, a])[u.intop]
                    m.d.sync += [regs[u.dst].eq(res), pc.eq(pc + 1)]
                with m.Elif(u.op == Op.LOOPINIT):
                    m.d.sync += [regs[u.dst].eq(u.imm), pc.eq(pc + 1)]
                with m.Elif(u.op == Op.LOOPNEXT):
                    nxt = regs[u.dst] + 1
                    m.d.sync += [regs[u.dst].eq(nxt), pc.eq(Mux(nxt < u.imm, u.target, pc + 1))]
                with m.Else():
                    start_kernel(u)
                    m.next = "ISSUE"
            with m.State("ISSUE"):
                m.d.comb += [issue.eq(1), self.running.eq(1)]
                step = {s: getattr(u, s) for s in streams}
                with m.If(r0 != u.m0 - 1):
                    m.d.sync += r0.eq(r0 + 1)
                    m.d.sync += [addr[s].eq(addr[s] + f.d0) for s, f in step.items()]
                with m.Elif(r1 != u.m1 - 1):
                    m.d.sync += [r0.eq(0), r1.eq(r1 + 1)]
                    m.d.sync += [addr[s].eq(addr[s] + f.d1) for s, f in step.items()]
                with m.Elif(c != u.chunks - 1):
                    m.d.sync += [r0.eq(0), r1.eq(0), c.eq(c + 1), o0c.eq(o0c + P)]
                    m.d.sync += [addr[s].eq(addr[s] + f.d2) for s, f in step.items()]
                with m.Elif(o1 != u.n1 - 1):
                    m.d.sync += [r0.eq(0), r1.eq(0), c.eq(0), o0c.eq(0), o1.eq(o1 + 1)]
                    m.d.sync += [addr[s].eq(addr[s] + f.d3) for s, f in step.items()]
                with m.Else():
                    m.d.sync += pc.eq(pc + 1)
                    # The next kernel starts with the next beat unless it must wait (or is a
                    # sequencer instruction, which takes the SETUP cycle).
                    with m.If((u_next.op < Op.INTOP) & ~u_next.drain & (u_next.wait == 0)):
                        start_kernel(u_next)
                    with m.Else():
                        m.next = "SETUP"
            if not self.host_port:  # the result streams out, then the next input streams in
                with m.State("OUTREAD"):  # one cycle for the registered RAM read of a buffer output
                    m.d.comb += out_addr.eq(self._out_base() + out_count * self._out_scale())
                    m.next = "OUTSEND"
                with m.State("OUTSEND"):
                    value = (
                        regs[img.regs.get(img.program.output, 0)]
                        if img.program.output_is_class
                        else ram_ra[0].data
                    )
                    last = out_count == img.output_len - 1
                    m.d.comb += [
                        self.out.valid.eq(1),
                        self.out.payload.value.eq(value),
                        self.out.payload.last.eq(last),
                    ]
                    with m.If(self.out.ready):
                        m.d.sync += out_count.eq(out_count + 1)
                        # The load phase starts at the last beat's handshake (a host sends the
                        # next input's beats from the next cycle on): no cycle in between.
                        if img.program.output_is_class:
                            m.next = "LOAD"
                        else:
                            with m.If(last):
                                m.next = "LOAD"
                            with m.Else():
                                m.next = "OUTNEXT"
                if not img.program.output_is_class:
                    with m.State("OUTNEXT"):
                        m.next = "OUTREAD"

        # ---- lanes ------------------------------------------------------------------------------
        first0 = (r0 == 0) & (r1 == 0)
        last0 = (r0 == u.m0 - 1) & (r1 == u.m1 - 1)
        pc1, pc2, pc3, pc4 = (Signal(PC, name=f"pc{i}") for i in (1, 2, 3, 4))
        m.d.sync += [pc1.eq(pc), pc2.eq(pc1), pc3.eq(pc2), pc4.eq(pc3)]
        u1, u2, u3, u4 = insn_at(pc1), insn_at(pc2), insn_at(pc3), insn_at(pc4)
        div = Divider(W, W, img.div_bits, 1 + ADDR + PC, DIV_BITS_PER_STAGE) if img.div_bits else None
        if div is not None:
            m.submodules.div = div
            busy_terms.append(div.busy)
        # Forwarding: each lane's RAM write of this cycle, seen by every lane's operand stage S2
        # (a kernel may start one cycle before its operands reach the RAM).
        fw_en = [Signal(name=f"fw_en_{q}") for q in range(P)]
        fw_addr = [Signal(signed(ADDR), name=f"fw_addr_{q}") for q in range(P)]
        fw_data = [Signal(signed(WB), name=f"fw_data_{q}") for q in range(P)]

        # Split dot products: each lane's partial sum (its result register), added by lane 0's tree.
        w0vals = [Signal(signed(W + 2), name=f"w0val_{q}") for q in range(P)]

        def forwarded(value, address):
            for q in range(P):
                value = Mux(fw_en[q] & (fw_addr[q] == address), fw_data[q], value)
            return value

        for p in range(P):
            rom_a, rom_b = rom.read_port(domain="sync"), rom.read_port(domain="sync")
            rom_t1, rom_t2 = rom.read_port(domain="sync"), rom.read_port(domain="sync")
            ent_r = ent.read_port(domain="sync")
            e = data.View(ent_layout, ent_r.data)
            # S0 → S1
            v1, f1, l1 = Signal(name=f"v1_{p}"), Signal(name=f"f1_{p}"), Signal(name=f"l1_{p}")
            ri1 = Signal(CNT, name=f"ri1_{p}")
            part = {s: Signal(signed(ADDR), name=f"part_{s}_{p}") for s in ("a", "b", "o")}
            m.d.comb += ent_r.addr.eq(addr["x"] + u.x.lane * p)
            m.d.sync += [
                v1.eq(issue & (u.split | (o0c + p < u.n0))),
                f1.eq(first0),
                l1.eq(last0),
                ri1.eq(r0),
            ]
            m.d.sync += [part[s].eq(addr[s] + getattr(u, s).lane * p) for s in part]
            # S1 → S2
            a_addr, b_addr = Signal(signed(ADDR), name=f"aa_{p}"), Signal(signed(ADDR), name=f"ba_{p}")
            m.d.comb += [
                a_addr.eq(part["a"] + Mux(u1.a_ind, e.col, 0)),
                b_addr.eq(part["b"] + Mux(u1.b_ind, e.col, 0)),
                rom_a.addr.eq(a_addr),
                rom_b.addr.eq(b_addr),
                ram_rb[p].addr.eq(b_addr),
            ]
            if p == 0:
                m.d.comb += ram_ra[p].addr.eq(Mux(self.running, a_addr, out_addr))
            else:
                m.d.comb += ram_ra[p].addr.eq(a_addr)
            v2, f2, l2, pad2 = (Signal(name=f"{n}2_{p}") for n in ("v", "f", "l", "pad"))
            ri2, oa2 = Signal(CNT, name=f"ri2_{p}"), Signal(signed(ADDR), name=f"oa2_{p}")
            ev2 = Signal(signed(W), name=f"ev2_{p}")
            aa2, ba2 = Signal(signed(ADDR), name=f"aa2_{p}"), Signal(signed(ADDR), name=f"ba2_{p}")
            m.d.sync += [
                v2.eq(v1 & (~u1.sparse | e.valid)),
                aa2.eq(a_addr),
                ba2.eq(b_addr),
                f2.eq(Mux(u1.sparse, e.first, f1)),
                l2.eq(Mux(u1.sparse, e.last, l1)),
                pad2.eq((u1.a_ind | u1.b_ind) & ~u1.sparse & ~e.valid),
                ri2.eq(ri1),
                oa2.eq(part["o"] + Mux(u1.o_ind, e.row, 0)),
                ev2.eq(e.value),
            ]
            # S2 → S3
            a_raw = Array([forwarded(ram_ra[p].data, aa2), rom_a.data, ev2, u2.imm])[u2.a_src]
            a = Signal(signed(W), name=f"a_{p}")
            b = Signal(signed(W), name=f"b_{p}")
            m.d.comb += [
                a.eq(Mux(pad2, Mux(u2.op == Op.MAX, u2.imm, 0), a_raw)),
                b.eq(Array([forwarded(ram_rb[p].data, ba2), rom_b.data, 0, 0])[u2.b_src]),
            ]
            ap = shift_exact(m, a, u2.a_sh, W + 1, f"ap_{p}")
            bp = shift_exact(m, b, u2.b_sh, W + 1, f"bp_{p}")
            y0 = Signal(signed(W + 2), name=f"y0_{p}")
            y1 = Signal(unsigned(W + 2), name=f"y1_{p}")
            y = Signal(unsigned(W + 2), name=f"y_{p}")
            absx = Mux(a[-1], -a, a)
            m.d.comb += [
                y0.eq(u2.imm - a),
                y1.eq(
                    Mux(
                        u2.op == Op.EXP,
                        Mux(y0[-1], 0, y0).as_unsigned() >> u2.sh_r,
                        ((absx.as_unsigned() << u2.sh_l) >> u2.sh_r),
                    )
                ),
                y.eq(Mux(y1 > u2.ymax, u2.ymax, y1)),
                rom_t1.addr.eq(u2.hi_base + (y >> u2.t)),
                rom_t2.addr.eq(u2.lo_base + (y & ((1 << u2.t) - 1))),
            ]
            # a split kernel's last beat: lanes past the dot product's end contribute nothing
            kill = Signal(name=f"kill_{p}")
            m.d.comb += kill.eq(u2.split & l2 & (u2.split_rem <= p))
            v3, f3, l3, neg3 = (Signal(name=f"{n}3_{p}") for n in ("v", "f", "l", "neg"))
            ri3, oa3 = Signal(CNT, name=f"ri3_{p}"), Signal(signed(ADDR), name=f"oa3_{p}")
            a3, prod3 = Signal(signed(W), name=f"a3_{p}"), Signal(signed(2 * W), name=f"prod3_{p}")
            ap3, bp3 = Signal(signed(W + 1), name=f"ap3_{p}"), Signal(signed(W + 1), name=f"bp3_{p}")
            m.d.sync += [
                v3.eq(v2),
                f3.eq(f2),
                l3.eq(l2),
                neg3.eq(a[-1]),
                ri3.eq(ri2),
                oa3.eq(oa2),
                a3.eq(a),
                prod3.eq(Mux(kill, 0, a * b)),
                ap3.eq(ap),
                bp3.eq(bp),
            ]
            # S3: reduce (class-0 results go straight to the write stage)
            acc = Signal(signed(W), name=f"acc_{p}")
            best_i = Signal(CNT, name=f"besti_{p}")
            nacc = Signal(signed(W + 1), name=f"nacc_{p}")
            q = Signal(signed(2 * W), name=f"q_{p}")
            tot = Signal(signed(W + 2), name=f"tot_{p}")
            res = Signal(signed(W + 2), name=f"res_{p}")
            better = Signal(name=f"better_{p}")
            m.d.comb += [
                q.eq(prod3 >> u3.ps),
                tot.eq(Mux(u3.sub, Mux(u3.b_first, bp3 - ap3, ap3 - bp3), ap3 + bp3)),
                better.eq(f3 | (a3 > acc)),
            ]
            hard = rescale_sat(m, a3, u3.a_sh, W - 2, f"hard_{p}")
            pre = Signal(signed(W + 2), name=f"pre_{p}")
            m.d.comb += pre.eq(Mux(u3.op == Op.HARD, hard + u3.imm, tot))
            clamped = Mux(u3.lo_en & (pre < u3.lo), u3.lo, Mux(u3.hi_en & (pre > u3.hi), u3.hi, pre))
            with m.Switch(u3.op):
                with m.Case(Op.MAC):
                    m.d.comb += [nacc.eq(Mux(f3, q, acc + q)), res.eq(nacc)]
                with m.Case(Op.MAX):
                    m.d.comb += [nacc.eq(Mux(better, a3, acc)), res.eq(nacc)]
                with m.Case(Op.ARGMAX):
                    m.d.comb += [nacc.eq(Mux(better, a3, acc)), res.eq(Mux(better, ri3, best_i))]
                with m.Case(Op.SGN):
                    m.d.comb += res.eq(a3 > 0)
                with m.Case(Op.SELECT):
                    m.d.comb += res.eq(a3 >= u3.imm)
                with m.Default():
                    m.d.comb += res.eq(clamped)
            with m.If(v3):
                m.d.sync += acc.eq(nacc)
                with m.If(better):
                    m.d.sync += best_i.eq(ri3)
            class0 = (u3.op != Op.EXP) & (u3.op != Op.SIGTANH) & ~u3.split
            w0v, w0val = Signal(name=f"w0v_{p}"), w0vals[p]
            w0a = Signal(signed(ADDR), name=f"w0a_{p}")
            m.d.sync += [w0v.eq(v3 & l3 & class0), w0val.eq(res), w0a.eq(oa3)]
            # S3 → S4: table product
            v4, neg4 = Signal(name=f"v4_{p}"), Signal(name=f"neg4_{p}")
            oa4, tprod = Signal(signed(ADDR), name=f"oa4_{p}"), Signal(signed(2 * WB), name=f"tprod_{p}")
            m.d.sync += [v4.eq(v3 & ~class0), neg4.eq(neg3), oa4.eq(oa3), tprod.eq(rom_t1.data * rom_t2.data)]
            w1v, w1val = Signal(name=f"w1v_{p}"), Signal(signed(max(2 * WB, W)), name=f"w1val_{p}")
            w1a = Signal(signed(ADDR), name=f"w1a_{p}")
            if p == 0 and P > 1:
                # S4 of a split kernel: lane 0 adds every lane's partial sum (one adder tree, its
                # result registered like an Exp product). The true total fits ``wide`` (the
                # contract checks it), so the sum modulo 2^W is exact.
                ws = Signal(name="split_last")
                m.d.sync += ws.eq(v3 & l3 & u3.split)
                total = Signal(signed(W), name="split_total")
                m.d.comb += total.eq(_adder_tree(m, w0vals, W)[:W])
                m.d.sync += [
                    w1v.eq((v4 & (u4.op == Op.EXP)) | ws),
                    w1val.eq(Mux(ws, total, tprod)),
                    w1a.eq(oa4),
                ]
                busy_terms.append(ws)
            else:
                m.d.sync += [w1v.eq(v4 & (u4.op == Op.EXP)), w1val.eq(tprod), w1a.eq(oa4)]
            busy_terms += [v1, v2, v3, v4, w0v, w1v]
            # S4 → divider (SigmoidTanh): only lane-parallel if the program has one
            wv = Signal(name=f"wv_{p}")
            wval = Signal(signed(W + 2), name=f"wval_{p}")
            wa = Signal(signed(ADDR), name=f"wa_{p}")
            wpc_s = Signal(PC, name=f"wpc_{p}")
            pc5 = Signal(PC, name=f"pc5_{p}")
            m.d.sync += pc5.eq(pc4)
            m.d.comb += [
                wv.eq(w0v | w1v),
                wval.eq(Mux(w1v, w1val, w0val)),
                wa.eq(Mux(w1v, w1a, w0a)),
                wpc_s.eq(Mux(w1v, pc5, pc4)),
            ]
            if div is not None:
                dv = Divider(W, W, img.div_bits, 1 + ADDR + PC, DIV_BITS_PER_STAGE) if p else div
                if p:
                    m.submodules[f"div{p}"] = dv
                    busy_terms.append(dv.busy)
                e_ = Signal(unsigned(W), name=f"e_{p}")
                one = Signal(unsigned(W), name=f"one_{p}")
                m.d.comb += [
                    e_.eq(tprod >> u4.tshift),
                    one.eq(1 << u4.e_frac),
                    dv.in_valid.eq(v4 & (u4.op == Op.SIGTANH)),
                    dv.den.eq(one + e_),
                    dv.num.eq(Mux(u4.tanh, one - e_, Mux(neg4, e_, one)) << u4.out_frac),
                    dv.tag.eq(Cat(u4.tanh & neg4, oa4, pc4)),
                ]
                dneg, da, dpc = dv.tag_out[0], dv.tag_out[1 : 1 + ADDR], dv.tag_out[1 + ADDR :]
                qv = Mux(dneg, -dv.q, dv.q)
                wv2 = Signal(name=f"wv2_{p}")
                m.d.comb += wv2.eq(wv | dv.out_valid)
                with m.If(dv.out_valid):
                    m.d.comb += [wval.eq(qv), wa.eq(da.as_signed()), wpc_s.eq(dpc)]
                wv = wv2
            # write stage
            uw = insn_at(wpc_s)
            out = rescale_sat(m, wval, uw.out_shift, uw.out_bits, f"wr_{p}")
            is_reg = (uw.op == Op.ARGMAX) | (uw.op == Op.SGN) | (uw.op == Op.SELECT)
            m.d.comb += [fw_en[p].eq(wv & ~is_reg), fw_addr[p].eq(wa), fw_data[p].eq(out)]
            if p == 0:
                m.d.comb += [
                    ram_w[0].en.eq(Mux(self.running, wv & ~is_reg, in_we)),
                    ram_w[0].addr.eq(Mux(self.running, wa, in_addr)),
                    ram_w[0].data.eq(Mux(self.running, out, in_data)),
                ]
                with m.If(wv & is_reg):
                    sel = Mux(wval[0], operand(uw.opa_reg, uw.opa), operand(uw.opb_reg, uw.opb))
                    m.d.sync += regs[uw.dst].eq(Mux(uw.op == Op.SELECT, sel, wval))
            else:
                m.d.comb += [ram_w[p].en.eq(wv & ~is_reg), ram_w[p].addr.eq(wa), ram_w[p].data.eq(out)]
        m.d.comb += pipe_busy.eq(Cat(*busy_terms).any())
        return m

    def _host_idle(self, m: Module, regs, pc, ram_read, in_we, in_addr, in_data, out_addr) -> None:
        """The IDLE state of a co-design accelerator: the host port owns lane 0's RAM ports
        and the registers; ``start`` jumps to a segment's first instruction."""
        host, img = self.host, self.img
        reg_index = host.addr[: max(1, (len(regs) - 1).bit_length())]
        read_reg, reg_value = Signal(), Signal(signed(32))
        m.d.sync += [read_reg.eq(host.reg), reg_value.eq(regs[reg_index])]
        m.d.comb += host.rdata.eq(Mux(read_reg, reg_value, ram_read.data))
        entries = Array(Const(e, PC) for e in img.segment_entries)
        idle = Signal()
        m.d.comb += host.busy.eq(~idle)
        with m.State("IDLE"):
            m.d.comb += [
                idle.eq(1),
                in_we.eq(host.we & ~host.reg),
                in_addr.eq(host.addr),
                in_data.eq(host.wdata),
                out_addr.eq(host.addr),
            ]
            with m.If(host.we & host.reg):
                m.d.sync += regs[reg_index].eq(host.wdata)
            with m.If(host.start):
                m.d.sync += pc.eq(entries[host.segment])
                m.next = "SETUP"

    def _out_base(self) -> int:
        return self.img.out_loc[0]

    def _out_scale(self) -> int:
        return self.img.out_loc[1]
