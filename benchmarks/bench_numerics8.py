"""8-bit numerics of every zoo model: accuracy and agreement with float on the test split.

Per model and width (8 and mixed by default): float accuracy, fixed-point accuracy and the
fraction of test inputs whose class matches float's, all on the test split (the programs are
chosen on the training split only), the number of disagreements, and the exploration's time.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_numerics8.py [MODEL ...] [--bits 8,mixed]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import hlsfix
from hlsfix.zoo import ZOO_NAMES

HEADER = ("model", "bits", "float acc", "fixed acc", "Δ pp", "agrees with float", "disagree n", "explore s")


def row(name: str, bits: str) -> str:
    t0 = time.perf_counter()
    cm = hlsfix.compile(name, bits=bits)
    seconds = time.perf_counter() - t0
    assert cm.test is not None
    x, y = cm.test
    pred, fpred = cm.predict(x), cm.predict_float(x)
    acc, facc = float(np.mean(pred == y)), float(np.mean(fpred == y))
    differ = int(np.count_nonzero(pred != fpred))
    return (
        f"| {name} | {bits} | {facc:.4f} | {acc:.4f} | {100 * (acc - facc):+.2f} | "
        f"{1 - differ / len(y):.2%} | {differ}/{len(y)} | {seconds:.1f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=list(ZOO_NAMES))
    ap.add_argument("--bits", default="8,mixed", help="comma-separated widths (default %(default)s)")
    args = ap.parse_args()
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for name in args.models:
        for bits in args.bits.split(","):
            print(row(name, bits))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
