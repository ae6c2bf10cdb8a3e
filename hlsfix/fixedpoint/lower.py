"""Lowering: float Graph + formats → KernelProgram.

Every shift, accumulator width and table is decided here. Views (indexing, vector transposes,
identity reshapes) become ``Ref``s into existing buffers instead of copies; loops and sums stay
loops; parameters become quantised constants (sparse ones column-compressed).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.profile import Profile
from hlsfix.fixedpoint.program import Buffer, Format, IntOperand, KernelProgram, Ref
from hlsfix.fixedpoint.round_fold import fold_rounding
from hlsfix.fixedpoint.tables import exp_tables
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph
from hlsfix.ir.types import Block

Activation = Literal["table", "linear"]
LN2 = math.log(2.0)
# exp/sigmoid/tanh arguments beyond this magnitude change the result by less than 2^-16 (tables).
SQUASH_SPAN = 16.0


@dataclass(frozen=True)
class LowerOptions:
    activation: Activation = "table"
    round_fold: bool = True  # round-to-nearest folded into the constants of 8-bit adds (round_fold.py)
    round_flags: bool = True  # and the round_out flag on the other 8-bit kernels that shift right


def quantize(values: np.ndarray, fmt: Format) -> np.ndarray:
    q = np.floor(np.asarray(values, dtype=np.float64) * 2.0**fmt.frac + 0.5)
    return np.clip(q, fmt.qmin, fmt.qmax).astype(np.int64)


def wide_for(*bits: int) -> int:
    return 64 if max(bits) == 32 else 32


def prod_shift_for(bound: float, terms: int, wide: int) -> int:
    """Smallest right shift of each product so that a sum of ``terms`` of them (each floored,
    so up to 1 further in magnitude) can never leave the wide type."""
    limit = 2 ** (wide - 1) - 1
    s = 0
    while bound / 2**s + terms > limit:
        s += 1
    return s


def _c_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class Lowerer:
    def __init__(
        self, graph: Graph, fmts: Mapping[str, Format], prof: Profile, options: LowerOptions
    ) -> None:
        self.g = graph
        self.fmts = fmts
        self.prof = prof
        self.opt = options
        self.refs: dict[str, Ref] = {}
        self.ints: dict[str, IntOperand] = {}
        self.buffers: dict[str, Buffer] = {}
        self.constants: dict[str, np.ndarray] = {}
        self.registers: list[str] = []
        self.stack: list[list[kp.Kernel]] = [[]]
        self.label_of: dict[int, str] = {}
        self.current_label = ""

    # -- storage ---------------------------------------------------------------------------------
    def quantize(self, values: np.ndarray, fmt: Format) -> np.ndarray:
        """Real values → what is stored for them (the float lowering keeps the reals)."""
        return quantize(values, fmt)

    def new_buffer(self, hint: str, shape: tuple[int, ...], fmt: Format, kind: kp.BufferKind = "temp") -> str:
        name = base = _c_name(hint)
        n = 1
        while name in self.buffers:
            name, n = f"{base}_{n}", n + 1
        self.buffers[name] = Buffer(name, tuple(shape), fmt, kind)
        return name

    def new_const(self, hint: str, data: np.ndarray, fmt: Format) -> str:
        name = self.new_buffer(hint, tuple(np.shape(data)) or (1,), fmt, "const")
        self.constants[name] = np.asarray(data, dtype=np.int64).reshape(-1)
        return name

    def new_register(self, hint: str) -> str:
        name = base = "r_" + _c_name(hint)
        n = 1
        while name in self.registers:
            name, n = f"{base}_{n}", n + 1
        self.registers.append(name)
        return name

    def emit(self, kernel: kp.Kernel) -> None:
        self.stack[-1].append(kernel)
        self.label_of[id(kernel)] = self.current_label

    def ref(self, value: str) -> Ref:
        return self.refs[value]

    def fmt_of(self, ref: Ref) -> Format:
        return self.buffers[ref.buffer].fmt

    def const_slices(self, ref: Ref) -> np.ndarray | None:
        """All values a view of a constant can show (one row per possible index), else None."""
        if self.buffers[ref.buffer].kind != "const":
            return None
        data = self.constants[ref.buffer]
        if ref.index is None:
            return data[ref.offset : ref.offset + ref.length][None]
        starts = range(ref.offset, data.size - ref.length + 1, ref.stride) if ref.stride else [ref.offset]
        return np.stack([data[s : s + ref.length] for s in starts])

    # -- driver ------------------------------------------------------------------------------------
    def run(self) -> KernelProgram:
        g = self.g
        x_fmt = self.fmts[g.input.name]
        self.buffers[g.input.name] = Buffer(g.input.name, g.input.shape, x_fmt, "input")
        self.refs[g.input.name] = Ref(g.input.name, g.input.size)
        for p in g.params:
            fmt = self.fmts[p.name]
            if p.sparse:
                self.refs[p.name] = Ref(p.name, math.prod(p.shape))  # resolved by SparseMatVec
            else:
                self.new_const(p.name, self.quantize(g.weights[p.name], fmt).reshape(p.shape), fmt)
                self.refs[p.name] = Ref(p.name, math.prod(p.shape))
        self.block(g.body)
        result = g.body.result
        if g.types[result].is_int:
            out = self.ints[result]
            if isinstance(out, int):
                reg = self.new_register("out")
                self.emit(kp.IntOp("=", out, 0, reg))
                out = reg
            output, is_class = out, True
        else:
            ref = self.refs[result]
            if ref.offset or ref.index or self.buffers[ref.buffer].kind != "temp":
                out_name = self.new_buffer("out", g.types[result].shape, self.fmt_of(ref))
                self.emit(kp.Rescale(ref, out_name, ref.length, 0))
                output = out_name
            else:
                output = ref.buffer
            is_class = False
        kernels = tuple(self.stack[0])
        labels = tuple(self.label_of.get(id(k), "") for k in kp.walk_kernels(kernels))
        used = {r.buffer for k in kp.walk_kernels(kernels) for r in k.reads()} | set(self.constants)
        buffers = tuple(b for b in self.buffers.values() if b.kind != "const" or b.name in used)
        return KernelProgram(
            name=g.name,
            bits="",
            input=g.input.name,
            output=output,
            output_is_class=is_class,
            buffers=buffers,
            kernels=kernels,
            registers=tuple(self.registers),
            constants={k: v for k, v in self.constants.items()},
            labels=labels,
        )

    def block(self, block: Block) -> None:
        for node in block.nodes:
            loc = f" (line {node.loc.line})" if node.loc else ""
            self.current_label = f"{node.out} = {type(node.op).__name__}{loc}"
            self.node(node.out, node.op)

    # -- ops ---------------------------------------------------------------------------------------
    def node(self, out: str, op: ops.Op) -> None:  # noqa: C901 - one case per op kind
        g, types = self.g, self.g.types
        if isinstance(op, ops.IntConst):
            self.ints[out] = op.value
        elif isinstance(op, ops.RealConst):
            fmt = self.fmts[out]
            name = self.new_const(out, self.quantize(np.array([op.value]), fmt), fmt)
            self.refs[out] = Ref(name, 1)
        elif isinstance(op, ops.Init):
            fmt = self.fmts[out]
            name = self.new_buffer(out, op.shape, fmt)
            self.emit(kp.Fill(name, self.quantize(np.array([op.value]), fmt)[0].item()))
            self.refs[out] = Ref(name, math.prod(op.shape))
        elif isinstance(op, ops.MatMul):
            self.matmul(out, op)
        elif isinstance(op, ops.SparseMatMul):
            self.sparse_matmul(out, op)
        elif isinstance(op, ops.ScalarMul):
            self.mul(out, self.ref(op.x), self.ref(op.scalar), "scalar")
        elif isinstance(op, ops.Elementwise):
            a, b = self.ref(op.a), self.ref(op.b)
            mode: kp.BroadcastMode = "full"
            b_first = False
            if a.length != b.length:
                mode = "scalar"
                if a.length == 1:
                    a, b, b_first = b, a, True
            if op.kind == "mul":
                self.mul(out, a, b, mode)
            else:
                self.addsub(out, a, b, op.kind == "sub", mode, b_first)
        elif isinstance(op, ops.BiasAdd):
            self.addsub(out, self.ref(op.x), self.ref(op.bias), op.subtract, "lastdim", False)
        elif isinstance(op, ops.Unary):
            self.unary(out, op)
        elif isinstance(op, ops.Transpose):
            src = self.ref(op.x)
            if 1 in types[op.x].shape:
                self.refs[out] = src
            else:
                self.permute(out, src, types[op.x].shape, (1, 0))
        elif isinstance(op, ops.Reshape):
            src = self.ref(op.x)
            perm = tuple(o - 1 for o in op.order)
            if perm == tuple(range(len(perm))):
                self.refs[out] = src
            else:
                self.permute(out, src, types[op.x].shape, perm)
        elif isinstance(op, ops.Index):
            self.index(out, op)
        elif isinstance(op, ops.Splice):
            src = self.materialize(op.x)
            name = self.new_buffer(out, types[out].shape, self.fmt_of(src))
            starts = tuple(self.ints[s] for s in op.starts)
            self.emit(kp.Window(src, name, types[op.x].shape, starts, op.sizes))
            self.refs[out] = Ref(name, types[out].size)
        elif isinstance(op, ops.Conv2d):
            self.conv2d(out, op)
        elif isinstance(op, ops.MaxPool):
            src = self.ref(op.x)
            name = self.new_buffer(out, types[out].shape, self.fmt_of(src))
            self.emit(
                kp.MaxPool(src, name, types[op.x].shape, types[out].shape, op.kernel, op.pads, op.strides)
            )
            self.refs[out] = Ref(name, types[out].size)
        elif isinstance(op, ops.Argmax):
            reg = self.new_register(out)
            self.emit(kp.Argmax(self.ref(op.x), reg))
            self.ints[out] = reg
        elif isinstance(op, ops.Sgn):
            reg = self.new_register(out)
            self.emit(kp.Sgn(self.ref(op.x), reg))
            self.ints[out] = reg
        elif isinstance(op, ops.IntBinary):
            a, b = self.ints[op.a], self.ints[op.b]
            if isinstance(a, int) and isinstance(b, int):
                self.ints[out] = {"+": a + b, "-": a - b, "*": a * b}[op.op]
            else:
                reg = self.new_register(out)
                self.emit(kp.IntOp(op.op, a, b, reg))
                self.ints[out] = reg
        elif isinstance(op, ops.Cond):
            self.cond(out, op)
        elif isinstance(op, ops.Sum):
            self.sum(out, op)
        elif isinstance(op, ops.Loop):
            self.loop(out, op)
        else:  # pragma: no cover
            raise AssertionError(f"cannot lower {type(op).__name__}")
        del g

    def materialize(self, value: str) -> Ref:
        """A view starting at offset 0 of a buffer of its own (copied if it is a strided view)."""
        ref = self.ref(value)
        if ref.index is None and ref.offset == 0 and self.buffers[ref.buffer].size == ref.length:
            return ref
        fmt = self.fmt_of(ref)
        name = self.new_buffer(value + "_copy", self.g.types[value].shape, fmt)
        self.emit(kp.Rescale(ref, name, ref.length, 0))
        return Ref(name, ref.length)

    def index(self, out: str, op: ops.Index) -> None:
        shape = self.g.types[op.x].shape
        row = math.prod(shape[1:])
        src = self.ref(op.x)
        i = self.ints[op.index]
        if isinstance(i, int):
            if not 0 <= i < shape[0]:
                raise AssertionError(f"index {i} outside 0..{shape[0] - 1}")  # type checker's job
            self.refs[out] = Ref(src.buffer, row, src.offset + i * row, src.index, src.stride)
            return
        if src.index is not None:
            src = self.materialize(op.x)
        self.refs[out] = Ref(src.buffer, row, src.offset, i, row)

    def permute(self, out: str, src: Ref, in_shape: tuple[int, ...], perm: tuple[int, ...]) -> None:
        name = self.new_buffer(out, self.g.types[out].shape, self.fmt_of(src))
        self.emit(kp.Permute(src, name, in_shape, perm))
        self.refs[out] = Ref(name, self.g.types[out].size)

    def _dot_bound(self, a: Ref, b: Ref, m: int, k: int, n: int) -> float:
        """Worst case of |Σ_k a·b| over every input: constants by their actual values, data by the
        full range of their integer type."""
        amax = float(1 << (self.fmt_of(a).bits - 1))
        bmax = float(1 << (self.fmt_of(b).bits - 1))
        ca, cb = self.const_slices(a), self.const_slices(b)
        if ca is not None:
            rows = np.abs(ca.reshape(-1, m, k)).sum(axis=2)
            return float(rows.max()) * bmax
        if cb is not None:
            cols = np.abs(cb.reshape(-1, k, n)).sum(axis=1)
            return float(cols.max()) * amax
        return k * amax * bmax

    def matmul(self, out: str, op: ops.MatMul) -> None:
        a, b = self.ref(op.a), self.ref(op.b)
        (m, k), n = self.g.types[op.a].shape, self.g.types[op.b].shape[1]
        fa, fb, fo = self.fmt_of(a), self.fmt_of(b), self.fmts[out]
        wide = wide_for(fa.bits, fb.bits, fo.bits)
        ps = prod_shift_for(self._dot_bound(a, b, m, k, n), k, wide)
        name = self.new_buffer(out, (m, n), fo)
        self.emit(kp.MatMul(a, b, name, m, k, n, ps, fa.frac + fb.frac - ps - fo.frac, wide))
        self.refs[out] = Ref(name, m * n)

    def sparse_matmul(self, out: str, op: ops.SparseMatMul) -> None:
        fw = self.fmts[op.matrix]
        q = self.quantize(self.g.weights[op.matrix], fw)
        rows, cols = q.shape
        values, row_index, col_start = [], [], [0]
        for c in range(cols):
            nz = np.nonzero(q[:, c])[0]
            values.extend(q[nz, c])
            row_index.extend(nz)
            col_start.append(len(values))
        nnz = len(values)
        if nnz == 0:  # keep one explicit zero so every backend has a non-empty array
            values, row_index, col_start = [0], [0], [0] + [1] * cols
        x = self.ref(op.vector)
        fx, fo = self.fmt_of(x), self.fmts[out]
        wide = wide_for(fw.bits, fx.bits, fo.bits)
        bound = float(np.abs(q).sum(axis=1).max()) * float(1 << (fx.bits - 1))
        ps = prod_shift_for(bound, max(nnz, 1), wide)
        vals = self.new_const(f"{op.matrix}_val", np.array(values), fw)
        idx_bits = 8 if rows <= 127 else 16
        ridx = self.new_const(f"{op.matrix}_row", np.array(row_index), Format(idx_bits, 0))
        cidx_bits = 8 if len(values) <= 127 else 16
        cstart = self.new_const(f"{op.matrix}_col", np.array(col_start), Format(cidx_bits, 0))
        name = self.new_buffer(out, (rows, 1), fo)
        self.emit(
            kp.SparseMatVec(
                vals,
                ridx,
                cstart,
                x,
                name,
                rows,
                cols,
                len(values),
                ps,
                fw.frac + fx.frac - ps - fo.frac,
                wide,
            )
        )
        self.refs[out] = Ref(name, rows)

    def conv2d(self, out: str, op: ops.Conv2d) -> None:
        x, f = self.materialize(op.x), self.ref(op.filters)
        in_shape, f_shape = self.g.types[op.x].shape, self.g.types[op.filters].shape
        out_shape = self.g.types[out].shape
        fx, ff, fo = self.fmt_of(x), self.fmt_of(f), self.fmts[out]
        wide = wide_for(fx.bits, ff.bits, fo.bits)
        g, hf, wf, cin_g, cout = f_shape
        terms = hf * wf * cin_g
        cf = self.const_slices(f)
        xmax = float(1 << (fx.bits - 1))
        if cf is not None:
            bound = float(np.abs(cf.reshape(-1, g, hf, wf, cin_g, cout)).sum(axis=(2, 3, 4)).max()) * xmax
        else:
            bound = terms * xmax * float(1 << (ff.bits - 1))
        ps = prod_shift_for(bound, terms, wide)
        name = self.new_buffer(out, out_shape, fo)
        self.emit(
            kp.Conv2d(
                x,
                f,
                name,
                in_shape,
                f_shape,
                out_shape,
                op.strides,
                op.pads,
                op.dilations,
                ps,
                fx.frac + ff.frac - ps - fo.frac,
                wide,
            )
        )
        self.refs[out] = Ref(name, math.prod(out_shape))

    def mul(self, out: str, a: Ref, b: Ref, mode: kp.BroadcastMode) -> None:
        fa, fb, fo = self.fmt_of(a), self.fmt_of(b), self.fmts[out]
        wide = wide_for(fa.bits, fb.bits, fo.bits)
        name = self.new_buffer(out, self.g.types[out].shape, fo)
        self.emit(kp.Mul(a, b, name, a.length, fa.frac + fb.frac - fo.frac, mode, wide))
        self.refs[out] = Ref(name, a.length)

    def addsub(self, out: str, a: Ref, b: Ref, subtract: bool, mode: kp.BroadcastMode, b_first: bool) -> None:
        fa, fb, fo = self.fmt_of(a), self.fmt_of(b), self.fmts[out]
        wide = wide_for(fa.bits, fb.bits, fo.bits)
        # A common scale: the finer of the two, unless shifting the coarser one up that far could
        # overflow the wide type (a sum of two needs one spare bit).
        common = min(max(fa.frac, fb.frac), fa.frac + wide - 2 - fa.bits, fb.frac + wide - 2 - fb.bits)
        name = self.new_buffer(out, self.g.types[out].shape, fo)
        self.emit(
            kp.AddSub(
                a,
                b,
                name,
                a.length,
                subtract,
                common - fa.frac,
                common - fb.frac,
                common - fo.frac,
                mode,
                b_first,
                wide,
            )
        )
        self.refs[out] = Ref(name, a.length)

    def unary(self, out: str, op: ops.Unary) -> None:
        x = self.ref(op.x)
        fx, fo = self.fmt_of(x), self.fmts[out]
        n = x.length
        shape = self.g.types[out].shape
        name = self.new_buffer(out, shape, fo)
        self.refs[out] = Ref(name, n)
        if op.fn == "relu":
            self.emit(kp.Clamp(x, name, n, 0, None))
        elif op.fn == "relu6":
            self.emit(kp.Clamp(x, name, n, 0, min(int(6 * 2**fx.frac), fx.qmax)))
        elif op.fn == "neg":
            self.emit(kp.Rescale(x, name, n, 0, negate=True))
        elif op.fn == "exp":
            self.exp(name, x, op.x, fx, fo)
        elif self.opt.activation == "linear":
            self.hard_squash(name, op.fn, x, fx, fo)
        else:
            self.squash(name, op.fn, x, op.x, fx, fo)

    def exp(self, name: str, x: Ref, value: str, fx: Format, fo: Format) -> None:
        r = self.prof[value]
        floor_arg = -(fo.frac + 1) * LN2  # below this e^x rounds to 0 at the output's scale
        lo = max(r.lo, min(r.hi, floor_arg))
        x_top = int(min(math.ceil(r.hi * 2**fx.frac), fx.qmax))
        span = max(1, x_top - math.floor(lo * 2**fx.frac))
        tables = exp_tables(x_top * 2.0**-fx.frac, fx.frac, span, fo.bits)
        tbits = 32 if fo.bits == 32 else 16
        hi = self.new_const(name + "_exp_hi", tables.hi, Format(tbits, tables.hi_frac))
        lo_t = self.new_const(name + "_exp_lo", tables.lo, Format(tbits, tables.lo_frac))
        wide = wide_for(fx.bits, fo.bits, tbits)
        shift = tables.hi_frac + tables.lo_frac - fo.frac
        self.emit(kp.Exp(x, name, x.length, x_top, tables.k, tables.t, hi, lo_t, shift, wide))

    def squash(
        self, name: str, fn: Literal["sigmoid", "tanh"], x: Ref, value: str, fx: Format, fo: Format
    ) -> None:
        arg_shift = -1 if fn == "tanh" else 0
        # The table only needs to reach as far as the argument was seen to go (capped where the
        # function is flat to 16 bits): a shorter span drops fewer low bits.
        seen = self.prof[value].max_abs * (2 if fn == "tanh" else 1) if value in self.prof.ranges else 0.0
        reach = min(max(seen, 1.0), SQUASH_SPAN)
        span = max(1, math.ceil(reach * 2**fx.frac))
        tables = exp_tables(0.0, fx.frac, span, fo.bits)
        tbits = 32 if fo.bits == 32 else 16
        hi = self.new_const(name + "_exp_hi", tables.hi, Format(tbits, tables.hi_frac))
        lo_t = self.new_const(name + "_exp_lo", tables.lo, Format(tbits, tables.lo_frac))
        wide = wide_for(fx.bits, fo.bits, tbits)
        e_frac = tables.lo_frac
        shift = tables.hi_frac + tables.lo_frac - e_frac
        self.emit(
            kp.SigmoidTanh(
                fn, x, name, x.length, arg_shift, tables.k, tables.t, hi, lo_t, shift, e_frac, fo.frac, wide
            )
        )

    def hard_squash(self, name: str, fn: Literal["sigmoid", "tanh"], x: Ref, fx: Format, fo: Format) -> None:
        one = 1 << fo.frac
        wide = wide_for(fx.bits, fo.bits)
        if fn == "tanh":
            self.emit(kp.HardSigmoidTanh(fn, x, name, x.length, fx.frac - fo.frac, 0, -one, one, wide))
        else:
            half = one >> 1
            self.emit(kp.HardSigmoidTanh(fn, x, name, x.length, fx.frac - fo.frac + 2, half, 0, one, wide))

    def cond(self, out: str, op: ops.Cond) -> None:
        x = self.ref(op.x)
        fx = self.fmt_of(x)
        threshold = math.ceil(op.threshold * 2**fx.frac)
        threshold = max(min(threshold, fx.qmax + 1), fx.qmin)
        if self.g.types[out].is_int:
            reg = self.new_register(out)
            self.emit(kp.Select(x, threshold, self.ints[op.a], self.ints[op.b], reg, True))
            self.ints[out] = reg
            return
        fo = self.fmts[out]
        branches = []
        for v in (op.a, op.b):
            r = self.materialize(v)
            if self.fmt_of(r) != fo:
                name = self.new_buffer(v + "_as_" + out, self.g.types[out].shape, fo)
                self.emit(kp.Rescale(r, name, r.length, self.fmt_of(r).frac - fo.frac))
                r = Ref(name, r.length)
            branches.append(r.buffer)
        name = self.new_buffer(out, self.g.types[out].shape, fo)
        self.emit(kp.Select(x, threshold, branches[0], branches[1], name, False, self.g.types[out].size))
        self.refs[out] = Ref(name, self.g.types[out].size)

    def sum(self, out: str, op: ops.Sum) -> None:
        fo = self.fmts[out]
        size = self.g.types[out].size
        acc = self.new_buffer(out, self.g.types[out].shape, fo)
        self.emit(kp.Fill(acc, 0))
        reg = self.new_register(op.index)
        self.ints[op.index] = reg
        self.stack.append([])
        self.block(op.body)
        term = self.ref(op.body.result)
        self.current_label = f"{out} += term"
        self.addsub_into(acc, term, fo, size)
        body = tuple(self.stack.pop())
        self.current_label = f"{out} = $({op.index} = [{op.start}:{op.stop}]) …"
        self.emit(kp.Loop(reg, op.start, op.stop, body))
        self.refs[out] = Ref(acc, size)

    def addsub_into(self, acc: str, term: Ref, fo: Format, size: int) -> None:
        ft = self.fmt_of(term)
        wide = wide_for(ft.bits, fo.bits)
        common = min(max(fo.frac, ft.frac), fo.frac + wide - 2 - fo.bits, ft.frac + wide - 2 - ft.bits)
        self.emit(
            kp.AddSub(
                Ref(acc, size),
                term,
                acc,
                size,
                False,
                common - fo.frac,
                common - ft.frac,
                common - fo.frac,
                "full",
                False,
                wide,
            )
        )

    def loop(self, out: str, op: ops.Loop) -> None:
        fo = self.fmts[out]
        size = self.g.types[out].size
        carried = self.new_buffer(op.carried, self.g.types[out].shape, fo)
        init = self.ref(op.init)
        self.emit(kp.Rescale(init, carried, size, self.fmt_of(init).frac - fo.frac))
        reg = self.new_register(op.index)
        self.ints[op.index] = reg
        self.refs[op.carried] = Ref(carried, size)
        self.stack.append([])
        self.block(op.body)
        result = self.ref(op.body.result)
        self.current_label = f"{op.carried} = next value"
        self.emit(kp.Rescale(result, carried, size, self.fmt_of(result).frac - fo.frac))
        body = tuple(self.stack.pop())
        self.current_label = f"{out} = loop({op.index} = [{op.start}:{op.stop}], {op.carried}) …"
        self.emit(kp.Loop(reg, op.start, op.stop, body))
        self.refs[out] = Ref(carried, size)


def lower(
    graph: Graph,
    fmts: Mapping[str, Format],
    prof: Profile,
    options: LowerOptions | None = None,
    bits_label: str = "16",
) -> KernelProgram:
    options = options or LowerOptions()
    program = Lowerer(graph, fmts, prof, options).run()
    if options.round_fold or options.round_flags:
        program = fold_rounding(program, fold=options.round_fold, flags=options.round_flags)
    return KernelProgram(
        name=program.name,
        bits=bits_label,
        input=program.input,
        output=program.output,
        output_is_class=program.output_is_class,
        buffers=program.buffers,
        kernels=program.kernels,
        registers=program.registers,
        constants=program.constants,
        labels=program.labels,
    )
