"""report.json lists every tensor of the program except the integer index arrays of sparse matrices."""

from __future__ import annotations

import hlsfix
from hlsfix.fixedpoint.program import SparseMatVec
from hlsfix.report import compile_report


def test_tensors_are_the_buffers_less_sparse_index_arrays() -> None:
    cm = hlsfix.compile("bonsai-binary", bits="16")
    spmv = [k for k in cm.program.walk() if isinstance(k, SparseMatVec)]
    assert len(spmv) == 1
    index_arrays = {spmv[0].row_index, spmv[0].col_start}
    listed = [t["name"] for t in compile_report(cm)["tensors"]]
    assert spmv[0].values in listed and not index_arrays & set(listed)
    assert sorted(listed) == sorted(b.name for b in cm.program.buffers if b.name not in index_arrays)
