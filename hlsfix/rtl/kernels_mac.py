"""Kernel emitters of the multiply/reduce and gather kernels (MatMul, SparseMatVec, Conv2d,
MaxPool, Permute, Window): each maps one kernel onto the loop nest of ``isa.py``, with its entry
table (sparse non-zeros dealt to lanes by non-zeros, or gather columns). A mixin of the compiler.
"""

from __future__ import annotations

import dataclasses
import math

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import Ref
from hlsfix.rtl.bank_order import bank_free_gathers, bank_free_rows
from hlsfix.rtl.image import UnsupportedKernel
from hlsfix.rtl.image import stream as _stream
from hlsfix.rtl.isa import Op, Src


class MacKernels:
    def mac_tail(self, k, name: str, prod_shift: int, out_shift: int) -> dict:
        return {
            "op": Op.MAC,
            "ps": prod_shift,
            "out_shift": out_shift,
            "out_bits": self.bufs[name].fmt.bits,
            "rnd": int(k.round_out),
        }

    def k_MatMul(self, k: kp.MatMul) -> None:
        if k.m == 1 and k.k > 1 and self.P > 1:
            self.split_matmul(k)
            return
        # A matrix times a vector whose rows leave the last chunk of lanes part idle: those rows
        # as split dot products (each dealt across the lanes) where that takes fewer beats.
        # (All of them when there are fewer rows than lanes: Bonsai's node vectors, cones.py.)
        tail = k.m % self.P if k.n == 1 and k.m > 1 else 0
        if tail and tail * -(-k.k // self.P) < k.k:
            if k.m > tail:
                self.matmul_rows(k, 0, k.m - tail)
            self.split_rows(k, k.m - tail, tail)
            return
        self.matmul_rows(k, 0, k.m)

    def part(self, k: kp.MatMul, first: int, rows: int, latency: int = 0):
        """The use of rows ``first`` .. ``first + rows`` of ``k`` (its writes: those rows)."""
        lo = self.out(k.out)
        use = self.use(k, Op.MAC, (k.a, k.b), k.out, latency=latency)
        if rows == k.m or use.ram_write is None:
            return use
        row = k.n * lo.scale
        return dataclasses.replace(use, ram_write=(lo.base + first * row, lo.base + (first + rows) * row))

    def matmul_rows(self, k: kp.MatMul, first: int, rows: int) -> None:
        """Rows ``first`` .. of ``k``'s result, one per lane (chunks of P rows)."""
        g = self.geom(k.n, rows, 1, k.k)
        la, a0, ra = self.ref(k.a)
        lb, b0, rb = self.ref(k.b)
        lo = self.out(k.out)
        self.emit(
            k,
            self.part(k, first, rows),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(a0 + first * k.k * la.scale, 0, k.k * la.scale, 0, la.scale, g=g, **ra),
            b=_stream(b0, lb.scale, 0, 0, k.n * lb.scale, g=g, **rb),
            o=_stream(lo.base + first * k.n * lo.scale, lo.scale, k.n * lo.scale, g=g),
            a_src=la.space,
            b_src=lb.space,
            **self.mac_tail(k, k.out, k.prod_shift, k.out_shift),
        )

    def split_rows(self, k: kp.MatMul, first: int, rows: int) -> None:
        """Rows ``first`` .. of a matrix times a vector, each row's dot product dealt across the
        lanes (lane p takes terms p, p + P, …) and summed by the adder tree (latency class 1)."""
        P = self.P
        beats = -(-k.k // P)
        g = {"n1": rows, "n0": 1, "chunks": 1, "m1": 1, "m0": beats, "lanes": P}
        la, a0, ra = self.ref(k.a)
        lb, b0, rb = self.ref(k.b)
        lo = self.out(k.out)
        self.emit(
            k,
            self.part(k, first, rows, latency=1),
            **{kk: v for kk, v in g.items() if kk != "lanes"},
            a=_stream(
                a0 + first * k.k * la.scale, k.k * la.scale, 0, 0, P * la.scale, g=g, lane=la.scale, **ra
            ),
            b=_stream(b0, 0, 0, 0, P * lb.scale, g=g, lane=lb.scale, **rb),
            o=_stream(lo.base + first * lo.scale, lo.scale, 0, g=g, lane=0),
            a_src=la.space,
            b_src=lb.space,
            split=1,
            split_rem=k.k - (beats - 1) * P,
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
        # Row r to lane (r · scale) mod P where that is as fast: lane p then always writes bank
        # p + base, a rotation of the lanes (``rotation.py``) instead of the write crossbar. Else
        # the load's rows, each lane's set given the lane (and order) in which the lanes finishing
        # rows together are one rotation apart, where one is found (``bank_free_rows``).
        by_bank: list[list[int]] = [[] for _ in range(self.P)]
        for r in by_row:
            by_bank[(r * lo.scale) % self.P].append(r)
        if max(sum(max(1, len(by_row[r])) for r in rows) for rows in by_bank) <= max(load):
            owned = by_bank
        lists = []
        lengths = {r: len(nz) for r, nz in by_row.items()}
        for rows in bank_free_rows(owned, lengths, lo.scale):
            ents = []
            for r in rows:
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
        lists = bank_free_gathers(lists)  # the gather of x shares one copy of the banks where it can
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
        if groups > 1 and cin_g == cout == 1:
            # Depthwise (one input and one output channel per group): one kernel with the channels
            # across the lanes, as MaxPool's, each lane reading its own channel of the same pixels
            # and its own taps (filters [G, HF, WF, 1, 1]). Group by group, the lanes would share
            # a group's one output channel and all but one would idle.
            g = self.geom(n * ho * wo, groups, taps, 1)
            parts = [
                (
                    _stream(x0, 0, lx.scale, g=g, **rx),
                    _stream(f0, 0, taps * lf.scale, lf.scale, 0, g=g, **rf),
                    _stream(lo.base, groups * lo.scale, lo.scale, g=g),
                )
            ]
        else:  # a kernel per group, its output channels across the lanes
            g = self.geom(n * ho * wo, cout, taps, cin_g)
            parts = [
                (
                    _stream(x0 + gi * cin_g * lx.scale, 0, 0, 0, lx.scale, g=g, lane=0, **rx),
                    _stream(
                        f0 + gi * taps * cin_g * cout * lf.scale,
                        0,
                        lf.scale,
                        cin_g * cout * lf.scale,
                        cout * lf.scale,
                        g=g,
                        **rf,
                    ),
                    _stream(lo.base + gi * cout * lo.scale, groups * cout * lo.scale, lo.scale, g=g),
                )
                for gi in range(groups)
            ]
        for a, b, o in parts:
            self.emit(
                k,
                self.use(k, Op.MAC, (k.x, k.filters), k.out),
                **{kk: v for kk, v in g.items() if kk != "lanes"},
                x=_stream(tb, taps, 0, 1, 0, g=g, lane=0),
                a=a,
                a_ind=1,
                a_src=lx.space,
                b=b,
                b_src=lf.space,
                o=o,
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
