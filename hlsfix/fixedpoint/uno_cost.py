"""A per-kernel cycle model of the Arduino Uno (ATmega328P, avr-gcc -O2, hlsfix's C kernels).

Cycles of a kernel = its calls × (per-call cost + work × cycles per unit of work), where the
work is its products (dense and sparse dot products, convolutions) or elements, and the cycles
per unit depend on the kernel and the widths of its operands: 8-bit operands run on the AVR's
8 × 8 multiplier in 16-bit arithmetic (``hlsfix/mcu/kernels/hlsfix_kernels8.h``), an activation
of an 8-bit operand is one table read; a kernel that rounds (``round_out``) pays what
``bench_round_kernels.py`` measured. Loops multiply their body by their trip count.

Calibrated by simavr measurements of one-kernel programs (``benchmarks/bench_kernels8.py``,
-O2, mean over 20 inputs; the figures below are rounded from its table). The mixed-precision
search (``explore.py``) uses it to demote first the values whose 8 bits buy the most speed; it
ranks programs, it does not replace measuring them (``build_uno`` runs the firmware in simavr).
"""

from __future__ import annotations

from typing import Literal

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram

Widths = Literal["8", "8x16", "16", "32"]
CALL_CYCLES = 60.0  # a kernel call: arguments, prologue, epilogue
OTHER_PER_ELEMENT = 12.0  # data movement (fill, permute, window, select, max pool) per element

# cycles per unit of work, by kernel and operand widths (bench_kernels8.py, -O2)
PER_WORK: dict[tuple[str, Widths], float] = {
    ("MatMul", "16"): 55.0,
    ("MatMul", "8x16"): 27.0,
    ("MatMul", "8"): 21.0,
    ("SparseMatVec", "16"): 70.0,
    ("SparseMatVec", "8x16"): 44.0,
    ("SparseMatVec", "8"): 26.0,
    ("Conv2d", "16"): 60.0,
    ("Conv2d", "8x16"): 35.0,
    ("Conv2d", "8"): 25.0,
    ("AddSub", "16"): 56.0,
    ("AddSub", "8x16"): 50.0,
    ("AddSub", "8"): 31.0,
    ("Mul", "16"): 111.0,
    ("Mul", "8x16"): 70.0,
    ("Mul", "8"): 45.0,
    ("Exp", "16"): 168.0,
    ("Exp", "8"): 23.0,
    ("SigmoidTanh", "16"): 520.0,
    ("SigmoidTanh", "8"): 23.0,
    ("HardSigmoidTanh", "16"): 40.0,
    ("HardSigmoidTanh", "8"): 23.0,
    ("Rescale", "16"): 30.0,
    ("Rescale", "8"): 20.0,
    ("Clamp", "16"): 31.0,
    ("Clamp", "8"): 20.0,
    ("Argmax", "16"): 15.0,
    ("Argmax", "8"): 12.0,
}


# What a kernel's round_out flag adds (benchmarks/bench_round_kernels.py --bits 8, -O2): cycles per
# call and per output element. A dense dot product starts its accumulator at the constant (+2 per
# call); the 6x6 convolution case measured +4 an output (a strided 2-channel one +48: not modelled);
# Rescale has no measured case and no figure.
ROUND_CYCLES: dict[str, tuple[float, float]] = {
    "MatMul": (2.0, 0.0),
    "SparseMatVec": (0.0, 2.0),
    "Conv2d": (0.0, 4.0),
    "AddSub": (0.0, 10.0),
    "Mul": (0.0, 2.0),
}


def outputs_of(k: kp.Kernel) -> int:
    """How many values a kernel writes (what its rounding costs scale with)."""
    if isinstance(k, kp.MatMul):
        return k.m * k.n
    if isinstance(k, kp.SparseMatVec):
        return k.rows
    if isinstance(k, kp.Conv2d):
        n, ho, wo, cout = k.out_shape
        return n * ho * wo * cout
    n = getattr(k, "n", None)
    return int(n) if isinstance(n, int) else 1


def rounding_cycles(k: kp.Kernel) -> float:
    if not getattr(k, "round_out", False):
        return 0.0
    per_call, per_output = ROUND_CYCLES.get(type(k).__name__, (0.0, 0.0))
    return per_call + per_output * outputs_of(k)


def operand_widths(program: KernelProgram, k: kp.Kernel) -> Widths:
    """ "8" when every operand read is 8-bit (the tables of exp/sigmoid/tanh do not count: an
    8-bit operand is tabulated whole), "8x16" when some are, "16" otherwise ("32" with any
    32-bit operand)."""
    tables = {k.hi, k.lo} if isinstance(k, kp.Exp | kp.SigmoidTanh) else set()
    names = [r.buffer for r in k.reads() if r.buffer not in tables]
    if isinstance(k, kp.SparseMatVec):
        names = [k.values, k.x.buffer]
    bits = {program.buffer(n).fmt.bits for n in names}
    if 32 in bits:
        return "32"
    if bits == {8}:
        return "8"
    return "8x16" if 8 in bits else "16"


def work_of(k: kp.Kernel) -> int:
    if isinstance(k, kp.MatMul):
        return k.m * k.k * k.n
    if isinstance(k, kp.SparseMatVec):
        return k.nnz
    if isinstance(k, kp.Conv2d):
        _, hf, wf, cin_g, _ = k.filter_shape
        n, ho, wo, cout = k.out_shape
        return n * ho * wo * cout * hf * wf * cin_g
    if isinstance(k, kp.Argmax):
        return k.x.length
    n = getattr(k, "n", None)
    return int(n) if isinstance(n, int) else 1


def kernel_cycles(program: KernelProgram, k: kp.Kernel) -> float:
    if isinstance(k, kp.Loop):
        return (k.stop - k.start) * sum(kernel_cycles(program, b) for b in k.body)
    name = type(k).__name__
    widths = operand_widths(program, k) if k.reads() else "16"
    if widths == "32":
        per = PER_WORK.get((name, "16"), OTHER_PER_ELEMENT) * 3
    else:
        per = PER_WORK.get((name, widths), PER_WORK.get((name, "16"), OTHER_PER_ELEMENT))
    if isinstance(k, kp.Fill):
        return CALL_CYCLES + OTHER_PER_ELEMENT * program.buffer(k.out).size
    if isinstance(k, kp.IntOp | kp.Sgn):
        return 4.0
    return CALL_CYCLES + per * work_of(k) + rounding_cycles(k)


def estimate_cycles(program: KernelProgram) -> float:
    """Predicted Uno cycles of one prediction."""
    return sum(kernel_cycles(program, k) for k in program.kernels)
