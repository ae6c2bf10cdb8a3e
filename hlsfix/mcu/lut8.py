"""exp, sigmoid and tanh of an 8-bit operand as one 256-entry table of results.

Of an 8-bit input there are only 256 values, so the C backend may tabulate the kernel whole:
the table is computed by the golden model itself (one run of the kernel on -128..127), so the
generated code computes exactly golden.py's integers with one flash read per element, instead of
the two-table product, shifts and (for sigmoid/tanh) a division. It costs 256 entries of the
output's type in flash per kernel.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.program import Buffer, KernelProgram, Ref

Tabulable = kp.Exp | kp.SigmoidTanh | kp.HardSigmoidTanh
LUT_INPUTS = np.arange(-128, 128, dtype=np.int64)


def tabulable(program: KernelProgram, k: kp.Kernel) -> bool:
    """An element-wise activation of an 8-bit operand."""
    return isinstance(k, Tabulable) and program.buffer(k.x.buffer).fmt.bits == 8


def activation_table(program: KernelProgram, k: Tabulable) -> np.ndarray:
    """out for x = -128..127 (index x + 128), by the golden model."""
    fmt_x = program.buffer(k.x.buffer).fmt
    out = program.buffer(k.out)
    inp = Buffer("lut_x", (256,), fmt_x, "input")
    res = Buffer("lut_out", (256,), out.fmt, "temp")
    tables = [b for b in program.buffers if b.kind == "const" and b.name in _tables_of(k)]
    kernel = dataclasses.replace(k, x=Ref("lut_x", 256), out="lut_out", n=256)
    mini = KernelProgram(
        "lut",
        program.bits,
        "lut_x",
        "lut_out",
        False,
        (inp, res, *tables),
        (kernel,),
        (),
        {b.name: program.constants[b.name] for b in tables},
    )
    return run_golden(mini, LUT_INPUTS[None, :]).output[0]


def _tables_of(k: Tabulable) -> tuple[str, ...]:
    return (k.hi, k.lo) if isinstance(k, kp.Exp | kp.SigmoidTanh) else ()
