"""A SparseMatVec's matrix laid out row by row, for the C kernel that sums each row in a register.

The program stores the matrix column by column (values, row of each, where each column starts);
the C backend may re-lay it out: the same non-zeros give the same exact integer sum in any order
(the compiler's product shift rules out overflow of any partial sum, and golden.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram


@dataclass(frozen=True)
class RowLayout:
    values: np.ndarray  # non-zeros, row by row (columns ascending within a row)
    cols: np.ndarray  # the column of each
    row_start: np.ndarray  # rows + 1 entries: where each row starts

    @property
    def col_bits(self) -> int:
        """8 when every column index fits int8, else 16."""
        return 8 if self.cols.size == 0 or int(self.cols.max()) < 128 else 16


def row_layout(program: KernelProgram, k: kp.SparseMatVec) -> RowLayout:
    vals = np.asarray(program.constants[k.values], dtype=np.int64).reshape(-1)
    rows = np.asarray(program.constants[k.row_index], dtype=np.int64).reshape(-1)
    starts = np.asarray(program.constants[k.col_start], dtype=np.int64).reshape(-1)
    cols = np.repeat(np.arange(k.cols), np.diff(starts))
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=k.rows)[: k.rows]
    row_start = np.concatenate(([0], np.cumsum(counts)))
    return RowLayout(vals[order], cols[order], row_start)


def row_width(layout: RowLayout, x_max: int, prod_shift: int, x_bits: int, v_bits: int, rc: int = 0) -> int:
    """16 when values and x are 8-bit and every row's sum of shifted product bounds, plus the
    rounding constant ``rc`` the sum starts from, fits int16."""
    if x_bits != 8 or v_bits != 8:
        return 32
    terms = -((-(np.abs(layout.values) * x_max)) >> prod_shift)
    # per-row sums by prefix sums: empty rows (trailing ones included) sum to 0
    prefix = np.concatenate(([0], np.cumsum(terms)))
    sums = prefix[layout.row_start[1:]] - prefix[layout.row_start[:-1]]
    return 16 if int(sums.max(initial=0)) + rc <= (1 << 15) - 1 else 32
