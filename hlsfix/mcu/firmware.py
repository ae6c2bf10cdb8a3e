"""The measurement firmware: the generated model plus a main that runs compiled-in inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.backend_common import int_list
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.mcu.emit import EmittedModel, _env, emit_model
from hlsfix.memory.liveness import MemoryPlan


def emit_firmware(
    program: KernelProgram, plan: MemoryPlan, x_q: np.ndarray, out_dir: Path, *, kernel_marks: bool = False
) -> EmittedModel:
    """Write model.h/.c and firmware.c (``x_q``: quantised inputs, one row each) to ``out_dir``.

    ``kernel_marks``: split each prediction's measurement at every top-level kernel, so each
    input gives 1 + (number of top-level kernels) measurements; see ``emit_model``."""
    model = emit_model(program, plan, out_dir, kernel_marks=kernel_marks)
    literals = [int_list(row) for row in np.asarray(x_q, dtype=np.int64).reshape(len(x_q), -1)]
    return write_firmware(model, program, literals, out_dir / "firmware.c")


def write_firmware(model: EmittedModel, program: KernelProgram, rows: list[str], path: Path) -> EmittedModel:
    """Render ``<path.name>.j2`` (a main running ``program`` on the inputs ``rows``, C initialiser
    lists) to ``path``; ``model`` with ``path`` added to its sources."""
    text = (
        _env()
        .get_template(f"{path.name}.j2")
        .render(name=program.name, n_inputs=len(rows), rows=rows, is_class=program.output_is_class)
    )
    path.write_text(text)
    return EmittedModel(model.header, model.source, (path, *model.sources), model.include_dirs)


def decode_class_records(records: tuple[bytes, ...]) -> np.ndarray:
    """Records of a firmware whose model outputs a class → (N,) classes."""
    return np.array([int.from_bytes(r, "little", signed=True) for r in records], dtype=np.int64)


def decode_records(program: KernelProgram, records: tuple[bytes, ...]) -> np.ndarray:
    """Records of the firmware → (N,) classes or (N, size) output integers."""
    if program.output_is_class:
        return decode_class_records(records)
    dtype = {8: "<i1", 16: "<i2", 32: "<i4"}[program.buffer(program.output).fmt.bits]
    return np.stack([np.frombuffer(r, dtype=dtype).astype(np.int64) for r in records])
