"""The C emitter's 8-bit kernel choices (a mixin of ``emit._Emitter``), for hlsfix_kernels8.h.

Each method returns True when it emitted the kernel in its 8-bit form, False when the kernel is not
one it handles (the emitter then takes the general variant):

* ``matvec8``: an 8-bit matrix times an 8- or 16-bit vector in RAM, one assembly dot-product loop;
* ``spmv_rows``: a sparse matrix with 8-bit values or input, re-laid out by rows (sparse_rows.py);
* ``conv2d_co``: an 8-bit convolution with few input channels, output channels innermost;
* ``lut8``: exp/sigmoid/tanh of an 8-bit operand, one table of its 256 results (lut8.py).

The C width of every sum comes from ``narrow.py`` (16 bits where proven).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hlsfix.backend_common import int_rows
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import round_const
from hlsfix.mcu.lut8 import Tabulable, activation_table, tabulable
from hlsfix.mcu.sparse_rows import row_layout, row_width

if TYPE_CHECKING:
    from hlsfix.fixedpoint.program import Buffer, Ref
    from hlsfix.mcu.narrow import Bounds

TOKENS = {8: "i8", 16: "i16", 32: "i32"}
# A matrix-vector product of at least this many products takes the MatVec8 loop (as MatVec16).
MATVEC8_MIN_PRODUCTS = 64
# The 8-bit convolution keeps one accumulator per output channel on the stack (4 bytes each at
# most) and pays off where a tap holds few input channels: with many, the read-modify-write of
# 32-bit accumulators in RAM costs more than the tap geometry it saves (measured on the zoo's cnn).
CONV_MAX_COUT = 32
CONV_CO_MAX_CIN = 2


def c_round(k: kp.Kernel, shift: int) -> str:
    """The kernel's rounding constant (golden.round_const) as the kernels' ``rc`` argument: 0, or
    a typed literal (on AVR a bare literal is a 16-bit int)."""
    rc = round_const(shift, getattr(k, "round_out", False))
    return f"INT{64 if rc >= 1 << 31 else 32}_C({rc})" if rc else "0"


class Emit8:
    bufs: dict[str, Buffer]
    bounds: Bounds
    extra_consts: dict[str, dict[str, object]]

    if TYPE_CHECKING:  # provided by the emitter

        def tok(self, buf: str) -> str: ...
        def space(self, buf: str) -> str: ...
        def view(self, ref: Ref) -> str: ...
        def cname(self, buf: str) -> str: ...
        def use(self, macro: str, *args: str) -> None: ...
        def call(self, text: str) -> None: ...
        def elementwise_alias(self, k: kp.Kernel, out: str) -> None: ...

    def add_const(self, name: str, bits: int, comment: str, data: np.ndarray) -> str:
        """A constant array the emitter derived from the program's (flash on AVR)."""
        self.extra_consts[name] = {
            "name": name,
            "ctype": f"int{bits}_t",
            "comment": comment,
            "rows": int_rows(data),
        }
        return name

    def matvec8(self, k: kp.MatMul, wide: int) -> bool:
        ta, sa, tb, sb = (
            self.tok(k.a.buffer),
            self.space(k.a.buffer),
            self.tok(k.b.buffer),
            self.space(k.b.buffer),
        )
        if not (
            k.n == 1
            and k.k >= 4
            and k.m * k.k >= MATVEC8_MIN_PRODUCTS
            and ta == "i8"
            and tb in ("i8", "i16")
            and sb == "r"
            and wide < 64
        ):
            return False
        to = self.tok(k.out)
        self.use("HLSFIX_DEF_MATVEC8", sa, tb, to, str(wide), str(k.prod_shift))
        self.call(
            f"hlsfix_matvec8_i8{sa}_{tb}_{to}_w{wide}_ps{k.prod_shift}({self.view(k.a)}, {self.view(k.b)}, "
            f"{self.cname(k.out)}, {k.m}, {k.k}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )
        return True

    def spmv_rows(self, k: kp.SparseMatVec) -> bool:
        tv, tx = self.tok(k.values), self.tok(k.x.buffer)
        if not (k.wide == 32 and {tv, tx} <= {"i8", "i16"} and "i8" in (tv, tx)):
            return False
        layout = row_layout(self.bounds.program, k)
        v_bits, x_bits = self.bufs[k.values].fmt.bits, self.bufs[k.x.buffer].fmt.bits
        x_max = self.bounds.abs_max(k.x.buffer)
        rc = round_const(k.out_shift, k.round_out)
        wide = row_width(layout, x_max, k.prod_shift, x_bits, v_bits, rc)
        if tv == tx == "i8" and layout.col_bits == 8 and self.space(k.x.buffer) == "r":
            # one stream of (value, column) byte pairs for the assembly row loop
            pairs = np.stack([layout.values, layout.cols], axis=1).reshape(-1)
            names = [
                self.add_const(f"k_{k.values}_rvc", 8, f"{k.values}: (value, column) row by row", pairs),
                self.add_const(
                    f"k_{k.values}_rs", 16, f"{k.values}: where each row starts", layout.row_start
                ),
            ]
            to = self.tok(k.out)
            self.use("HLSFIX_DEF_SPMV8_ROWS", to, str(wide), str(k.prod_shift))
            self.call(
                f"hlsfix_spmv8r_{to}_w{wide}_ps{k.prod_shift}({', '.join(names)}, {self.view(k.x)}, "
                f"{self.cname(k.out)}, {k.rows}, {k.out_shift}, {c_round(k, k.out_shift)});"
            )
            return True
        names = [
            self.add_const(f"k_{k.values}_rv", v_bits, f"{k.values}: values row by row", layout.values),
            self.add_const(f"k_{k.values}_rc", layout.col_bits, f"{k.values}: column of each", layout.cols),
            self.add_const(f"k_{k.values}_rs", 16, f"{k.values}: where each row starts", layout.row_start),
        ]
        tc, sx, to = TOKENS[layout.col_bits], self.space(k.x.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_SPMV_ROWS", tv, tc, tx, sx, to, str(wide), str(k.prod_shift))
        self.call(
            f"hlsfix_spmvr_{tv}_{tc}_{tx}{sx}_{to}_w{wide}_ps{k.prod_shift}({', '.join(names)}, "
            f"{self.view(k.x)}, {self.cname(k.out)}, {k.rows}, {k.out_shift}, {c_round(k, k.out_shift)});"
        )
        return True

    def conv2d_co(self, k: kp.Conv2d, wide: int) -> bool:
        tx, tf = self.tok(k.x.buffer), self.tok(k.filters.buffer)
        g, hf, wf, _, cout = k.filter_shape
        few_inputs = k.in_shape[3] <= CONV_CO_MAX_CIN or wide == 16
        if not (g == 1 and tx == tf == "i8" and cout <= CONV_MAX_COUT and wide < 64 and few_inputs):
            return False
        sx, sf, to = self.space(k.x.buffer), self.space(k.filters.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_CONV2D_CO", tx, sx, tf, sf, to, str(wide), str(k.prod_shift), str(cout))
        n, h, w, c = k.in_shape
        _, ho, wo, _ = k.out_shape
        geom = [n, h, w, c, hf, wf, ho, wo, *k.strides, k.pads[0], k.pads[2], *k.dilations]
        self.call(
            f"hlsfix_conv2dco_{tx}{sx}_{tf}{sf}_{to}_w{wide}_ps{k.prod_shift}_co{cout}({self.view(k.x)}, "
            f"{self.view(k.filters)}, {self.cname(k.out)}, {', '.join(map(str, geom))}, {k.out_shift}, "
            f"{c_round(k, k.out_shift)});"
        )
        return True

    def lut8(self, k: Tabulable) -> bool:
        if not tabulable(self.bounds.program, k):
            return False
        self.elementwise_alias(k, k.out)
        out = self.bufs[k.out]
        name = f"k_lut_{k.out}_{len(self.extra_consts)}"
        table = activation_table(self.bounds.program, k)
        self.add_const(name, out.fmt.bits, f"{type(k).__name__} of {k.x.buffer} at x = -128..127", table)
        sx, to = self.space(k.x.buffer), self.tok(k.out)
        self.use("HLSFIX_DEF_LUT8", sx, to)
        self.call(f"hlsfix_lut8_i8{sx}_{to}({self.view(k.x)}, {self.cname(k.out)}, {k.n}, {name});")
        return True
