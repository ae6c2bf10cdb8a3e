"""Cycles per inference of the RTL accelerator for every zoo model at P = 1, 2, 4, 8, 16 lanes,
measured in Icarus (cocotb) against the ideal Σ ceil(work / P), and bit-exactness on the inputs.

    .venv/bin/python benchmarks/bench_rtl.py [--inputs N] [--lanes 1 2 4 8 16] [--models ...] [-v]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hlsfix  # noqa: E402
from hlsfix.fixedpoint.golden import quantize_input  # noqa: E402
from hlsfix.sim.runner import run_cocotb  # noqa: E402

MODELS = ["protonn", "bonsai", "bonsai-binary", "fastgrnn", "cnn", "mlp"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--inputs", type=int, default=5)
    ap.add_argument("--lanes", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--bits", default="16")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-kernel breakdown")
    args = ap.parse_args()
    print(
        f"{'model':14} {'P':>3} {'cycles':>9} {'ideal':>8} {'ratio':>6} {'bit-exact':>10} {'wall s':>7}"
        "  schedule model"
    )
    for model in args.models:
        cm = hlsfix.compile(model, bits=args.bits)
        x_q = quantize_input(cm.program, cm.test[0][: args.inputs])
        for lanes in args.lanes:
            r = run_cocotb(cm.program, x_q, lanes, trace=args.verbose)
            exact = f"{len(x_q) - len(r.mismatches)}/{len(x_q)}"
            print(
                f"{model:14} {lanes:>3} {r.cycles_per_inference:>9.0f} {r.ideal_cycles:>8} {r.ratio:>6.2f} "
                f"{exact:>10} {r.wall_seconds:>7.1f}  "
                + ("exact" if r.cycles_per_inference == r.predicted_cycles else f"{r.predicted_cycles}"),
                flush=True,
            )
            for name, measured, ideal in r.per_kernel:
                print(f"    {name[:60]:60} {measured:>7} {ideal:>7}")


if __name__ == "__main__":
    main()
