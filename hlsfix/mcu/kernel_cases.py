"""One-kernel programs at 8 and 16 bits, measured in simavr and checked against the golden model.

Each case is a tiny SeeDot program (seeded random weights, inputs drawn from the declared range)
lowered through the real compiler (profile → formats → lower) at one width, so tables, shifts and
accumulator widths are exactly what a zoo model gets. ``measure`` builds its firmware with a
measurement mark before every top-level kernel, runs it in simavr and raises unless every output
integer equals the golden model's. The benchmark (``benchmarks/bench_kernels8.py``), the tests
(``tests/mcu/test_kernels8.py``) and the Uno cost model (``hlsfix/fixedpoint/uno_cost.py``, whose
per-element figures come from these measurements) share them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.seedot import parse_program
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory

N_CALIB = 256
N_INPUTS = 20


@dataclass(frozen=True)
class KernelCase:
    """``source`` over input X (``x_shape``, values in [lo, hi]); ``kind``: the kernel measured;
    ``work``: its elements (products for dot products) per call; ``wide8``: values kept at
    16 bits in the "8" variant (mixed 8 x 16 products)."""

    name: str
    kind: type[kp.Kernel]
    source: str
    weights: tuple[tuple[str, tuple[int, ...], float], ...]  # name, shape, density
    x_shape: tuple[int, ...]
    x_range: tuple[float, float]
    work: int
    keep16: tuple[str, ...] = ()


CASES: tuple[KernelCase, ...] = (
    KernelCase(
        "matvec 16x32",
        kp.MatMul,
        "let X = (32, 1) in [-1, 1] in let W = (16, 32) in [-1, 1] in W * X",
        (("W", (16, 32), 1.0),),
        (32, 1),
        (-1.0, 1.0),
        16 * 32,
    ),
    KernelCase(
        "matvec 8-bit W x 16-bit X",
        kp.MatMul,
        "let X = (32, 1) in [-1, 1] in let W = (16, 32) in [-1, 1] in W * X",
        (("W", (16, 32), 1.0),),
        (32, 1),
        (-1.0, 1.0),
        16 * 32,
        keep16=("X",),
    ),
    KernelCase(
        "dot x.x 16",
        kp.MatMul,
        "let X = (16, 1) in [-1, 1] in X^T * X",
        (),
        (16, 1),
        (-1.0, 1.0),
        16,
    ),
    KernelCase(
        "spmv 16x64 (35 %)",
        kp.SparseMatVec,
        "let X = (64, 1) in [0, 1] in let W = (16, 64) in [-1, 1] in W |*| X",
        (("W", (16, 64), 0.35),),
        (64, 1),
        (0.0, 1.0),
        0,  # set from the weights' non-zeros
    ),
    KernelCase(
        "spmv 8-bit W x 16-bit X",
        kp.SparseMatVec,
        "let X = (64, 1) in [0, 1] in let W = (16, 64) in [-1, 1] in W |*| X",
        (("W", (16, 64), 0.35),),
        (64, 1),
        (0.0, 1.0),
        0,
        keep16=("X",),
    ),
    KernelCase(
        "conv 3x3, 1 -> 8 channels, 6x6",
        kp.Conv2d,
        "let X = (1, 6, 6, 1) in [-1, 1] in let F = (1, 3, 3, 1, 8) in [-1, 1] in "
        "conv2d(X, F, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1})",
        (("F", (1, 3, 3, 1, 8), 1.0),),
        (1, 6, 6, 1),
        (-1.0, 1.0),
        6 * 6 * 8 * 9,  # products, padding included (fits the Uno's RAM at 16 bits)
    ),
    KernelCase(
        "conv 3x3, 2 -> 4 channels, 4x4, stride 2",
        kp.Conv2d,
        "let X = (1, 4, 4, 2) in [-1, 1] in let F = (1, 3, 3, 2, 4) in [-1, 1] in "
        "conv2d(X, F, {s 2 2}, {p 1 1 1 1}, {d 1 1}, {g 1})",
        (("F", (1, 3, 3, 2, 4), 1.0),),
        (1, 4, 4, 2),
        (-1.0, 1.0),
        2 * 2 * 4 * 9 * 2,
    ),
    KernelCase(
        "add/sub 16",
        kp.AddSub,
        "let X = (16, 1) in [-1, 1] in let B = (16, 1) in [-1, 1] in X - B",
        (("B", (16, 1), 1.0),),
        (16, 1),
        (-1.0, 1.0),
        16,
    ),
    KernelCase(
        "hadamard 16",
        kp.Mul,
        "let X = (16, 1) in [-1, 1] in let B = (16, 1) in [-1, 1] in X <*> B",
        (("B", (16, 1), 1.0),),
        (16, 1),
        (-1.0, 1.0),
        16,
    ),
    KernelCase(
        "scale 10 by scalar",
        kp.MatMul,
        "let X = (1, 1) in [0, 1] in let Z = (10, 1) in [-1, 2] in Z * X",
        (("Z", (10, 1), 1.0),),
        (1, 1),
        (0.0, 1.0),
        10,
    ),
    KernelCase(
        "exp 16",
        kp.Exp,
        "let X = (16, 1) in [-4, 0] in exp(X)",
        (),
        (16, 1),
        (-4.0, 0.0),
        16,
    ),
    KernelCase(
        "sigmoid 16",
        kp.SigmoidTanh,
        "let X = (16, 1) in [-4, 4] in sigmoid(X)",
        (),
        (16, 1),
        (-4.0, 4.0),
        16,
    ),
    KernelCase(
        "tanh 16",
        kp.SigmoidTanh,
        "let X = (16, 1) in [-4, 4] in tanh(X)",
        (),
        (16, 1),
        (-4.0, 4.0),
        16,
    ),
    KernelCase(
        "relu 16",
        kp.Clamp,
        "let X = (16, 1) in [-1, 1] in relu(X)",
        (),
        (16, 1),
        (-1.0, 1.0),
        16,
    ),
    KernelCase(
        "argmax 10",
        kp.Argmax,
        "let X = (10, 1) in [-1, 1] in argmax(relu(X))",
        (),
        (10, 1),
        (-1.0, 1.0),
        10,
    ),
)


@dataclass(frozen=True)
class Built:
    case: KernelCase
    bits: int
    program: KernelProgram
    x_q: np.ndarray
    work: int


def build_case(case: KernelCase, bits: int, seed: int = 0) -> Built:
    """Lower ``case`` with every value at ``bits`` (except ``keep16`` at 16)."""
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape, density in case.weights:
        w = rng.uniform(-1.0, 1.0, size=shape)
        if density < 1.0:
            w = np.where(rng.random(shape) < density, w, 0.0)
        weights[name] = w
    graph = parse_program(case.source, weights, name=case.name.split()[0])
    lo, hi = case.x_range
    x = rng.uniform(lo, hi, size=(N_CALIB, *case.x_shape))
    prof = profile(graph, x)
    policy = FormatPolicy(bits=bits)
    for name in case.keep16:
        policy = policy.with_override(name, 16, 0)
    prog = lower(graph, assign_formats(graph, prof, policy), prof, LowerOptions(), bits_label=str(bits))
    work = case.work
    if case.kind is kp.SparseMatVec:
        work = int(sum(np.count_nonzero(w) for w in weights.values()))
    return Built(case, bits, prog, quantize_input(prog, x[:N_INPUTS]), work)


@dataclass(frozen=True)
class KernelMeasure:
    cycles: float  # mean over the inputs, of the top-level kernels of the case's kind
    flash_bytes: int  # of the whole test firmware


def measure(built: Built, opt: str = runners.AVR_OPT) -> KernelMeasure:
    """Build, run in simavr, check bit for bit; mean cycles of the measured kernel."""
    program = built.program
    want = run_golden(program, built.x_q).output
    with tempfile.TemporaryDirectory(prefix="hlsfix-k8-") as tmp:
        d = Path(tmp)
        fw = emit_firmware(program, plan_memory(program), built.x_q, d, kernel_marks=True)
        elf = runners.compile_avr(fw.sources, d / "fw.elf", include_dirs=fw.include_dirs, opt=opt)
        flash, _ = runners.avr_size(elf)
        run = runners.run_avr(elf)
    got = decode_records(program, run.records)
    if got.shape != want.shape or not np.array_equal(got, want):
        raise AssertionError(
            f"{built.case.name} at {built.bits} bits, {opt}: simavr differs from the golden model"
        )
    per = np.asarray(run.measurements, dtype=np.float64).reshape(len(built.x_q), -1)[:, 1:]
    picked = [i for i, k in enumerate(program.kernels) if isinstance(k, built.case.kind)]
    return KernelMeasure(float(per[:, picked].sum(axis=1).mean()), flash)
