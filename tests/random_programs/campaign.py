"""One random program through the golden model, float and the chosen backends (used by the CI test
and by scripts/random_programs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import LowerOptions, lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.round_fold import flag_rounding
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.ir.interp import run_float
from tests.random_programs.backends import Verdict, check
from tests.random_programs.generator import RandomProgram


@dataclass(frozen=True)
class Lowered:
    program: KernelProgram
    x_q: np.ndarray
    float_agreement: float  # classes: fraction of test rows where fixed == float; tensors: NaN
    sqnr_db: float  # tensors: signal-to-quantisation-noise of the fixed output vs float; classes: NaN


def lower_random(rp: RandomProgram) -> Lowered:
    """Profile on the calibration rows, data-driven formats at ``rp.bits``, lower; the golden model
    on the test rows against float."""
    graph = rp.graph()
    prof = profile(graph, rp.calib)
    fmts = assign_formats(graph, prof, FormatPolicy(bits=rp.bits))
    activation = "linear" if rp.seed % 5 == 0 else "table"
    program = lower(graph, fmts, prof, LowerOptions(activation), str(rp.bits))  # type: ignore[arg-type]
    if rp.round_all:  # the round_out flag at every width (at 8 bits lowering sets it where it may)
        program = flag_rounding(program, max_bits=32)
    x_q = quantize_input(program, rp.test)
    fixed = run_golden(program, x_q).output
    ref = run_float(graph, rp.test)
    if program.output_is_class:
        return Lowered(program, x_q, float(np.mean(fixed == ref)), float("nan"))
    fmt = program.buffer(program.output).fmt
    real = fixed.reshape(len(ref), -1) * 2.0**-fmt.frac
    ref = ref.reshape(len(ref), -1)
    noise = float(np.sum((real - ref) ** 2))
    signal = float(np.sum(ref**2))
    sqnr = float("inf") if noise == 0 else 10 * np.log10(max(signal, 1e-300) / noise)
    return Lowered(program, x_q, float("nan"), sqnr)


@dataclass(frozen=True)
class Outcome:
    seed: int
    lowered: Lowered | None
    refusal: str  # the compiler's clean refusal of the program (e.g. a range no width holds)
    verdicts: tuple[Verdict, ...]


def run_one(rp: RandomProgram, backends: tuple[str, ...], work: Path) -> Outcome:
    try:
        low = lower_random(rp)
    except HlsfixError as e:
        return Outcome(rp.seed, None, f"{type(e).__name__}: {e}", ())
    verdicts = tuple(check(low.program, low.x_q, work, b) for b in backends)
    return Outcome(rp.seed, low, "", verdicts)
