"""``hlsfix export-sd``: a model (an imported .onnx above all) written as a SeeDot program, its
weights and its data, into one output directory — to read, edit, and compile as any .sd program."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.flows.output import check_output_dir, staged_output
from hlsfix.frontend.export_sd import export_sd
from hlsfix.zoo import Model


def export_model_sd(
    m: Model, out: Path, *, protected: tuple[Path, ...] = (), force: bool = False
) -> list[str]:
    """Write ``model.sd``, ``weights.npz`` and (when the model has data) ``data.npz`` into ``out``."""
    out = check_output_dir(out, (m.source, *protected), force=force)
    with staged_output(out) as stage:
        export_sd(m.graph, stage, header=f"{m.name}: written by hlsfix export-sd from {Path(m.source).name}")
        if m.data is not None:
            d = m.data
            np.savez(
                stage / "data.npz", X_train=d.x_train, y_train=d.y_train, X_test=d.x_test, y_test=d.y_test
            )
    written = ["model.sd", "weights.npz"] + (["data.npz"] if m.data is not None else [])
    return [f"wrote {out}: {', '.join(written)}", f"compile it: hlsfix compile {out / 'model.sd'} -o OUT"]
