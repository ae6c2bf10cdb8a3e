"""THE definition of the fixed-point program: a bit-exact, batched numpy interpreter.

All arithmetic is done on int64 arrays holding exactly the integers the C, RTL and HLS backends
compute. Wherever a backend computes in the 32-bit ``wide`` type, ``_fits`` checks the value fits,
so a compiler bug that would overflow on a target fails here, loudly, instead of wrapping there.
Saturations are counted per kernel (over all rows and iterations) for the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram, Ref
from hlsfix.ir.interp import conv_taps

# ------------------------------------------------------------------------------------------------
# Integer primitives, shared by every kernel (the C library's hlsfix_arith.h mirrors these).


def sat_bounds(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def shr(v: np.ndarray, s: int) -> np.ndarray:
    """Arithmetic (floor) right shift; shifts past the width give 0 or −1, as floor does."""
    return v >> min(s, 63)  # numpy, like C, leaves shifts of 64 and more undefined


def saturate(v: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    lo, hi = sat_bounds(bits)
    clipped = np.clip(v, lo, hi)
    return clipped, int(np.count_nonzero(clipped != v))


def rescale_sat(v: np.ndarray, s: int, bits: int) -> tuple[np.ndarray, int]:
    """sat(floor(v · 2^-s)) to ``bits``: a right shift for s ≥ 0, a saturating left shift else."""
    if s >= 0:
        return saturate(shr(v, s), bits)
    lo, hi = sat_bounds(bits)
    left = -s
    if left >= bits:
        out = np.where(v > 0, hi, np.where(v < 0, lo, 0))
        return out, int(np.count_nonzero(v != 0))
    hi_in, lo_in = hi >> left, -((-lo) >> left)
    out = np.where(v > hi_in, hi, np.where(v < lo_in, lo, v << left))
    return out, int(np.count_nonzero((v > hi_in) | (v < lo_in)))


def round_const(s: int, rnd: bool) -> int:
    """The rounding constant of a kernel's final right shift by ``s``: 2^(s-1) where the kernel
    rounds (``round_out``) and s ≥ 1, else 0. Added in the wide type before the floor shift, it
    gives round to nearest with ties towards +∞, for negative values too:
    (5 + 2) >> 2 = 1 (1.25 → 1), (6 + 2) >> 2 = 2 (1.5 → 2), (-6 + 2) >> 2 = -1 (-1.5 → -1),
    (-7 + 2) >> 2 = -2 (-1.75 → -2). Saturation comes after, as for a floor shift."""
    return 1 << (s - 1) if rnd and s >= 1 else 0


def shift_exact(v: np.ndarray, s: int) -> np.ndarray:
    """v · 2^s for s ≥ 0 (the compiler guarantees it fits), floor(v · 2^s) for s < 0."""
    return v << s if s >= 0 else shr(v, -s)


class WideOverflow(AssertionError):
    """A compiler bug: a value the targets hold in the wide type does not fit it."""


def _fits(v: np.ndarray, wide: int, what: str) -> np.ndarray:
    lo, hi = sat_bounds(wide)
    if v.size and (v.min() < lo or v.max() > hi):
        raise WideOverflow(f"{what}: intermediate outside int{wide} ({v.min()}, {v.max()})")
    return v


# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoldenResult:
    output: np.ndarray  # (N,) classes, or (N, size) integers of the output buffer
    saturations: tuple[int, ...]  # per kernel, in walk order
    buffers: Mapping[str, np.ndarray]  # final contents (for debugging and backend tests)


class Golden:
    def __init__(self, program: KernelProgram) -> None:
        self.p = program
        self.bufs = {b.name: b for b in program.buffers}
        self.ids = {id(k): i for i, k in enumerate(program.walk())}

    def run(self, x_q: np.ndarray, *, keep_buffers: bool = False) -> GoldenResult:
        self.begin(x_q)
        self.block(self.p.kernels)
        if self.p.output_is_class:
            out = np.broadcast_to(self.regs[self.p.output], (self.n,)).copy()
        else:
            out = np.broadcast_to(self.mem[self.p.output], (self.n, self.mem[self.p.output].shape[1])).copy()
        n_kernels = len(self.ids)
        sats = tuple(self.sat[i] for i in range(n_kernels))
        return GoldenResult(out, sats, dict(self.mem) if keep_buffers else {})

    def begin(self, x_q: np.ndarray) -> None:
        """Set up the state of a run on the rows of ``x_q``; ``block`` then executes kernels on
        it (``mem`` and ``regs`` hold every buffer and register, one row per input)."""
        x_q = np.asarray(x_q, dtype=np.int64)
        inb = self.p.input_buffer
        x_q = x_q.reshape(x_q.shape[0], inb.size)
        lo, hi = sat_bounds(inb.fmt.bits)
        if x_q.size and (x_q.min() < lo or x_q.max() > hi):
            raise ValueError(f"input integers must fit int{inb.fmt.bits}")
        self.n = x_q.shape[0]
        self.mem: dict[str, np.ndarray] = {inb.name: x_q}
        for name, data in self.p.constants.items():
            self.mem[name] = np.asarray(data, dtype=np.int64).reshape(1, -1)
        self.regs: dict[str, np.ndarray] = {}
        self.sat: Counter[int] = Counter()

    # -- memory ---------------------------------------------------------------------------------
    def read(self, ref: Ref) -> np.ndarray:
        base = self.mem[ref.buffer]
        if ref.index is None:
            return base[:, ref.offset : ref.offset + ref.length]
        idx = self.regs[ref.index]
        start = ref.offset + ref.stride * idx
        if idx.shape[0] == 1:
            s = int(start[0])
            return base[:, s : s + ref.length]
        cols = start[:, None] + np.arange(ref.length)
        if base.shape[0] == 1:
            return base[0][cols]
        return np.take_along_axis(base, cols, axis=1)

    def write(self, k: kp.Kernel, name: str, value: np.ndarray, saturations: int = 0) -> None:
        self.mem[name] = value.reshape(value.shape[0], -1)
        if saturations:
            self.sat[self.ids[id(k)]] += saturations

    def operand(self, v: kp.IntOperand) -> np.ndarray:
        return np.array([v], dtype=np.int64) if isinstance(v, int) else self.regs[v]

    def out_bits(self, name: str) -> int:
        return self.bufs[name].fmt.bits

    # -- kernels --------------------------------------------------------------------------------
    def block(self, kernels: tuple[kp.Kernel, ...]) -> None:
        for k in kernels:
            getattr(self, "k_" + type(k).__name__)(k)

    def _finish(self, k: kp.Kernel, acc: np.ndarray, shift: int, out: str, wide: int = 64) -> None:
        rc = round_const(shift, getattr(k, "round_out", False))
        if rc:
            acc = _fits(acc + rc, wide, "rounded value")
        value, n_sat = rescale_sat(acc, shift, self.out_bits(out))
        self.write(k, out, value, n_sat)

    def k_MatMul(self, k: kp.MatMul) -> None:
        a = self.read(k.a).reshape(-1, k.m, k.k)
        b = self.read(k.b).reshape(-1, k.k, k.n)
        prods = _fits(a[:, :, :, None] * b[:, None, :, :], k.wide, "matmul product")
        acc = _fits(shr(prods, k.prod_shift).sum(axis=2), k.wide, "matmul accumulator")
        self._finish(k, acc, k.out_shift, k.out, k.wide)

    def k_SparseMatVec(self, k: kp.SparseMatVec) -> None:
        vals = self.mem[k.values][0]
        rows = self.mem[k.row_index][0]
        starts = self.mem[k.col_start][0]
        x = self.read(k.x)
        cols = np.repeat(np.arange(k.cols), np.diff(starts))
        prods = shr(vals[None, :] * x[:, cols], k.prod_shift)
        acc = np.zeros((x.shape[0], k.rows), dtype=np.int64)
        for r in range(k.rows):  # rows are few; the per-row sum keeps this exact and vectorised
            acc[:, r] = prods[:, rows == r].sum(axis=1)
        self._finish(k, _fits(acc, k.wide, "sparse accumulator"), k.out_shift, k.out, k.wide)

    def k_Conv2d(self, k: kp.Conv2d) -> None:
        cout = k.filter_shape[-1]
        x = self.read(k.x).reshape(-1, *k.in_shape)
        f = self.read(k.filters).reshape(-1, *k.filter_shape)[0]
        _, taps = conv_taps(x, k.filter_shape, k.pads, k.strides, k.dilations)
        acc = np.zeros((x.shape[0], *k.out_shape), dtype=np.int64)
        # Without a product shift a tap is a matrix product; in float64 (BLAS) it is exact while
        # every partial sum stays below 2^53, and faster than numpy's integer matmul.
        exact_in_float = (
            int(np.abs(x).max(initial=0)) * int(np.abs(f).max(initial=0)) * k.filter_shape[3] < 1 << 53
        )
        for gi, i, j, patch in taps:
            wts = f[gi, i, j]  # (CIN/G, COUT): this group's filters at tap (i, j)
            if k.prod_shift == 0 and exact_in_float:
                prod = patch.astype(np.float64) @ wts.astype(np.float64)
                acc[..., gi * cout : (gi + 1) * cout] += prod.astype(np.int64)
            elif k.prod_shift == 0:  # exact either way; a matrix product is faster
                acc[..., gi * cout : (gi + 1) * cout] += patch @ wts
            elif exact_in_float:
                # floor(a·w / 2^s) in float64: a·(w·2^-s) is exact (a power-of-two scale and
                # |a·w| < 2^53), and so are floor and the sums; the same integers, faster.
                prods = patch.astype(np.float64)[..., :, None] * (wts * 2.0**-k.prod_shift)
                np.floor(prods, out=prods)
                acc[..., gi * cout : (gi + 1) * cout] += prods.sum(axis=-2).astype(np.int64)
            else:
                prods = patch[..., :, None] * wts
                acc[..., gi * cout : (gi + 1) * cout] += shr(prods, k.prod_shift).sum(axis=-2)
        self._finish(k, _fits(acc, k.wide, "conv accumulator"), k.out_shift, k.out, k.wide)

    def _broadcast_b(self, a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
        if mode == "scalar":
            return b[:, :1]
        if mode == "lastdim":
            reps = a.shape[1] // b.shape[1]
            return np.tile(b, (1, reps))
        return b

    def k_AddSub(self, k: kp.AddSub) -> None:
        a = _fits(shift_exact(self.read(k.a), k.a_shift), k.wide, "aligned add/sub operand")
        b = _fits(shift_exact(self.read(k.b), k.b_shift), k.wide, "aligned add/sub operand")
        b = self._broadcast_b(a, b, k.b_mode)
        if k.subtract:
            total = b - a if k.b_first else a - b
        else:
            total = a + b
        self._finish(k, _fits(total, k.wide, "add/sub"), k.out_shift, k.out, k.wide)

    def k_Mul(self, k: kp.Mul) -> None:
        a = self.read(k.a)
        b = self._broadcast_b(a, self.read(k.b), k.b_mode)
        self._finish(k, _fits(a * b, k.wide, "product"), k.out_shift, k.out, k.wide)

    def k_Rescale(self, k: kp.Rescale) -> None:
        x = self.read(k.x)
        wide = 64 if self.bufs[k.x.buffer].fmt.bits == 32 else 32  # as the C backends compute it
        self._finish(k, -x if k.negate else x, k.shift, k.out, wide)

    def k_Clamp(self, k: kp.Clamp) -> None:
        x = self.read(k.x)
        lo = -(1 << 62) if k.lo is None else k.lo
        hi = (1 << 62) if k.hi is None else k.hi
        self.write(k, k.out, np.clip(x, lo, hi))

    def k_Permute(self, k: kp.Permute) -> None:
        x = self.read(k.x).reshape(-1, *k.in_shape)
        out = np.transpose(x, (0, *(p + 1 for p in k.perm)))
        self.write(k, k.out, out.reshape(out.shape[0], -1))

    def k_Window(self, k: kp.Window) -> None:
        x = self.read(k.x).reshape(-1, *k.in_shape)
        starts = [np.broadcast_to(self.operand(s), (max(self.n, 1),)) for s in k.starts]
        rows = []
        for r in range(self.n):
            src = x[r if x.shape[0] > 1 else 0]
            window = tuple(slice(int(s[r]), int(s[r]) + n) for s, n in zip(starts, k.sizes, strict=True))
            rows.append(src[window].reshape(-1))
        self.write(k, k.out, np.stack(rows))

    def k_MaxPool(self, k: kp.MaxPool) -> None:
        n, h, w, c = k.in_shape
        (pt, pb, pl, pr), (kh, kw), (sh, sw) = k.pads, k.kernel, k.strides
        _, ho, wo, _ = k.out_shape
        lo, _ = sat_bounds(self.bufs[k.out].fmt.bits)
        x = self.read(k.x).reshape(-1, n, h, w, c)
        xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=lo)
        out = None
        for i in range(kh):
            for j in range(kw):
                win = xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw, :]
                out = win if out is None else np.maximum(out, win)
        assert out is not None
        self.write(k, k.out, out.reshape(out.shape[0], -1))

    def _exp_by_tables(
        self,
        y: np.ndarray,
        k_bits: int,
        t: int,
        hi: str,
        lo: str,
        shift: int,
        wide: int,
        out_bits: int | None,
    ) -> tuple[np.ndarray, int]:
        y = np.minimum(shr(np.maximum(y, 0), k_bits), (1 << (2 * t)) - 1)
        a, b = y >> t, y & ((1 << t) - 1)
        prod = _fits(self.mem[hi][0][a] * self.mem[lo][0][b], wide, "table product")
        if out_bits is None:
            return shr(prod, shift), 0
        return rescale_sat(prod, shift, out_bits)

    def k_Exp(self, k: kp.Exp) -> None:
        x = self.read(k.x)
        y = _fits(k.x_top - x, k.wide, "exp argument")
        value, n_sat = self._exp_by_tables(
            y, k.k, k.t, k.hi, k.lo, k.table_shift, k.wide, self.out_bits(k.out)
        )
        self.write(k, k.out, value, n_sat)

    def k_SigmoidTanh(self, k: kp.SigmoidTanh) -> None:
        x = self.read(k.x)
        u = shift_exact(np.abs(x), -k.arg_shift)  # arg_shift < 0 doubles |x| for tanh
        e, _ = self._exp_by_tables(u, k.k, k.t, k.hi, k.lo, k.table_shift, k.wide, None)
        one = 1 << k.e_frac
        den = one + e
        if k.fn == "sigmoid":
            num = np.where(x >= 0, one, e) << k.out_frac
            q = _fits(num, k.wide, "sigmoid numerator") // den
        else:
            q = _fits((one - e) << k.out_frac, k.wide, "tanh numerator") // den
            q = np.where(x < 0, -q, q)
        value, n_sat = saturate(q, self.out_bits(k.out))
        self.write(k, k.out, value, n_sat)

    def k_HardSigmoidTanh(self, k: kp.HardSigmoidTanh) -> None:
        x = self.read(k.x)
        v, _ = rescale_sat(x, k.shift, k.wide - 2)  # headroom for + half in the wide type
        v = np.clip(v + k.half, k.lo, k.hi)
        value, n_sat = saturate(v, self.out_bits(k.out))
        self.write(k, k.out, value, n_sat)

    def k_Fill(self, k: kp.Fill) -> None:
        value, n_sat = saturate(
            np.full((1, self.bufs[k.out].size), k.value, dtype=np.int64), self.out_bits(k.out)
        )
        self.write(k, k.out, value, n_sat)

    def k_Argmax(self, k: kp.Argmax) -> None:
        self.regs[k.out] = np.argmax(self.read(k.x), axis=1).astype(np.int64)

    def k_Sgn(self, k: kp.Sgn) -> None:
        self.regs[k.out] = (self.read(k.x)[:, 0] > 0).astype(np.int64)

    def k_IntOp(self, k: kp.IntOp) -> None:
        a, b = self.operand(k.a), self.operand(k.b)
        self.regs[k.out] = {"+": a + b, "-": a - b, "*": a * b, "=": a + 0 * b}[k.op]

    def k_Select(self, k: kp.Select) -> None:
        take_a = self.read(k.x)[:, 0] >= k.threshold
        if k.is_int:
            self.regs[k.out] = np.where(take_a, self.operand(k.a), self.operand(k.b))
        else:
            a = self.read(Ref(str(k.a), k.n))
            b = self.read(Ref(str(k.b), k.n))
            self.write(k, k.out, np.where(take_a[:, None], a, b))

    def k_Loop(self, k: kp.Loop) -> None:
        for i in range(k.start, k.stop):
            self.regs[k.index] = np.array([i], dtype=np.int64)
            self.block(k.body)
        # As after a C for loop: the index has stepped past the range.
        self.regs[k.index] = np.array([k.stop], dtype=np.int64)


def run_golden(program: KernelProgram, x_q: np.ndarray, *, keep_buffers: bool = False) -> GoldenResult:
    return Golden(program).run(x_q, keep_buffers=keep_buffers)


def quantize_input(program: KernelProgram, x: np.ndarray) -> np.ndarray:
    """Real input rows → the input buffer's integers (round to nearest, saturate): the same rule
    as the generated entry points that take a float input."""
    fmt = program.input_buffer.fmt
    q = np.floor(np.asarray(x, dtype=np.float64).reshape(len(x), -1) * 2.0**fmt.frac + 0.5)
    return np.clip(q, fmt.qmin, fmt.qmax).astype(np.int64)
