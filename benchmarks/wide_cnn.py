"""A wider LeNet-style CNN for the accelerator's size checks: the zoo CNN's shape (conv3x3-relu-
maxpool twice, two dense layers on 8x8 digits) with 16 and 32 filters and a 128-wide hidden
layer, about 22.6 k parameters: its weights need block RAM (the zoo CNN's 3.7 k do not).

The weights are seeded random (He-scaled), not trained: the model is for sizes, cycles and
bit-exactness against the golden model, not accuracy. The digits are the zoo CNN's.

    from benchmarks.wide_cnn import write_wide_cnn
    cm = hlsfix.compile(str(write_wide_cnn(directory)), bits="16")
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

C1, C2, HIDDEN = 16, 32, 128
SHAPES = {
    "F1": (1, 3, 3, 1, C1),
    "c1b": (C1,),
    "F2": (1, 3, 3, C1, C2),
    "c2b": (C2,),
    "D1": (HIDDEN, 4 * C2),
    "d1b": (HIDDEN, 1),
    "D2": (10, HIDDEN),
    "d2b": (10, 1),
}


def parameters() -> int:
    return sum(int(np.prod(s)) for s in SHAPES.values())


def write_wide_cnn(directory: Path, seed: int = 0) -> Path:
    """Write ``model.sd``, ``weights.npz`` and ``data.npz`` into ``directory``; the .sd's path."""
    from hlsfix.zoo import ZOO_DIR

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in SHAPES.items():
        fan_in = (
            int(np.prod(shape[1:-1])) if name.startswith("F") else (shape[1] if name.startswith("D") else 1)
        )
        scale = np.sqrt(2.0 / fan_in) if name[0] in "FD" else 0.05
        weights[name] = (rng.standard_normal(shape) * scale).astype(np.float32).astype(np.float64)
    np.savez(directory / "weights.npz", **weights)
    shutil.copy(ZOO_DIR / "cnn" / "data.npz", directory / "data.npz")

    def decl(name: str) -> str:
        w = weights[name]
        return f"let {name} = {SHAPES[name]} in [{w.min():.4f}, {w.max():.4f}] in".replace(",)", ")")

    text = "\n".join(
        [
            f"// A wider LeNet-style CNN on 8x8 digits (NHWC), {parameters()} parameters (seeded random).",
            "let X = (1, 8, 8, 1) in [0.00, 1.00] in",
            *(decl(n) for n in SHAPES),
            "let a1 = maxpool(relu(conv2d(X, F1, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1}) <+> c1b), "
            "{k 2 2}, {p 0 0 0 0}, {s 2 2}) in",
            "let a2 = maxpool(relu(conv2d(a1, F2, {s 1 1}, {p 1 1 1 1}, {d 1 1}, {g 1}) <+> c2b), "
            "{k 2 2}, {p 0 0 0 0}, {s 2 2}) in",
            f"let flat = reshape(a2, ({4 * C2}, 1), (1, 2, 3, 4)) in",
            "let h = relu(D1 * flat + d1b) in",
            "argmax(D2 * h + d2b)",
            "",
        ]
    )
    path = directory / "model.sd"
    path.write_text(text)
    return path
