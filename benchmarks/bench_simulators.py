"""cocotb on Icarus against cocotb on Verilator: the accelerator of a zoo model on its test split.

For each simulator: wall time and CPU time (this process and its children: the compiler, the
simulator and the testbench's Python inside it), split into building (Verilog to a simulator
executable) and running, plus the cycles per inference and whether every output is bit-exact.
CPU time is the figure to compare on a shared machine; wall time depends on the load.

    .venv/bin/python benchmarks/bench_simulators.py [--model mlp] [--lanes 1] [--inputs 100]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import hlsfix  # noqa: E402
from hlsfix.fixedpoint.golden import quantize_input  # noqa: E402
from hlsfix.sim.runner import run_cocotb  # noqa: E402


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(program, x_q: np.ndarray, lanes: int, simulator: str) -> dict:
    """One run on all of ``x_q`` and one on a single input: the difference is the per-input cost,
    the single run minus it the build."""
    out = {}
    for label, rows in (("one", x_q[:1]), ("all", x_q)):
        with tempfile.TemporaryDirectory(prefix="hlsfix-bench-sim-") as tmp:
            wall, cpu = time.monotonic(), cpu_seconds()
            res = run_cocotb(program, rows, lanes, simulator, build_dir=Path(tmp), trace=False)
            out[label] = (time.monotonic() - wall, cpu_seconds() - cpu, res)
    (_, c1, _), (wn, cn, res) = out["one"], out["all"]
    n = len(x_q)
    per_input_cpu = (cn - c1) / max(1, n - 1)
    return {
        "simulator": simulator,
        "inputs": n,
        "wall_s": wn,
        "cpu_s": cn,
        "build_cpu_s": c1 - per_input_cpu,
        "run_cpu_s": cn - (c1 - per_input_cpu),
        "cycles": res.cycles_per_inference,
        "bit_exact": res.bit_exact,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--lanes", type=int, default=1)
    ap.add_argument("--inputs", type=int, default=100)
    ap.add_argument("--simulators", default="icarus,verilator")
    args = ap.parse_args()
    cm = hlsfix.compile(args.model)
    x_q = quantize_input(cm.program, np.asarray(cm.test[0][: args.inputs]))
    rows = [measure(cm.program, x_q, args.lanes, s) for s in args.simulators.split(",")]
    print(f"{args.model}, P = {args.lanes}, {len(x_q)} test inputs (CPU: this process + children)")
    print("| simulator | wall s | CPU s | build CPU s | run CPU s | cycles/inference | bit-exact |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['simulator']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['build_cpu_s']:.1f} | "
            f"{r['run_cpu_s']:.1f} | {r['cycles']:.0f} | {r['bit_exact']} |"
        )
    if len(rows) == 2:
        a, b = rows
        print(
            f"run CPU {a['simulator']}/{b['simulator']}: {a['run_cpu_s'] / max(b['run_cpu_s'], 1e-9):.1f}x; "
            f"total CPU: {a['cpu_s'] / max(b['cpu_s'], 1e-9):.1f}x"
        )


if __name__ == "__main__":
    main()
