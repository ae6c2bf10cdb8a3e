"""The measurement firmware: the generated model plus a main that runs compiled-in inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.mcu.emit import EmittedModel, _env, emit_model
from hlsfix.memory.liveness import MemoryPlan


def emit_firmware(program: KernelProgram, plan: MemoryPlan, x_q: np.ndarray, out_dir: Path) -> EmittedModel:
    """Write model.h/.c and firmware.c (``x_q``: quantised inputs, one row each) to ``out_dir``."""
    model = emit_model(program, plan, out_dir)
    rows = np.asarray(x_q, dtype=np.int64).reshape(len(x_q), -1)
    text = (
        _env()
        .get_template("firmware.c.j2")
        .render(
            name=program.name,
            n_inputs=len(rows),
            rows=[", ".join(str(int(v)) for v in row) for row in rows],
            is_class=program.output_is_class,
        )
    )
    (out_dir / "firmware.c").write_text(text)
    return EmittedModel(
        model.header, model.source, (out_dir / "firmware.c", *model.sources), model.include_dirs
    )


def decode_records(program: KernelProgram, records: tuple[bytes, ...]) -> np.ndarray:
    """Records of the firmware → (N,) classes or (N, size) output integers."""
    if program.output_is_class:
        return np.array([int.from_bytes(r, "little", signed=True) for r in records], dtype=np.int64)
    dtype = {8: "<i1", 16: "<i2", 32: "<i4"}[program.buffer(program.output).fmt.bits]
    return np.stack([np.frombuffer(r, dtype=dtype).astype(np.int64) for r in records])
