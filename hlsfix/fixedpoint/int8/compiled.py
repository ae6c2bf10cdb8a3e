"""``hlsfix.compile("model.tflite")`` for an int8 model: no calibration data, TFLM's numbers.

The pass order: read the flatbuffer (frontend/tflite.py) → int8 affine KernelProgram → memory
(memory/int8_plan.py: the given order's bound and arena, operator reordering, partial execution)
→ the scheduled program every backend runs. ``predict`` runs the golden model on a batch of the
model's own int8 inputs and returns the int8 output tensors TFLM's interpreter returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import DataError
from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.fixedpoint.int8.tflm_oracle import TflmCheck
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.frontend.tflite import TfliteInt8Model, load_tflite_int8
from hlsfix.memory.int8_plan import Int8Memory, Int8MemoryOptions, plan_int8_memory


@dataclass(frozen=True)
class CompiledInt8Model:
    model: TfliteInt8Model
    memory: Int8Memory

    @property
    def name(self) -> str:
        return self.model.program.name

    @property
    def program(self) -> KernelProgram:
        """The scheduled program (reordered and sliced as the memory options chose)."""
        return self.memory.program

    @property
    def source(self) -> Path | None:
        return self.model.source

    def _rows(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        size = self.program.input_buffer.size
        if x.size % size or x.size == 0:
            raise DataError(f"input must hold a multiple of {size} values (the model's input), not {x.size}")
        if np.issubdtype(x.dtype, np.floating):
            raise DataError(f"input must be the model's own int8 values, not {x.dtype}")
        if x.min() < -128 or x.max() > 127:
            raise DataError("input must be int8 values in [-128, 127]")
        return x.reshape(-1, size).astype(np.int64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """int8 outputs for a batch of int8 inputs: (N, *output shape without its batch of 1)."""
        out = run_int8(self.program, self._rows(x)).output
        shape = self.model.output_shape[1:] if len(self.model.output_shape) > 1 else self.model.output_shape
        return out.reshape(len(out), *shape).astype(np.int8)

    def random_inputs(self, n: int, seed: int = 0) -> np.ndarray:
        """n test inputs: each its own level and spread over the int8 range (plain i.i.d. noise
        averages out in pooled models), the first two at the extremes."""
        size = self.program.input_buffer.size
        rng = np.random.default_rng(seed)
        level = rng.integers(-128, 128, (n, 1))
        spread = rng.integers(1, 128, (n, 1))
        x = np.clip(level + rng.integers(-128, 128, (n, size)) * spread // 128, -128, 127)
        x[0] = -128
        if n > 1:
            x[1] = 127
        return x

    def check_tflm(self, n_inputs: int = 20, seed: int = 0) -> TflmCheck | None:
        """Compare with TFLM's interpreter on n inputs (None when tflite-micro is not installed)."""
        from hlsfix.fixedpoint.int8.tflm_oracle import tflm_arena, tflm_available, tflm_run

        if not tflm_available() or self.source is None:
            return None
        x = self.random_inputs(n_inputs, seed)
        same = np.array_equal(run_int8(self.program, x).output, tflm_run(self.source, x))
        arena = tflm_arena(self.source)
        return TflmCheck(same, n_inputs, arena.head_bytes, arena.tail_bytes, arena.total_bytes)

    def save(self, directory: Path | str, *, tflm_inputs: int = 20) -> dict:
        """Write program.json, constants.npz, memory.svg, report.md and report.json; the report."""
        from hlsfix.fixedpoint.int8.report import int8_report, write_int8_reports

        directory = Path(directory)
        self.program.save(directory)
        report = int8_report(self, self.check_tflm(tflm_inputs) if tflm_inputs else None)
        write_int8_reports(directory, report, self)
        return report


def compile_tflite(
    path: str | Path, *, reorder: bool = True, partial_execution: bool = True
) -> CompiledInt8Model:
    """Compile an int8 .tflite model (no calibration data: its quantisation is taken as given)."""
    model = load_tflite_int8(path)
    memory = plan_int8_memory(model.program, Int8MemoryOptions(reorder, partial_execution))
    return CompiledInt8Model(model, memory)
