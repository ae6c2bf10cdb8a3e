"""The float program of a model: the same KernelProgram structure, with real values.

A float baseline must run the *same* model the fixed-point build runs — same kernels, loops, views
and arena plan — but in ``float`` with the true weights. ``float_program`` gets exactly that by
running the fixed-point ``Lowerer`` with every value in one 32-bit "format" (4 bytes per element,
so the memory planner lays out a float arena) and with the real numbers kept where the fixed-point
lowering would quantise them:

* constants (dense weights, sparse non-zeros, real literals) hold the graph's float64 weights
  (``program.constants[name]`` has a float dtype; sparse row/column indices stay integers). The
  sparse layout is built from the float matrix, so no weight that quantises to 0 is dropped;
* ``Fill`` values and ``Select`` thresholds are the real numbers of the source; ``Clamp`` bounds
  are 0 and 6 (relu, relu6: with frac 0 they already are the real bounds);
* shifts, accumulator widths and table ids are meaningless here and the float kernels ignore them;
  exp/sigmoid/tanh get no tables (the float kernels call ``expf``/``tanhf``).

Only ``hlsfix.mcu.emit_float`` consumes such a program; the golden model does not (``bits`` is
``"float"``).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.lower import Lowerer, LowerOptions
from hlsfix.fixedpoint.profile import Profile
from hlsfix.fixedpoint.program import Format, KernelProgram, Ref
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph

FLOAT = Format(32, 0)  # a float32 element: 4 bytes; frac 0 so every derived shift is 0


class _EveryValueFloat:
    """The format map of a float program: every value is a float32."""

    def __getitem__(self, name: str) -> Format:
        return FLOAT


class FloatLowerer(Lowerer):
    def quantize(self, values: np.ndarray, fmt: Format) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    def new_const(self, hint: str, data: np.ndarray, fmt: Format) -> str:
        name = self.new_buffer(hint, tuple(np.shape(data)) or (1,), fmt, "const")
        self.constants[name] = np.asarray(data).reshape(-1)  # reals stay float, indices int
        return name

    def replace_last(self, **changes: object) -> None:
        old = self.stack[-1][-1]
        new = dataclasses.replace(old, **changes)
        self.stack[-1][-1] = new
        self.label_of[id(new)] = self.label_of.pop(id(old), self.current_label)

    def sparse_matmul(self, out: str, op: ops.SparseMatMul) -> None:
        super().sparse_matmul(out, op)
        self.replace_last(wide=32)  # its scratch holds one float per row

    def cond(self, out: str, op: ops.Cond) -> None:
        super().cond(out, op)
        self.replace_last(threshold=float(op.threshold))

    def exp(self, name: str, x: Ref, value: str, fx: Format, fo: Format) -> None:
        self.emit(kp.Exp(x, name, x.length, 0, 0, 0, "", "", 0, 32))

    def squash(
        self, name: str, fn: Literal["sigmoid", "tanh"], x: Ref, value: str, fx: Format, fo: Format
    ) -> None:
        self.emit(kp.SigmoidTanh(fn, x, name, x.length, 0, 0, 0, "", "", 0, 0, 0, 32))


def float_program(graph: Graph, activation: Literal["table", "linear"] = "table") -> KernelProgram:
    """The float KernelProgram of ``graph`` (``activation="linear"``: the clipped-linear
    sigmoid/tanh, as a fixed-point program lowered that way computes)."""
    lowerer = FloatLowerer(graph, _EveryValueFloat(), Profile({}, 0), LowerOptions(activation))  # type: ignore[arg-type]
    return dataclasses.replace(lowerer.run(), bits="float")
