"""Profiling: run the float model over calibration data and record every value's range.

Values inside loop and sum bodies are observed on every iteration, so a range covers them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from hlsfix.errors import DataError
from hlsfix.ir.graph import Graph
from hlsfix.ir.interp import batch_input, run_float


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float

    @property
    def max_abs(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def union(self, other: Range) -> Range:
        return Range(min(self.lo, other.lo), max(self.hi, other.hi))


@dataclass(frozen=True)
class Profile:
    ranges: Mapping[str, Range]
    rows: int

    def __getitem__(self, name: str) -> Range:
        return self.ranges[name]


def check_calibration(graph: Graph, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.size == 0:
        raise DataError("calibration data must hold at least one row, not be empty")
    try:
        return batch_input(graph, x)
    except DataError as e:
        raise DataError(f"calibration data: {e.message}") from None


def profile(graph: Graph, x: np.ndarray) -> Profile:
    """Ranges of every real value (input and parameters included) over the calibration rows; the
    input's range also holds its whole declared range."""
    x = check_calibration(graph, x)
    seen: dict[str, Range] = {}

    def record(name: str, value: np.ndarray) -> None:
        if value.dtype.kind != "f":
            return
        r = Range(float(value.min()), float(value.max()))
        seen[name] = seen[name].union(r) if name in seen else r

    run_float(graph, x, record)
    # The declared input range is the user's statement about every input the model will see:
    # calibration refines the internal values, never narrows what was declared.
    lo, hi = graph.input.declared_range
    record(graph.input.name, np.array([lo, hi], dtype=np.float64))
    for p in graph.params:
        w = graph.weights[p.name]
        seen[p.name] = Range(float(w.min()), float(w.max()))
    return Profile(MappingProxyType(seen), rows=int(x.shape[0]))
