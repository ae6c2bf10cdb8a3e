"""Tables for exp, sigmoid and tanh (the two-table method of SeeDot, PLDI'19 §5).

e^(−y) for a non-negative fixed-point y is split by bits: after dropping the lowest k bits, the
high T bits index ``hi`` and the low T bits index ``lo``; e^(−y) = hi[a] · lo[b]. Each table has
2^T entries instead of one table of 2^(2T). Entries are rounded at the centre of the bucket the
dropped bits stand for, which halves the worst-case error of the truncation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ExpTables:
    k: int  # low argument bits dropped
    t: int  # bits per table index
    hi: np.ndarray  # int64 table values, 2^t entries
    lo: np.ndarray
    hi_frac: int
    lo_frac: int


def table_bits_for(out_bits: int) -> int:
    return 32 if out_bits == 32 else 16


def index_bits_for(out_bits: int) -> int:
    return 6 if out_bits == 8 else 7


def drop_bits(span_q: int, t: int) -> int:
    """How many low bits to drop so a span of ``span_q`` steps fits 2t index bits."""
    return max(0, int(span_q).bit_length() - 2 * t)


def exp_tables(top: float, arg_frac: int, span_q: int, out_bits: int) -> ExpTables:
    """Tables for e^(top − y·2^-arg_frac) with y in [0, span_q] (clamped beyond)."""
    t = index_bits_for(out_bits)
    k = drop_bits(span_q, t)
    table_bits = table_bits_for(out_bits)
    qmax = (1 << (table_bits - 1)) - 1
    lo_frac = table_bits - 2  # lo ∈ (0, 1]: 1.0 must be representable
    peak = math.exp(top)
    hi_frac = math.floor(math.log2(qmax / peak)) if peak > 0 else table_bits - 2
    hi_frac = min(hi_frac, table_bits - 2)
    step = 2.0 ** (k - arg_frac)  # real value of one index unit of the low table
    centre = 0.5 * (2**k - 1) * 2.0**-arg_frac if k > 0 else 0.0
    idx = np.arange(1 << t, dtype=np.float64)
    hi = np.round(np.exp(top - idx * step * (1 << t)) * 2.0**hi_frac)
    lo = np.round(np.exp(-(idx * step + centre)) * 2.0**lo_frac)
    return ExpTables(
        k=k,
        t=t,
        hi=np.clip(hi, 0, qmax).astype(np.int64),
        lo=np.clip(lo, 0, qmax).astype(np.int64),
        hi_frac=hi_frac,
        lo_frac=lo_frac,
    )
