"""KernelProgram → microcode, memory images and the static hazard schedule of the accelerator.

This is the thin generated layer: it decides nothing numeric (every shift, bound and table comes
from the program), it only maps each kernel onto the generic loop nest of ``isa.py``, lays the
scratch RAM out (by the memory plan, or one region per temporary when that costs no block RAM),
concatenates the constants into the weight ROM and re-lays sparse matrices into per-lane entry
lists (rows dealt to lanes by non-zeros, so no two lanes ever own one accumulator). A row vector
times a matrix is split across the lanes instead (each dot product dealt out, summed by lane 0's
adder tree). Straight-line runs of kernels are list-scheduled on their actual RAM and register
dependences when that shortens the schedule, so independent kernels fill the pipeline's waits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from hlsfix.errors import CompileError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram, Ref
from hlsfix.memory.liveness import plan_memory
from hlsfix.rtl.isa import INTOPS, Op, Src
from hlsfix.rtl.schedule import InsnUse, schedule
from hlsfix.rtl.units import divider_latency


class UnsupportedKernel(CompileError, NotImplementedError):
    """A kernel the accelerator cannot run: a user-level refusal (one error line), wherever the
    accelerator is built (``hlsfix rtl``, ``sim``, ``build --board``, co-design)."""


@dataclass(frozen=True)
class Loc:
    """Where a buffer lives: memory space, first word, words per element."""

    space: Src
    base: int
    scale: int


@dataclass
class Image:
    program: KernelProgram
    lanes: int
    insns: list[dict] = field(default_factory=list)
    kernel_of: list[int] = field(default_factory=list)  # per instruction: kernel index (walk order)
    uses: list[InsnUse] = field(default_factory=list)
    rom: list[int] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    ram_depth: int = 1
    input_base: int = 0
    input_scale: int = 1
    regs: dict[str, int] = field(default_factory=dict)
    word_bits: int = 16  # RAM/ROM word (the widest buffer)
    value_bits: int = 32  # datapath (the widest ``wide``)
    div_bits: int = 0  # quotient bits of the SigmoidTanh divider (0: no divider)
    out_loc: tuple[int, int] = (0, 1)  # first RAM word and words per element of a buffer output
    ideal: list[int] = field(default_factory=list)  # per kernel: Σ ceil(work / P) over its executions
    kernels: list[kp.Kernel] = field(default_factory=list)
    predicted_cycles: int = 0  # the schedule's exact timing model of one inference
    ram_layout: str = "plan"  # temporaries placed by the memory plan, or "spread" (no reuse)
    runs: list[list[tuple[int, int]]] = field(default_factory=list)  # straight-line runs (insn ranges)
    locs: dict[str, Loc] = field(default_factory=dict)  # where every buffer lives (RAM or ROM)
    # Co-design: the microcode holds one or more segments (runs of top-level kernels), each
    # ending in DONE; a host starts segment n at ``segment_entries[n]``. One segment (the whole
    # program) unless ``compile_image`` was given ``segments``.
    segment_entries: list[int] = field(default_factory=lambda: [0])
    segment_cycles: list[int] = field(default_factory=list)  # predicted, start to idle

    @property
    def rom_depth(self) -> int:
        return max(1, len(self.rom))

    @property
    def output_len(self) -> int:
        return 1 if self.program.output_is_class else self.program.buffer(self.program.output).size


def _stream(base=0, s_o1=0, s_o0=0, s_r1=0, s_r0=0, *, g, lane=None, reg=None, rs=0) -> dict:
    n0c, m1, m0, lanes = g["chunks"], g["m1"], g["m0"], g["lanes"]
    back_r = (m1 - 1) * s_r1 + (m0 - 1) * s_r0
    return {
        "base": base,
        "reg": reg or 0,
        "reg_en": int(reg is not None),
        "rs": rs,
        "d0": s_r0,
        "d1": s_r1 - (m0 - 1) * s_r0,
        "d2": lanes * s_o0 - back_r,
        "d3": s_o1 - (n0c - 1) * lanes * s_o0 - back_r,
        "lane": s_o0 if lane is None else lane,
    }


RAM_LAYOUTS = ("auto", "plan", "spread")
BRAM_BITS = 32768  # data bits of one RAMB36E1


def _bram_blocks(words: int, word_bits: int) -> int:
    return -(-words * word_bits // BRAM_BITS)


class _Compiler:
    def __init__(self, program: KernelProgram, lanes: int, ram_layout: str = "auto") -> None:
        self.p = program
        self.P = lanes
        self.img = Image(program, lanes)
        self.img.kernels = list(program.walk())
        self.kid = {id(k): i for i, k in enumerate(self.img.kernels)}
        self.img.regs = {r: i for i, r in enumerate(program.registers)}
        if len(self.img.regs) > 16:
            raise UnsupportedKernel("more than 16 integer registers")
        self.bufs = {b.name: b for b in program.buffers}
        temps = [b for b in program.buffers if b.kind in ("temp", "input")]
        unit = math.gcd(*[b.fmt.bits // 8 for b in temps]) if temps else 1
        plan = plan_memory(program)
        planned: dict[str, int] = {}
        for b in program.buffers:
            if b.kind == "temp":
                try:
                    planned[b.name] = plan.offset(b.name)
                except KeyError:
                    continue  # never used
        # "spread": every temporary its own words (no reuse), so kernels that the plan's reuse
        # would chain (one writing where another still reads) may overlap or be reordered;
        # "auto" spreads when that costs no block RAM over the plan's arena.
        spread, arena_bytes = {}, 0
        for name in planned:
            spread[name], arena_bytes = arena_bytes, arena_bytes + self.bufs[name].nbytes
        inb = program.input_buffer
        word_bits = max(b.fmt.bits for b in program.buffers)
        extra = inb.size * inb.fmt.bits // 8

        def blocks(arena: int) -> int:
            return _bram_blocks(-(-(arena + extra) // unit), word_bits)  # RAM words are word_bits wide

        if ram_layout not in RAM_LAYOUTS:
            raise ValueError(f"ram_layout must be one of {RAM_LAYOUTS}, not {ram_layout!r}")
        use_spread = ram_layout == "spread" or (
            ram_layout == "auto" and blocks(arena_bytes) <= blocks(plan.arena_bytes)
        )
        offsets = spread if use_spread else planned
        self.img.ram_layout = "spread" if use_spread else "plan"
        arena_bytes = arena_bytes if use_spread else plan.arena_bytes
        self.locs: dict[str, Loc] = self.img.locs
        for name, off in offsets.items():
            b = self.bufs[name]
            self.locs[name] = Loc(Src.RAM, off // unit, b.fmt.bits // 8 // unit)
        self.img.input_base = -(-arena_bytes // unit)
        self.img.input_scale = inb.fmt.bits // 8 // unit
        self.locs[inb.name] = Loc(Src.RAM, self.img.input_base, self.img.input_scale)
        self.img.ram_depth = self.img.input_base + inb.size * self.img.input_scale
        sparse_parts = set()
        for k in program.walk():
            if isinstance(k, kp.SparseMatVec):
                sparse_parts |= {k.values, k.row_index, k.col_start}
        for b in program.buffers:
            if b.kind == "const" and b.name not in sparse_parts:
                self.locs[b.name] = Loc(Src.ROM, len(self.img.rom), 1)
                self.img.rom.extend(int(v) for v in program.constants[b.name].reshape(-1))
        self.img.word_bits = max(b.fmt.bits for b in program.buffers)
        wides = [k.wide for k in program.walk() if hasattr(k, "wide")]
        self.img.value_bits = max([32, *wides])
        fracs = [k.out_frac for k in program.walk() if isinstance(k, kp.SigmoidTanh)]
        self.img.div_bits = max(fracs) + 1 if fracs else 0
        self.gathers: dict[tuple, int] = {}
        # straight-line runs of kernels (no loop inside), each a list of instruction ranges
        self.runs: list[list[tuple[int, int]]] = []
        if not program.output_is_class:
            loc = self.locs[program.output]
            self.img.out_loc = (loc.base, loc.scale)

    # -- helpers ----------------------------------------------------------------------------
    def ref(self, r: Ref) -> tuple[Loc, int, dict]:
        """(location, first word, register term kwargs) of a view."""
        loc = self.locs[r.buffer]
        reg = {}
        if r.index is not None:
            reg = {"reg": self.img.regs[r.index], "rs": r.stride * loc.scale}
        return loc, loc.base + r.offset * loc.scale, reg

    def out(self, name: str) -> Loc:
        return self.locs[name]

    def emit(self, k: kp.Kernel, use: InsnUse, **fields) -> None:
        insn = {"op": int(fields.pop("op")), **fields}
        self.img.insns.append(insn)
        self.img.kernel_of.append(self.kid[id(k)])
        self.img.uses.append(use)

    def geom(self, n1: int, n0: int, m1: int, m0: int) -> dict:
        return {"n1": n1, "n0": n0, "chunks": -(-n0 // self.P), "m1": m1, "m0": m0, "lanes": self.P}

    def span(self, name: str, length: int | None = None, ref: Ref | None = None) -> tuple[int, int] | None:
        loc = self.locs.get(name)
        if loc is None or loc.space != Src.RAM:
            return None
        size = self.bufs[name].size
        if ref is not None and ref.index is None:
            return (loc.base + ref.offset * loc.scale, loc.base + (ref.offset + ref.length) * loc.scale)
        return (loc.base, loc.base + (size if length is None else length) * loc.scale)

    def use(
        self,
        k: kp.Kernel,
        op: Op,
        refs=(),
        out: str | None = None,
        reg_out=None,
        regs_post=(),
        latency: int | None = None,
    ) -> InsnUse:
        reads = tuple(s for r in refs if (s := self.span(r.buffer, ref=r)) is not None)
        regs_issue = {self.img.regs[r.index] for r in refs if r.index is not None}
        lat = {Op.EXP: 1, Op.SIGTANH: 2}.get(op, 0) if latency is None else latency
        return InsnUse(
            op=op,
            ram_reads=reads,
            ram_write=self.span(out) if out else None,
            regs_issue=frozenset(regs_issue),
            regs_post=frozenset(self.img.regs[r] for r in regs_post),
            reg_write=None if reg_out is None else self.img.regs[reg_out],
            latency=lat,
        )

    def gather(self, key: tuple, cols: list[int | None]) -> int:
        """A gather table (conv taps, pooling windows, permutations): one column per entry,
        ``None`` = padding. Identical tables are shared."""
        if key not in self.gathers:
            self.gathers[key] = len(self.img.entries)
            for c in cols:
                self.img.entries.append(
                    {"value": 0, "col": c or 0, "row": 0, "first": 0, "last": 0, "valid": int(c is not None)}
                )
        return self.gathers[key]

    def operands(self, a: Ref, b: Ref, mode: str, n: int, g_from) -> tuple[dict, dict, dict, dict, dict]:
        """Geometry and streams of an element-wise kernel with b broadcast by ``mode``."""
        la, a0, ra = self.ref(a)
        lb, b0, rb = self.ref(b)
        if mode == "lastdim":
            width = b.length
            g = self.geom(n // width, width, 1, 1)
            sa = _stream(a0, width * la.scale, la.scale, g=g, **ra)
            sb = _stream(b0, 0, lb.scale, g=g, **rb)
        else:
            g = self.geom(1, n, 1, 1)
            sa = _stream(a0, 0, la.scale, g=g, **ra)
            sb = _stream(b0, 0, 0 if mode == "scalar" else lb.scale, g=g, **rb)
        lo = g_from(g)
        return g, sa, sb, lo, {"a_src": la.space, "b_src": lb.space}

    def out_stream(self, name: str, g: dict, width: int | None = None) -> tuple[dict, dict]:
        lo = self.out(name)
        if width is None:
            return _stream(lo.base, 0, lo.scale, g=g), {"out_bits": self.bufs[name].fmt.bits}
        return _stream(lo.base, width * lo.scale, lo.scale, g=g), {"out_bits": self.bufs[name].fmt.bits}

    # -- kernels ------------------------------------------------------------------------------
    def block(self, kernels: tuple[kp.Kernel, ...], trips: int) -> None:
        run: list[tuple[int, int]] = []
        for k in kernels:
            if isinstance(k, kp.Loop):
                self.runs.append(run)
                run = []
                self.loop(k, trips)
                continue
            self.img.ideal[self.kid[id(k)]] += trips * -(-self.work(k) // self.P)
            start = len(self.img.insns)
            getattr(self, "k_" + type(k).__name__)(k)
            run.append((start, len(self.img.insns)))
        self.runs.append(run)

    def work(self, k: kp.Kernel) -> int:
        if isinstance(k, kp.MatMul):
            return k.m * k.k * k.n
        if isinstance(k, kp.SparseMatVec):
            return k.nnz
        if isinstance(k, kp.Conv2d):
            g, hf, wf, cin_g, _ = k.filter_shape
            return math.prod(k.out_shape) * hf * wf * cin_g
        if isinstance(k, kp.MaxPool):
            return math.prod(k.out_shape) * k.kernel[0] * k.kernel[1]
        if isinstance(k, kp.Argmax):
            return k.x.length
        n = getattr(k, "n", None)
        if isinstance(k, kp.Fill | kp.Permute | kp.Window):
            n = self.bufs[k.out].size
        return n if isinstance(n, int) and not isinstance(k, kp.Select) else 1

    def loop(self, k: kp.Loop, trips: int) -> None:
        reg = self.img.regs[k.index]
        if k.stop <= k.start:
            u = InsnUse(Op.INTOP, reg_write=reg)
            self.emit(k, u, op=Op.INTOP, dst=reg, intop=INTOPS["="], opa=k.stop, opb=0)
            return
        self.emit(k, InsnUse(Op.LOOPINIT, reg_write=reg), op=Op.LOOPINIT, dst=reg, imm=k.start)
        target = len(self.img.insns)
        self.block(k.body, trips * (k.stop - k.start))
        u = InsnUse(Op.LOOPNEXT, regs_issue=frozenset({reg}), reg_write=reg)
        self.emit(k, u, op=Op.LOOPNEXT, dst=reg, imm=k.stop, target=target)

    def mac_tail(self, k, name: str, prod_shift: int, out_shift: int) -> dict:
        return {"op": Op.MAC, "ps": prod_shift, "out_shift": out_shift, "out_bits": self.bufs[name].fmt.bits}

    def k_MatMul(self, k: kp.MatMul) -> None:
        if k.m == 1 and k.k > 1 and self.P > 1:
            self.split_matmul(k)
            return
        g = self.geom(k.n, k.m, 1, k.k)
        la, a0, ra = self.ref(k.a)
        lb, b0, rb = self.ref(k.b)
        lo = self.out(k.out)
        self.emit(
            k,
            self.use(k, Op.MAC, (k.a, k.b), k.out),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(a0, 0, k.k * la.scale, 0, la.scale, g=g, **ra),
            b=_stream(b0, lb.scale, 0, 0, k.n * lb.scale, g=g, **rb),
            o=_stream(lo.base, lo.scale, k.n * lo.scale, g=g),
            a_src=la.space,
            b_src=lb.space,
            **self.mac_tail(k, k.out, k.prod_shift, k.out_shift),
        )

    def split_matmul(self, k: kp.MatMul) -> None:
        """A row vector times a matrix: every lane would idle but one, so each dot product is dealt
        across the lanes instead (lane p takes terms p, p + P, …) and the adder tree sums the
        partial sums: ⌈k/P⌉ beats per output, written one cycle later (latency class 1)."""
        P = self.P
        beats = -(-k.k // P)
        g = {"n1": k.n, "n0": 1, "chunks": 1, "m1": 1, "m0": beats, "lanes": P}
        la, a0, ra = self.ref(k.a)
        lb, b0, rb = self.ref(k.b)
        lo = self.out(k.out)
        self.emit(
            k,
            self.use(k, Op.MAC, (k.a, k.b), k.out, latency=1),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(a0, 0, 0, 0, P * la.scale, g=g, lane=la.scale, **ra),
            b=_stream(b0, lb.scale, 0, 0, P * k.n * lb.scale, g=g, lane=k.n * lb.scale, **rb),
            o=_stream(lo.base, lo.scale, 0, g=g, lane=0),
            a_src=la.space,
            b_src=lb.space,
            split=1,
            split_rem=k.k - (beats - 1) * P,
            **self.mac_tail(k, k.out, k.prod_shift, k.out_shift),
        )

    def k_SparseMatVec(self, k: kp.SparseMatVec) -> None:
        c = self.p.constants
        vals, rows, starts = (c[n].reshape(-1).astype(int) for n in (k.values, k.row_index, k.col_start))
        cols = [ci for ci in range(k.cols) for _ in range(starts[ci], starts[ci + 1])]
        by_row: dict[int, list[tuple[int, int]]] = {r: [] for r in range(k.rows)}
        for v, r, ci in zip(vals, rows, cols, strict=True):
            by_row[int(r)].append((int(v), ci))
        # Longest-processing-time first: each row to the least loaded lane, so lanes finish together.
        load, owned = [0] * self.P, [[] for _ in range(self.P)]
        for r in sorted(by_row, key=lambda r: -max(1, len(by_row[r]))):
            lane = min(range(self.P), key=lambda p: load[p])
            owned[lane].append(r)
            load[lane] += max(1, len(by_row[r]))
        lx, x0, rx = self.ref(k.x)
        lo = self.out(k.out)
        lists = []
        for p in range(self.P):
            ents = []
            for r in sorted(owned[p]):
                nz = by_row[r] or [(0, 0)]  # an empty row still writes its zero
                for i, (v, ci) in enumerate(nz):
                    ents.append(
                        {
                            "value": v,
                            "col": ci * lx.scale,
                            "row": r * lo.scale,
                            "first": int(i == 0),
                            "last": int(i == len(nz) - 1),
                            "valid": 1,
                        }
                    )
            lists.append(ents)
        length = max(1, max(len(e) for e in lists))
        base = len(self.img.entries)
        pad = {"value": 0, "col": 0, "row": 0, "first": 0, "last": 0, "valid": 0}
        for t in range(length):
            for p in range(self.P):
                self.img.entries.append(lists[p][t] if t < len(lists[p]) else pad)
        g = self.geom(1, self.P, 1, length)
        self.emit(
            k,
            self.use(k, Op.MAC, (k.x,), k.out),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            x=_stream(base, 0, 0, 0, self.P, g=g, lane=1),
            a_src=Src.ENTRY,
            b=_stream(x0, g=g, lane=0, **rx),
            b_src=lx.space,
            b_ind=1,
            o=_stream(lo.base, g=g, lane=0),
            o_ind=1,
            sparse=1,
            **self.mac_tail(k, k.out, k.prod_shift, k.out_shift),
        )

    def k_Conv2d(self, k: kp.Conv2d) -> None:
        n, h, w, cin = k.in_shape
        groups, hf, wf, cin_g, cout = k.filter_shape
        _, ho, wo, _ = k.out_shape
        (pt, _, pl, _), (sh, sw), (dh, dw) = k.pads, k.strides, k.dilations
        lx, x0, rx = self.ref(k.x)
        lf, f0, rf = self.ref(k.filters)
        lo = self.out(k.out)
        cols = []
        for b in range(n):
            for oh in range(ho):
                for ow in range(wo):
                    for i in range(hf):
                        for j in range(wf):
                            ih, iw = oh * sh + i * dh - pt, ow * sw + j * dw - pl
                            inside = 0 <= ih < h and 0 <= iw < w
                            cols.append(((b * h + ih) * w + iw) * cin * lx.scale if inside else None)
        tb = self.gather(("conv", k.in_shape, k.filter_shape, k.pads, k.strides, k.dilations, lx.scale), cols)
        taps = hf * wf
        g = self.geom(n * ho * wo, cout, taps, cin_g)
        for gi in range(groups):
            self.emit(
                k,
                self.use(k, Op.MAC, (k.x, k.filters), k.out),
                **{kk: v for kk, v in g.items() if kk != "lanes"},
                x=_stream(tb, taps, 0, 1, 0, g=g, lane=0),
                a=_stream(x0 + gi * cin_g * lx.scale, 0, 0, 0, lx.scale, g=g, lane=0, **rx),
                a_ind=1,
                a_src=lx.space,
                b=_stream(
                    f0 + gi * taps * cin_g * cout * lf.scale,
                    0,
                    lf.scale,
                    cin_g * cout * lf.scale,
                    cout * lf.scale,
                    g=g,
                    **rf,
                ),
                b_src=lf.space,
                o=_stream(lo.base + gi * cout * lo.scale, groups * cout * lo.scale, lo.scale, g=g),
                **self.mac_tail(k, k.out, k.prod_shift, k.out_shift),
            )

    def k_MaxPool(self, k: kp.MaxPool) -> None:
        n, h, w, c = k.in_shape
        _, ho, wo, _ = k.out_shape
        (pt, _, pl, _), (kh, kw), (sh, sw) = k.pads, k.kernel, k.strides
        lx, x0, rx = self.ref(k.x)
        lo = self.out(k.out)
        cols = []
        for b in range(n):
            for oh in range(ho):
                for ow in range(wo):
                    for i in range(kh):
                        for j in range(kw):
                            ih, iw = oh * sh + i - pt, ow * sw + j - pl
                            inside = 0 <= ih < h and 0 <= iw < w
                            cols.append(((b * h + ih) * w + iw) * c * lx.scale if inside else None)
        tb = self.gather(("pool", k.in_shape, k.kernel, k.pads, k.strides, lx.scale), cols)
        taps = kh * kw
        g = self.geom(n * ho * wo, c, taps, 1)
        bits = self.bufs[k.out].fmt.bits
        self.emit(
            k,
            self.use(k, Op.MAX, (k.x,), k.out),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            op=Op.MAX,
            x=_stream(tb, taps, 0, 1, 0, g=g, lane=0),
            a=_stream(x0, 0, lx.scale, g=g, **rx),
            a_ind=1,
            a_src=lx.space,
            b_src=Src.IMM,
            o=_stream(lo.base, c * lo.scale, lo.scale, g=g),
            imm=-(1 << (bits - 1)),
            out_bits=bits,
        )

    def _gather_copy(self, k, cols: list[int], ref: Ref) -> None:
        lx, x0, rx = self.ref(ref)
        tb = self.gather(("copy", id(k)), [c * lx.scale for c in cols])
        g = self.geom(1, len(cols), 1, 1)
        o, ob = self.out_stream(k.out, g)
        self.emit(
            k,
            self.use(k, Op.ALU, (ref,), k.out),
            op=Op.ALU,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            x=_stream(tb, 0, 1, g=g),
            a=_stream(x0, g=g, lane=0, **rx),
            a_ind=1,
            a_src=lx.space,
            b_src=Src.IMM,
            o=o,
            **ob,
        )

    def k_Permute(self, k: kp.Permute) -> None:
        import numpy as np

        src = np.arange(math.prod(k.in_shape)).reshape(k.in_shape).transpose(k.perm).reshape(-1)
        self._gather_copy(k, [int(v) for v in src], k.x)

    def k_Window(self, k: kp.Window) -> None:
        import numpy as np

        dyn = [(d, s) for d, s in enumerate(k.starts) if isinstance(s, str)]
        if len(dyn) > 1:
            raise UnsupportedKernel("Window with more than one register start")
        strides = [math.prod(k.in_shape[d + 1 :]) for d in range(len(k.in_shape))]
        static = sum(s * strides[d] for d, s in enumerate(k.starts) if isinstance(s, int))
        idx = np.indices(k.sizes).reshape(len(k.sizes), -1)
        cols = [
            static + sum(int(idx[d, e]) * strides[d] for d in range(len(k.sizes)))
            for e in range(idx.shape[1])
        ]
        ref = k.x
        if dyn:
            d, reg = dyn[0]
            ref = Ref(k.x.buffer, k.x.length, k.x.offset, reg, strides[d])
            if k.x.index is not None:
                raise UnsupportedKernel("Window over an indexed view with a register start")
        self._gather_copy(k, cols, ref)

    def _alu(self, k, a: Ref, b: Ref | None, mode: str, n: int, **fields) -> None:
        if b is None:
            la, a0, ra = self.ref(a)
            g = self.geom(1, n, 1, 1)
            streams = {"a": _stream(a0, 0, la.scale, g=g, **ra), "a_src": la.space, "b_src": Src.IMM}
            refs = (a,)
        else:
            g, sa, sb, _, src = self.operands(a, b, mode, n, lambda g: None)
            streams = {"a": sa, "b": sb, **src}
            refs = (a, b)
        width = g["n0"] if g["n1"] > 1 else None
        o, ob = self.out_stream(k.out, g, width)
        op = fields.pop("op", Op.ALU)
        self.emit(
            k,
            self.use(k, op, refs, k.out),
            op=op,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            **streams,
            o=o,
            **{**ob, **fields},
        )

    def k_AddSub(self, k: kp.AddSub) -> None:
        self._alu(
            k,
            k.a,
            k.b,
            k.b_mode,
            k.n,
            a_sh=k.a_shift,
            b_sh=k.b_shift,
            sub=int(k.subtract),
            b_first=int(k.b_first),
            out_shift=k.out_shift,
        )

    def k_Mul(self, k: kp.Mul) -> None:
        self._alu(k, k.a, k.b, k.b_mode, k.n, op=Op.MAC, ps=0, out_shift=k.out_shift)

    def k_Rescale(self, k: kp.Rescale) -> None:
        self._alu(k, k.x, None, "full", k.n, sub=int(k.negate), b_first=int(k.negate), out_shift=k.shift)

    def k_Clamp(self, k: kp.Clamp) -> None:
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            lo_en=int(k.lo is not None),
            lo=k.lo or 0,
            hi_en=int(k.hi is not None),
            hi=k.hi or 0,
        )

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh) -> None:
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            op=Op.HARD,
            a_sh=k.shift,
            imm=k.half,
            lo_en=1,
            lo=k.lo,
            hi_en=1,
            hi=k.hi,
        )

    def k_Fill(self, k: kp.Fill) -> None:
        g = self.geom(1, self.bufs[k.out].size, 1, 1)
        o, ob = self.out_stream(k.out, g)
        self.emit(
            k,
            self.use(k, Op.ALU, (), k.out),
            op=Op.ALU,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a_src=Src.IMM,
            b_src=Src.IMM,
            imm=k.value,
            o=o,
            **ob,
        )

    def _table(self, k, op: Op, **fields) -> None:
        t = k.t
        self._alu(
            k,
            k.x,
            None,
            "full",
            k.n,
            op=op,
            t=t,
            ymax=(1 << (2 * t)) - 1,
            hi_base=self.locs[k.hi].base,
            lo_base=self.locs[k.lo].base,
            **fields,
        )

    def k_Exp(self, k: kp.Exp) -> None:
        self._table(k, Op.EXP, imm=k.x_top, sh_r=k.k, out_shift=k.table_shift)

    def k_SigmoidTanh(self, k: kp.SigmoidTanh) -> None:
        self._table(
            k,
            Op.SIGTANH,
            sh_l=max(-k.arg_shift, 0),
            sh_r=k.k + max(k.arg_shift, 0),
            tshift=k.table_shift,
            e_frac=k.e_frac,
            out_frac=k.out_frac,
            tanh=int(k.fn == "tanh"),
        )

    def _reg_op(self, k, op: Op, x: Ref, length: int, regs_post=(), **fields) -> None:
        lx, x0, rx = self.ref(x)
        g = self.geom(1, 1, 1, length)
        self.emit(
            k,
            self.use(k, op, (x,), reg_out=k.out, regs_post=regs_post),
            op=op,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(x0, 0, 0, 0, lx.scale, g=g, **rx),
            a_src=lx.space,
            b_src=Src.IMM,
            dst=self.img.regs[k.out],
            **fields,
        )

    def k_Argmax(self, k: kp.Argmax) -> None:
        self._reg_op(k, Op.ARGMAX, k.x, k.x.length)

    def k_Sgn(self, k: kp.Sgn) -> None:
        self._reg_op(k, Op.SGN, k.x, 1)

    def _operand(self, v) -> tuple[int, int]:
        return (1, self.img.regs[v]) if isinstance(v, str) else (0, int(v))

    def k_Select(self, k: kp.Select) -> None:
        if not k.is_int:
            raise UnsupportedKernel(
                "the accelerator must be given conditionals (?:) of integers, not of tensors "
                "(the C and HLS backends run tensor-valued conditionals)"
            )
        (ar, av), (br, bv) = self._operand(k.a), self._operand(k.b)
        post = [v for v in (k.a, k.b) if isinstance(v, str)]
        self._reg_op(
            k, Op.SELECT, k.x, 1, regs_post=post, imm=k.threshold, opa_reg=ar, opa=av, opb_reg=br, opb=bv
        )

    def k_IntOp(self, k: kp.IntOp) -> None:
        (ar, av), (br, bv) = self._operand(k.a), self._operand(k.b)
        regs = frozenset(self.img.regs[v] for v in (k.a, k.b) if isinstance(v, str))
        u = InsnUse(Op.INTOP, regs_issue=regs, reg_write=self.img.regs[k.out])
        self.emit(
            k,
            u,
            op=Op.INTOP,
            dst=self.img.regs[k.out],
            intop=INTOPS[k.op],
            opa_reg=ar,
            opa=av,
            opb_reg=br,
            opb=bv,
        )


def _depends(a: InsnUse, b: InsnUse) -> bool:
    """Must ``b`` stay after ``a``? (it reads what a writes, writes what a reads, or both write)"""

    def meets(x, ys) -> bool:
        return x is not None and any(_overlap(x, y) for y in ys)

    if meets(a.ram_write, b.ram_reads) or meets(b.ram_write, a.ram_reads):
        return True
    if a.ram_write is not None and meets(a.ram_write, [b.ram_write] if b.ram_write else []):
        return True
    a_regs = a.regs_issue | a.regs_post | {a.reg_write}
    b_regs = b.regs_issue | b.regs_post | {b.reg_write}
    return (a.reg_write is not None and a.reg_write in b_regs) or (
        b.reg_write is not None and b.reg_write in a_regs
    )


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _reordered(img: Image, runs: list[list[tuple[int, int]]], beats: list[int], div_latency: int):
    """Instruction order with each straight-line run list-scheduled: kernels keep every memory
    and register dependence (on the actual addresses, so the memory plan's reuse is respected),
    and the one heading the longest chain of dependent latencies goes first, so independent
    work fills the pipeline's waits (a SigmoidTanh's divider, a Select's register)."""
    order = list(range(len(img.insns)))
    done_at = {0: 5, 1: 6, 2: 5 + div_latency}
    for run in runs:
        if len(run) < 2:
            continue
        n = len(run)
        uses = [[img.uses[i] for i in range(a, b)] for a, b in run]
        deps = [
            [j for j in range(i) if any(_depends(x, y) for x in uses[j] for y in uses[i])] for i in range(n)
        ]
        weight = [sum(beats[i] + done_at[img.uses[i].latency] for i in range(a, b)) for a, b in run]
        users = [[i for i in range(n) if j in deps[i]] for j in range(n)]
        chain = [0] * n
        for j in reversed(range(n)):
            chain[j] = weight[j] + max((chain[i] for i in users[j]), default=0)
        placed: list[int] = []
        left = set(range(n))
        while left:
            ready = [i for i in sorted(left) if all(d not in left for d in deps[i])]
            pick = max(ready, key=lambda i: (chain[i], -i))
            placed.append(pick)
            left.remove(pick)
        first = run[0][0]
        order[first : run[-1][1]] = [i for g in placed for i in range(*run[g])]
    return order


def _schedule_segment(img: Image, lo: int, hi: int, beats: list[int], div_latency: int) -> int:
    """Schedule instructions ``lo..hi`` (one segment, ending in its DONE) in place; its cycles.

    The segment is scheduled on its own (loop targets rebased), since it always starts from an
    idle pipeline; each straight-line run is list-scheduled when that shortens the segment."""

    def rebased(insns: list[dict]) -> list[dict]:
        return [dict(i, target=i["target"] - lo) if "target" in i else i for i in insns]

    insns, uses, seg_beats = img.insns[lo:hi], img.uses[lo:hi], beats[lo:hi]
    best = schedule(rebased(insns), uses, seg_beats, div_latency)
    runs = [[(a - lo, b - lo) for a, b in run] for run in img.runs if run and lo <= run[0][0] < hi]
    sub = Image(img.program, img.lanes, insns=insns, uses=uses)
    order = _reordered(sub, runs, seg_beats, div_latency)
    if order != sorted(order):
        # LOOPNEXT targets are the first instruction of a run, which the reordering keeps first
        # in position (not in content): the targets stay valid.
        r_insns = [insns[i] for i in order]
        r_uses = [uses[i] for i in order]
        trial = schedule(rebased(r_insns), r_uses, [seg_beats[i] for i in order], div_latency)
        if trial[2] < best[2]:
            best = trial
            img.insns[lo:hi], img.uses[lo:hi] = r_insns, r_uses
            img.kernel_of[lo:hi] = [img.kernel_of[lo + i] for i in order]
    drains, waits, cycles = best
    for insn, d, w in zip(img.insns[lo:hi], drains, waits, strict=True):
        insn["drain"], insn["wait"] = int(d), w
    return cycles


def compile_image(
    program: KernelProgram,
    lanes: int,
    ram_layout: str = "auto",
    segments: Sequence[Sequence[int]] | None = None,
) -> Image:
    """The complete generated layer of one accelerator: microcode (with its drain flags), ROM
    and entry-table contents, RAM size, and the ideal cycle count per kernel. ``ram_layout``:
    temporaries where the memory plan puts them ("plan"), each in its own words ("spread"), or
    spread when that needs no more block RAM than the plan ("auto").

    ``segments`` (co-design): runs of consecutive top-level kernel indices the accelerator
    executes, each started by the host; the RAM layout is still the whole program's, so a tensor
    the host moves keeps one address. None: the whole program as one segment."""
    if lanes < 1:
        raise ValueError(f"lanes must be at least 1, not {lanes}")
    n_top = len(program.kernels)
    if segments is None:
        segments = [range(n_top)]
    segments = [list(s) for s in segments]
    for s in segments:
        if not s or s != list(range(s[0], s[0] + len(s))) or s[0] < 0 or s[-1] >= n_top:
            raise ValueError(f"a segment must be consecutive kernel indices in 0..{n_top - 1}, not {s}")
    c = _Compiler(program, lanes, ram_layout)
    c.img.ideal = [0] * len(c.img.kernels)
    bounds = []
    c.img.segment_entries = []
    for s in segments:
        lo = len(c.img.insns)
        c.img.segment_entries.append(lo)
        kernels = tuple(program.kernels[i] for i in s)
        c.block(kernels, 1)
        c.img.insns.append({"op": int(Op.DONE)})
        last = kernels[-1]
        while isinstance(last, kp.Loop) and last.body:
            last = last.body[-1]
        c.img.kernel_of.append(c.kid[id(last)])
        c.img.uses.append(InsnUse(Op.DONE))
        bounds.append((lo, len(c.img.insns)))
    c.img.runs = c.runs
    beats = [i.get("n1", 0) * i.get("chunks", 0) * i.get("m1", 0) * i.get("m0", 0) for i in c.img.insns]
    div_latency = divider_latency(c.img.div_bits)
    c.img.segment_cycles = [_schedule_segment(c.img, lo, hi, beats, div_latency) for lo, hi in bounds]
    c.img.predicted_cycles = sum(c.img.segment_cycles)
    if not c.img.entries:
        c.img.entries.append({"value": 0, "col": 0, "row": 0, "first": 0, "last": 0, "valid": 0})
    return c.img
