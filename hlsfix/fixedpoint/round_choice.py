"""Which kernels round: the compiler's per-kernel choice of the ``round_out`` flag, on training data
(the choice itself is ``explore.choose_rounding``; here, reading and setting the flags).

``round_fold.fold_rounding`` sets the flag on every 8-bit kernel where it is provably safe (its
worst case plus the rounding constant fits the wide type). Rounding to nearest removes the floor
shift's bias of half a unit, but a kernel whose floor bias happened to cancel another's (or that
feeds a comparison whose threshold float's rounding sits on) can do better without it; so the
exploration tries each flagged kernel with the flag off, in program order, and keeps the change
when it improves the metric on the training split, or keeps it and brings the scores argmax/sgn
reads closer to float's (``Score.fine_key``) — never the test split. The result is scored again
on every training row and kept only if it beats the program it started from there too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.lower import Activation, LowerOptions, lower
from hlsfix.fixedpoint.profile import Profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.ir.graph import Graph

# at most this many flagged kernels are tried (in program order); the rest keep the flag
MAX_TRIALS = 24
# the trials run on a subsample of the training rows (as the 8-bit scale search's)
ROUND_ROWS = 400


def flagged(program: KernelProgram) -> tuple[int, ...]:
    """Walk-order positions of the kernels whose final shift rounds."""
    return tuple(i for i, k in enumerate(program.walk()) if getattr(k, "round_out", False))


def with_flags(program: KernelProgram, off: frozenset[int]) -> KernelProgram:
    """``program`` with ``round_out`` cleared on the kernels at walk positions ``off``."""
    counter: Iterator[int] = iter(range(1 << 30))

    def block(kernels: tuple[kp.Kernel, ...]) -> tuple[kp.Kernel, ...]:
        out = []
        for k in kernels:
            pos = next(counter)
            if isinstance(k, kp.Loop):
                k = dataclasses.replace(k, body=block(k.body))
            elif pos in off:
                k = dataclasses.replace(k, round_out=False)
            out.append(k)
        return tuple(out)

    return dataclasses.replace(program, kernels=block(program.kernels))


def rounding_counts(
    graph: Graph, prof: Profile, policy: FormatPolicy, activation: Activation, program: KernelProgram
) -> tuple[int, int]:
    """(kernels with ``round_out``, adds with rounding folded into their constant) of ``program``,
    the lowering of ``policy``: the folded adds are those that differ from the same formats
    lowered with floor shifts only (in their shifts, or in the constant they read)."""
    if program.bits not in ("8", "mixed"):  # only 8-bit adds take a folded offset
        return len(flagged(program)), 0
    fmts = assign_formats(graph, prof, policy)
    plain = lower(graph, fmts, prof, LowerOptions(activation, round_fold=False, round_flags=False))
    folded = 0
    for k, p in zip(program.walk(), plain.walk(), strict=True):
        if not isinstance(k, kp.AddSub):
            continue
        if dataclasses.replace(k, round_out=False) != p or any(
            not np.array_equal(program.constants[r.buffer], plain.constants[r.buffer])
            for r in k.reads()
            if r.buffer in program.constants
        ):
            folded += 1
    return len(flagged(program)), folded
