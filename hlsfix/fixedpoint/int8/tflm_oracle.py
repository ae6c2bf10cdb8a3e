"""TFLM's reference kernels as the oracle, through the ``tflite-micro`` package (optional).

``tflm_run`` returns what TFLM's interpreter outputs for each input; ``tflm_arena`` its arena:
the head (activations and scratch, planned by TFLM's greedy planner) and the tail (interpreter
bookkeeping), read from ``print_allocations()`` (which writes to the process's stderr).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ORACLE_ARENA_BYTES = 4 << 20


def tflm_available() -> bool:
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    except ImportError:
        return False
    return True


def _interpreter(model: Path | bytes):
    from tflite_micro.python.tflite_micro import runtime

    # A generous arena: the allocator's recording reports what was actually used.
    if isinstance(model, bytes):
        return runtime.Interpreter.from_bytes(model, arena_size=ORACLE_ARENA_BYTES)
    return runtime.Interpreter.from_file(str(model), arena_size=ORACLE_ARENA_BYTES)


def tflm_run(model: Path | bytes, x: np.ndarray) -> np.ndarray:
    """TFLM's output for each input row: (N, output size); int64 for an int8 output, float32 for
    a float one. Rows are given in the model's input type (int8 values, or float)."""
    it = _interpreter(model)
    details = it.get_input_details(0)
    shape = tuple(int(s) for s in details["shape"])
    outs = []
    for row in np.asarray(x):
        it.set_input(np.asarray(row).astype(details["dtype"]).reshape(shape), 0)
        it.invoke()
        y = np.asarray(it.get_output(0)).reshape(-1)
        outs.append(y if y.dtype == np.float32 else y.astype(np.int64))
    return np.stack(outs)


@dataclass(frozen=True)
class TflmCheck:
    bit_exact: bool
    checked_inputs: int
    arena_head_bytes: int
    arena_tail_bytes: int
    arena_total_bytes: int


@dataclass(frozen=True)
class TflmArena:
    head_bytes: int
    tail_bytes: int
    total_bytes: int


def tflm_arena(model: Path | bytes) -> TflmArena:
    """TFLM's arena for the model (64-bit host build of the interpreter), after one invoke."""
    it = _interpreter(model)
    details = it.get_input_details(0)
    it.set_input(np.zeros(tuple(int(s) for s in details["shape"]), dtype=details["dtype"]), 0)
    it.invoke()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            it.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")

    def field(what: str) -> int:
        m = re.search(rf"Arena allocation {what} (\d+) bytes", text)
        if m is None:
            raise RuntimeError(f"tflite-micro printed no arena {what}: {text[:200]!r}")
        return int(m.group(1))

    return TflmArena(field("head"), field("tail"), field("total"))
