"""KernelProgram → microcode, memory images and the static hazard schedule of the accelerator.

This is the thin generated layer: it decides nothing numeric (every shift, bound and table comes
from the program), it only maps each kernel onto the generic loop nest of ``isa.py``, lays the
scratch RAM out (by the memory plan, or one region per temporary when that costs no block RAM),
concatenates the constants into the weight ROM and re-lays sparse matrices into per-lane entry
lists (rows dealt to lanes by non-zeros, so no two lanes ever own one accumulator). A row vector
times a matrix is split across the lanes instead (each dot product dealt out, summed by lane 0's
adder tree), and so are a matrix-vector product's rows past the last full chunk of lanes. Loops
whose register only addresses views are unrolled (``unroll.py``) and register arithmetic on a
Select of immediates becomes a Select (``regfold.py``) where that shortens the schedule.
Straight-line runs of kernels are list-scheduled on their actual RAM and register dependences
when that shortens the schedule, so independent kernels fill the pipeline's waits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram, Ref
from hlsfix.memory.liveness import plan_memory
from hlsfix.rtl.cones import NO_CONES, plan_cones
from hlsfix.rtl.image import BRAM_BITS, RAM_LAYOUTS, Image, Loc, UnsupportedKernel, bram_blocks
from hlsfix.rtl.image import stream as _stream
from hlsfix.rtl.isa import INTOPS, Op, Src
from hlsfix.rtl.isa import beats as insn_beats
from hlsfix.rtl.kernels_alu import AluKernels
from hlsfix.rtl.kernels_mac import MacKernels
from hlsfix.rtl.lane_words import with_beat_words
from hlsfix.rtl.regfold import NO_FOLDS, plan_folds
from hlsfix.rtl.reorder import schedule_segment
from hlsfix.rtl.schedule import InsnUse, late_forwarding
from hlsfix.rtl.speculate import NO_SPECULATION, SpeculativeKernels, plan_speculation
from hlsfix.rtl.units import divider_latency
from hlsfix.rtl.unroll import (
    UCODE_BUDGET,
    UNROLL_GAIN,
    UNROLL_RAM_WEIGHT,
    View,
    factors,
    private_buffers,
    unroll_caps,
    unrollable,
)

__all__ = ["BRAM_BITS", "RAM_LAYOUTS", "Image", "Loc", "UnsupportedKernel", "compile_image", "_stream"]


class _Compiler(MacKernels, AluKernels, SpeculativeKernels):
    def __init__(
        self,
        program: KernelProgram,
        lanes: int,
        ram_layout: str = "auto",
        unroll_cap: int = 1,
        fold: bool = True,
        speculate: int = 2,
    ) -> None:
        self.p = program
        self.P = lanes
        self.unroll_cap = unroll_cap
        self.view: View | None = None  # the copy of an unrolled loop body being emitted
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
        ram_bits = max(b.fmt.bits for b in [inb, *temps])
        extra = inb.size * inb.fmt.bits // 8

        def blocks(arena: int) -> int:
            return bram_blocks(-(-(arena + extra) // unit), ram_bits)  # RAM words are ram_bits wide

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
        # Exp/SigmoidTanh tables first: the table unit's own memory is the ROM's first words.
        tables = {t for k in program.walk() if isinstance(k, kp.Exp | kp.SigmoidTanh) for t in (k.hi, k.lo)}
        consts = [b for b in program.buffers if b.kind == "const" and b.name not in sparse_parts]
        for b in sorted(consts, key=lambda b: b.name not in tables):
            self.locs[b.name] = Loc(Src.ROM, len(self.img.rom), 1)
            self.img.rom.extend(int(v) for v in program.constants[b.name].reshape(-1))
            if b.name in tables:
                self.img.table_words = len(self.img.rom)
        self.img.word_bits = image_word_bits(program)
        self.img.ram_bits = ram_bits  # the scratch RAM's words: its buffers', not the constants'
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
        self.folds = plan_folds(program, self.shares) if fold else NO_FOLDS
        self.spec = plan_speculation(program, self.folds) if fold and speculate else NO_SPECULATION
        for reg in self.spec.registers:
            self.img.regs[reg] = len(self.img.regs)
        self.spec_words: dict[int, tuple[Loc, ...]] = {}
        self.cones = NO_CONES
        if fold and speculate >= 2:
            speculated = frozenset(self.spec.by_kernel) | set(self.spec.by_select)
            self.cones = plan_cones(program, self.folds, speculated)
        for b in self.cones.buffers:  # the vectors: words of their own after the RAM's last
            self.bufs[b.name] = b
            self.locs[b.name] = Loc(Src.RAM, self.img.ram_depth, b.fmt.bits // 8 // unit)
            self.img.ram_depth += b.size * self.locs[b.name].scale
        for original, vector in self.cones.kernels.items():
            self.kid[id(vector)] = self.kid[original]

    def shares(self, a: str, b: str) -> bool:
        """May writing buffer (or register) ``a`` change a word of buffer ``b`` (this layout)?"""
        la, lb = self.locs.get(a), self.locs.get(b)
        if la is None or lb is None or Src.RAM not in (la.space, lb.space) or la.space != lb.space:
            return a == b
        ea, eb = (loc.base + self.bufs[n].size * loc.scale for loc, n in ((la, a), (lb, b)))
        return la.base < eb and lb.base < ea

    # -- helpers ----------------------------------------------------------------------------
    def loc(self, name: str) -> Loc:
        """Where ``name`` lives (for the body copy being emitted)."""
        if self.view is not None and name in self.view.rename:
            return self.view.rename[name]
        return self.locs[name]

    def ref(self, r: Ref) -> tuple[Loc, int, dict]:
        """(location, first word, register term kwargs) of a view."""
        loc = self.loc(r.buffer)
        base, reg = loc.base + r.offset * loc.scale, {}
        v = self.view
        if v is not None and r.index == v.index:
            base += v.first * r.stride * loc.scale
            if v.step is not None:
                reg = {"reg": self.img.regs[r.index], "rs": v.step * r.stride * loc.scale}
        elif r.index is not None:
            reg = {"reg": self.img.regs[r.index], "rs": r.stride * loc.scale}
        return loc, base, reg

    def static(self, r: Ref) -> bool:
        """Is the view at a fixed address (no register, or the index of a fully unrolled loop)?"""
        return r.index is None or (
            self.view is not None and r.index == self.view.index and self.view.step is None
        )

    def out(self, name: str) -> Loc:
        return self.loc(name)

    def emit(self, k: kp.Kernel, use: InsnUse, **fields) -> None:
        insn = {"op": int(fields.pop("op")), **fields}
        self.img.insns.append(insn)
        self.img.kernel_of.append(self.kid[id(k)])
        self.img.uses.append(use)

    def geom(self, n1: int, n0: int, m1: int, m0: int) -> dict:
        return {"n1": n1, "n0": n0, "chunks": -(-n0 // self.P), "m1": m1, "m0": m0, "lanes": self.P}

    def span(self, name: str, length: int | None = None, ref: Ref | None = None) -> tuple[int, int] | None:
        loc = self.loc(name) if name in self.locs else None
        if loc is None or loc.space != Src.RAM:
            return None
        size = self.bufs[name].size
        if ref is not None and self.static(ref):
            _, first, _ = self.ref(ref)
            return (first, first + ref.length * loc.scale)
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
        regs_issue = {self.img.regs[r.index] for r in refs if not self.static(r)}
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
    def block(
        self, kernels: tuple[kp.Kernel, ...], trips: int, views: tuple[View | None, ...] = (None,)
    ) -> None:
        """Emit ``kernels`` (run ``trips`` times), once per view: the copies of an unrolled body
        form one straight-line run."""
        run: list[tuple[int, int]] = []
        for view in views:
            self.view = view
            for k in kernels:
                if isinstance(k, kp.Loop):  # never in an unrolled body
                    self.runs.append(run)
                    run = []
                    self.loop(k, trips)
                    continue
                self.img.ideal[self.kid[id(k)]] += trips * -(-self.work(k) // self.P)
                if id(k) in self.spec.dead or id(k) in self.folds.dead:
                    continue  # folded into the Selects that read it (regfold.py, speculate.py)
                start = len(self.img.insns)
                k = self.cones.kernels.get(id(k), k)  # run on the vectors (cones.py)
                if not self.speculated(k):
                    getattr(self, "k_" + type(k).__name__)(k)
                run.append((start, len(self.img.insns)))
        self.view = None
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
        n = k.stop - k.start
        unroll = factors(n, self.unroll_cap) if unrollable(self.p, k) else 1
        if unroll == 1:
            self.emit(k, InsnUse(Op.LOOPINIT, reg_write=reg), op=Op.LOOPINIT, dst=reg, imm=k.start)
            target = len(self.img.insns)
            self.block(k.body, trips * n)
            u = InsnUse(Op.LOOPNEXT, regs_issue=frozenset({reg}), reg_write=reg)
            self.emit(k, u, op=Op.LOOPNEXT, dst=reg, imm=k.stop, target=target)
            return
        self.img.unrolled[k.index] = unroll
        private = private_buffers(self.p, k)
        step = None if unroll == n else unroll
        views = tuple(
            View(k.index, k.start + u, step, self.private_copy(private) if u else {}) for u in range(unroll)
        )
        if step is None:  # unrolled fully: straight-line code
            self.block(k.body, trips, views)
            return
        self.emit(k, InsnUse(Op.LOOPINIT, reg_write=reg), op=Op.LOOPINIT, dst=reg, imm=0)
        target = len(self.img.insns)
        self.block(k.body, trips * (n // unroll), views)
        u = InsnUse(Op.LOOPNEXT, regs_issue=frozenset({reg}), reg_write=reg)
        self.emit(k, u, op=Op.LOOPNEXT, dst=reg, imm=n // unroll, target=target)

    def private_copy(self, names: list[str]) -> dict[str, Loc]:
        """Words of their own for a body copy's private temporaries, after the RAM's last word."""
        out = {}
        for name in names:
            loc = self.locs[name]
            out[name] = Loc(Src.RAM, self.img.ram_depth, loc.scale)
            self.img.ram_depth += self.bufs[name].size * loc.scale
        return out


def image_word_bits(program: KernelProgram) -> int:
    """The width of the image's data words (RAM, ROM, host port): its widest buffer's. Known
    without compiling the image (the co-design costs ask for it once per predicted partition)."""
    return max(b.fmt.bits for b in program.buffers)


def compile_image(
    program: KernelProgram,
    lanes: int,
    ram_layout: str = "auto",
    segments: Sequence[Sequence[int]] | None = None,
    unroll: int | None = None,
) -> Image:
    """The complete generated layer of one accelerator: microcode (with its drain flags), ROM
    and entry-table contents, RAM size, and the ideal cycle count per kernel. ``ram_layout``:
    temporaries where the memory plan puts them ("plan"), each in its own words ("spread"), or
    spread when that needs no more block RAM than the plan ("auto").

    ``segments`` (co-design): runs of consecutive top-level kernel indices the accelerator
    executes, each started by the host; the RAM layout is still the whole program's, so a tensor
    the host moves keeps one address. None: the whole program as one segment.

    ``unroll``: each unrollable loop (``unroll.py``) is unrolled by the largest factor of its trip
    count up to this; None: every such factor is tried and the image of the fewest predicted
    cycles kept within ``UCODE_BUDGET`` microcode words, a larger unrolling only where it is worth
    its RAM (``_worth``: each copy's private temporaries take words of their own).
    With ``segments`` (co-design, where every segment holding a loop would hold its copies),
    None means no unrolling."""
    if unroll is None and segments is not None:
        unroll = 1
    if unroll is not None:
        return _searched(program, lanes, ram_layout, segments, unroll)
    best, best_cap = None, 1
    for cap in unroll_caps(program):  # chosen on the list schedules alone, then searched
        img = _compile(program, lanes, ram_layout, segments, cap, search=False)
        if cap > 1 and len(img.insns) > UCODE_BUDGET:
            break  # caps only grow the microcode
        if best is None or _worth(img, best):
            best, best_cap = img, cap
    return _searched(program, lanes, ram_layout, segments, best_cap)


def _searched(
    program: KernelProgram, lanes: int, ram_layout: str, segments: Sequence[Sequence[int]] | None, unroll: int
) -> Image:
    """The image with its schedule searched, with register folding (``regfold.py``, never for
    co-design segments: the host may read any register between them) and speculation
    (``speculate.py`` and ``cones.py``, which need the folds) where each is shorter (of equal
    cycles, the one of fewer RAM words)."""
    img = _compile(program, lanes, ram_layout, segments, unroll, search=True)
    if segments is None and plan_folds(program).selects:
        others = [_compile(program, lanes, ram_layout, segments, unroll, search=True, fold=False)]
        for level in (1, 0) if img.speculated else ():
            others.append(_compile(program, lanes, ram_layout, None, unroll, search=True, speculate=level))
        img = min([img, *others], key=lambda i: (i.predicted_cycles, i.ram_depth))
    return img


def _worth(img: Image, than: Image) -> bool:
    """Is ``img`` (a larger unrolling) worth more than ``than``? It must save ``UNROLL_GAIN`` of
    the cycles, and at least ``UNROLL_RAM_WEIGHT`` times the fraction of RAM words it adds (the
    scratch RAM is copied per read port at P > 1: its words cost LUTs)."""
    saved = 1 - img.predicted_cycles / than.predicted_cycles
    grown = img.ram_depth / than.ram_depth - 1
    return saved >= max(UNROLL_GAIN, UNROLL_RAM_WEIGHT * grown)


def _compile(
    program: KernelProgram,
    lanes: int,
    ram_layout: str,
    segments: Sequence[Sequence[int]] | None,
    unroll: int,
    search: bool,
    fold: bool = True,
    speculate: int = 2,
) -> Image:
    if lanes < 1:
        raise ValueError(f"lanes must be at least 1, not {lanes}")
    n_top = len(program.kernels)
    whole = segments is None
    if segments is None:
        segments = [range(n_top)]
    segments = [list(s) for s in segments]
    for s in segments:
        if not s or s != list(range(s[0], s[0] + len(s))) or s[0] < 0 or s[-1] >= n_top:
            raise ValueError(f"a segment must be consecutive kernel indices in 0..{n_top - 1}, not {s}")
    c = _Compiler(program, lanes, ram_layout, unroll, fold=fold and whole, speculate=speculate)
    c.img.speculated = tuple(p.select.out for p in c.spec.by_select.values()) + c.cones.registers
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
    beats = [insn_beats(i) for i in c.img.insns]
    div_latency = divider_latency(c.img.div_bits)
    if not late_forwarding(lanes):  # the schedule's own-lane check needs the beats' words
        c.img.uses = [with_beat_words(c.img, i, u) for i, u in zip(c.img.insns, c.img.uses, strict=True)]
    c.img.segment_cycles = [schedule_segment(c.img, lo, hi, beats, div_latency, search) for lo, hi in bounds]
    if whole and program.output_is_class:  # streamed out from its register: no OUTREAD cycle
        c.img.segment_cycles = [n - 1 for n in c.img.segment_cycles]
    c.img.predicted_cycles = sum(c.img.segment_cycles)
    if not c.img.entries:
        c.img.entries.append({"value": 0, "col": 0, "row": 0, "first": 0, "last": 0, "valid": 0})
    return c.img
