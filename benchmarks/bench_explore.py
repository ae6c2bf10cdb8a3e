"""Fixed-point exploration on every zoo model: accuracy at 16 / 8 / mixed bits and search time.

Usage: python benchmarks/bench_explore.py [--models protonn,bonsai] [--markdown]
Prints one row per model and width: float and fixed test accuracy, the loss in percentage points,
weight bytes, golden-model runs, saturations on the test split, and the wall time of the search.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import hlsfix
from hlsfix.ir.interp import run_float


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(hlsfix.ZOO_NAMES))
    ap.add_argument("--bits", default="16,8,mixed")
    args = ap.parse_args()
    header = (
        "model",
        "bits",
        "float",
        "fixed",
        "loss pp",
        "weights B",
        "vs 16-bit",
        "runs",
        "sat",
        "seconds",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in args.models.split(","):
        model = hlsfix.load_model(name)
        x, y = model.data.x_test, model.data.y_test
        float_acc = float(np.mean(run_float(model.graph, x) == y))
        weights16 = None
        for bits in args.bits.split(","):
            t0 = time.perf_counter()
            cm = hlsfix.compile(model, bits=bits)
            seconds = time.perf_counter() - t0
            golden = cm.golden(x)
            fixed = float(np.mean(golden.output == y))
            wbytes = cm.program.const_bytes()
            if bits == "16":
                weights16 = wbytes
            ratio = f"{wbytes / weights16 - 1:+.0%}" if weights16 else "—"
            loss = 100 * (float_acc - fixed)
            cells = (
                name,
                bits,
                f"{float_acc:.4f}",
                f"{fixed:.4f}",
                f"{loss:+.2f}",
                wbytes,
                ratio,
                cm.candidates_run,
                sum(golden.saturations),
                f"{seconds:.2f}",
            )
            print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
