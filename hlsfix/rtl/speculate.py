"""Speculating a register-indexed kernel whose register is a Select of two immediates, so that a
Select on its result does not wait for the register: Bonsai's second-level test
``k2 = (T[k1]·x ≥ 0 ? 2·k1 + 1 : 2·k1 + 2)`` with ``k1 = (c ≥ 0 ? 1 : 2)``.

The chain it replaces is the accelerator's slowest: ``k1``'s Select writes its register from its
operand (S3), the indexed kernel ``K = T[k1]·x`` computes its address from the register a cycle
later (``schedule.need``: 6 cycles after the Select's beat), and the second Select waits for
``K``'s result. Instead ``K`` runs once for each value of ``k1`` (``K_a`` with ``k1`` = 1, ``K_b``
with ``k1`` = 2, into words of their own, issued at once: neither needs a register), each copy
gets a Select with the operands ``k1``'s value implies (``2·k1 + 1`` is 3 or 5 like ``regfold.py``
folds it) into a register of its own, and the result is ``c ≥ 0 ? u_a : u_b``, a Select that reads
its two operand registers in the cycle before its own register write (one cycle after them).

Exact because ``K_a`` computes the same words as ``K`` when ``k1`` = 1 (the same kernel, its view
at the address ``k1`` = 1 gives) and the last Select takes the copy ``c``'s word picks, the one
``k1``'s Select picked: ``c``'s words are unchanged since (``regfold.Folds.known``, which already
accounts for the RAM layout's reuse). ``K`` must be the last writer of the Select's word, read by
that Select alone; the operand registers that then nothing reads are not emitted. Only in
straight-line code at the top level (never in a loop body or an unrolled copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram, Ref
from hlsfix.rtl.image import stream as _stream
from hlsfix.rtl.isa import Op, Src
from hlsfix.rtl.regfold import Folded, Folds, written_names
from hlsfix.rtl.unroll import View


@dataclass(frozen=True)
class Speculated:
    kernel: kp.Kernel  # K, read with register ``reg``
    reg: str
    cond: Folded  # reg = cond.x[0] >= cond.threshold ? cond.a : cond.b
    select: kp.Select  # the Select on K's result
    operands: tuple[tuple[int, int], tuple[int, int]]  # (a, b) of the Select where reg = cond.a, cond.b
    regs: tuple[str, str]  # the copies' Select results


@dataclass(frozen=True)
class Speculation:
    by_kernel: dict[int, Speculated] = field(default_factory=dict)  # id(K) → plan
    by_select: dict[int, Speculated] = field(default_factory=dict)  # id(Select) → plan
    dead: frozenset[int] = frozenset()  # register kernels nothing emitted reads any more

    @property
    def registers(self) -> list[str]:
        return [r for s in self.by_select.values() for r in s.regs]


NO_SPECULATION = Speculation()


def _value(v: int | str, known: dict[str, Folded], reg: str, cond: Folded) -> tuple[int, int] | None:
    """A Select operand's value where ``reg`` = cond.a and where ``reg`` = cond.b."""
    if isinstance(v, int):
        return (v, v)
    if v == reg:
        return (cond.a, cond.b)
    f = known.get(v)
    if f is not None and (f.x, f.threshold) == (cond.x, cond.threshold):
        return (f.a, f.b)
    return None


def _readers(program: KernelProgram) -> dict[str, list[kp.Kernel]]:
    out: dict[str, list[kp.Kernel]] = {}
    for k in program.walk():
        names = {r.buffer for r in k.reads()} | set(k.registers_read())
        if isinstance(k, kp.Window):
            names |= {s for s in k.starts if isinstance(s, str)}
        for name in names:
            out.setdefault(name, []).append(k)
    return out


def plan_speculation(program: KernelProgram, folds: Folds, max_registers: int = 16) -> Speculation:
    readers = _readers(program)
    top = program.kernels
    plans: list[Speculated] = []
    extra = 0
    for i, s in enumerate(top):
        if not (isinstance(s, kp.Select) and s.is_int and s.x.index is None and s.n == 1):
            continue
        writers = [j for j in range(i) if s.x.buffer in written_names(top[j])]
        if not writers:
            continue
        k = top[writers[-1]]
        if isinstance(k, kp.Loop | kp.IntOp | kp.Select | kp.Argmax | kp.Sgn) or k.out != s.x.buffer:
            continue
        regs = set(k.registers_read())
        if isinstance(k, kp.Window) or len(regs) != 1 or readers.get(k.out, []) != [s]:
            continue
        reg = regs.pop()
        cond = folds.known.get(id(k), {}).get(reg)
        if cond is None or folds.known.get(id(s), {}).get(reg) != cond:
            continue  # the register, or the word its Select compared, changed in between
        ops = [_value(v, folds.known[id(s)], reg, cond) for v in (s.a, s.b)]
        if None in ops or len(program.registers) + extra + 2 > max_registers:
            continue
        (aa, ab), (ba, bb) = ops
        names = (f"{s.out}.if", f"{s.out}.else")
        plans.append(Speculated(k, reg, cond, s, ((aa, ba), (ab, bb)), names))
        extra += 2
    if not plans:
        return NO_SPECULATION
    return Speculation(
        {id(p.kernel): p for p in plans},
        {id(p.select): p for p in plans},
        _dead(program, folds, plans, readers),
    )


def _dead(program: KernelProgram, folds: Folds, plans: list[Speculated], readers) -> frozenset[int]:
    """Register kernels whose register no emitted kernel reads once the Selects are speculated:
    a speculated Select reads its condition's word (and the register that indexes it), a folded
    IntOp likewise, the copies of K no register at all."""
    emitted_reads: dict[int, set[str]] = {id(p.kernel): set() for p in plans}
    for p in plans:
        emitted_reads[id(p.select)] = {p.cond.x.index} - {None}
    for i, f in folds.selects.items():
        emitted_reads[i] = {f.x.index} - {None}
    writers: dict[str, list[kp.Kernel]] = {}
    for k in program.walk():
        if isinstance(k, kp.IntOp) or (isinstance(k, kp.Select) and k.is_int):
            writers.setdefault(k.out, []).append(k)
    dead = set(folds.dead)
    changed = True
    while changed:
        changed = False
        for reg, ws in writers.items():
            if reg == program.output or len(ws) != 1 or id(ws[0]) in dead:
                continue
            live = [
                r
                for r in readers.get(reg, [])
                if id(r) not in dead and reg in emitted_reads.get(id(r), {reg})
            ]
            if not live:
                dead.add(id(ws[0]))
                changed = True
    return frozenset(dead)


class SpeculativeKernels:
    """A mixin of the compiler: emits a speculated kernel's copies and its Select's three."""

    def speculated(self, k: kp.Kernel) -> bool:
        """Emit ``k`` as speculated (True), or leave it to its own emitter (False)."""
        plan = self.spec.by_kernel.get(id(k)) or self.spec.by_select.get(id(k))
        if plan is None or self.view is not None:
            return False
        if k is plan.kernel:
            for value, loc in zip((plan.cond.a, plan.cond.b), self._spec_words(plan), strict=True):
                self.view = View(plan.reg, value, None, {k.out: loc})
                getattr(self, "k_" + type(k).__name__)(k)
            self.view = None
            return True
        s = plan.select
        for value, (oa, ob), reg, loc in zip(
            (plan.cond.a, plan.cond.b), plan.operands, plan.regs, self._spec_words(plan), strict=True
        ):
            self.view = View(plan.reg, value, None, {plan.kernel.out: loc})
            self._select(s, s.x, s.threshold, reg, (0, oa), (0, ob), ())
        self.view = None
        c, (ra, rb) = plan.cond, plan.regs
        self._select(s, c.x, c.threshold, s.out, (1, self.img.regs[ra]), (1, self.img.regs[rb]), (ra, rb))
        return True

    def _spec_words(self, plan: Speculated) -> tuple:
        """The two copies' words of K's result: after the RAM's last word (allocated once)."""
        words = self.spec_words.get(id(plan.kernel))
        if words is None:
            loc = self.locs[plan.kernel.out]
            size = self.bufs[plan.kernel.out].size * loc.scale
            words = []
            for _ in range(2):
                words.append(type(loc)(Src.RAM, self.img.ram_depth, loc.scale))
                self.img.ram_depth += size
            words = self.spec_words[id(plan.kernel)] = tuple(words)
        return words

    def _select(self, k: kp.Select, x: Ref, threshold: int, out: str, a, b, post) -> None:
        """``out`` = x[0] >= threshold ? a : b, with a and b (is register, value) pairs."""
        lx, x0, rx = self.ref(x)
        g = self.geom(1, 1, 1, 1)
        self.emit(
            k,
            self.use(k, Op.SELECT, (x,), reg_out=out, regs_post=post),
            op=Op.SELECT,
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(x0, 0, 0, 0, lx.scale, g=g, **rx),
            a_src=lx.space,
            b_src=Src.IMM,
            dst=self.img.regs[out],
            imm=threshold,
            opa_reg=a[0],
            opa=a[1],
            opb_reg=b[0],
            opb=b[1],
        )
