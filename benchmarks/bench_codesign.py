"""Co-design end to end: the partition the cost model picks for each host against the two
baselines, predicted and co-simulated, for protonn, bonsai and fastgrnn (16-bit, P = 1).

Simulated host cycles per inference = the host's kernels (simavr cycles on the Uno; QEMU
Cortex-M3 instructions as the MicroBlaze estimate) + the link, accelerator and polling time of
the co-simulation (generated host C against the Verilog over the real SPI pins / AXI4-Lite bus).
Every co-simulated row is checked bit-exact against the golden model.

    .venv/bin/python benchmarks/bench_codesign.py [--inputs 20] [--splits]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hlsfix  # noqa: E402
from hlsfix.codesign import costs  # noqa: E402
from hlsfix.codesign.flow import run_codesign_flow, simulate_partition, test_inputs  # noqa: E402
from hlsfix.codesign.partition import choose_partition  # noqa: E402

MODELS = ("protonn", "bonsai", "fastgrnn")
LANES = 1
# pinned splits that cut through each model (see tests/codesign/test_cosim.py)
SPLIT_PINS = {"protonn": "1=mcu,3=mcu", "fastgrnn": "0=mcu,1=mcu,3=mcu,4=mcu,5=mcu", "bonsai": "7=mcu,14=mcu"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=20, help="co-simulated test inputs per row (default 20)")
    ap.add_argument("--splits", action="store_true", help="also co-simulate a pinned split per model")
    args = ap.parse_args()
    print(f"## Chosen partition vs baselines (host cycles per inference, {args.inputs} inputs, P={LANES})\n")
    print(
        "| model | host | chosen | chosen pred. | chosen sim. | all-MCU sim. | all-FPGA sim. | "
        "speedup vs all-MCU | link bytes | bit-exact | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    splits = []
    for name in MODELS:
        cm = hlsfix.compile(name)
        for host in costs.HOSTS:
            t = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="hlsfix-bench-") as tmp:
                r = run_codesign_flow(cm, host, LANES, None, args.inputs, work_dir=Path(tmp))
            c = r.chosen
            print(
                f"| {name} | {host} | {c.partition} | {r.plan.prediction.total_cycles:,.0f} | "
                f"{c.total_cycles:,.0f} | {r.all_mcu.total_cycles:,.0f} | {r.all_fpga.total_cycles:,.0f} | "
                f"{r.all_mcu.total_cycles / c.total_cycles:.2f}x | {c.link_bytes:.0f} | "
                f"{c.bit_exact and r.all_fpga.bit_exact} | {time.monotonic() - t:.0f} |"
            )
            if args.splits:
                from hlsfix.codesign.partition import parse_pins

                mcu = costs.mcu_kernel_cycles(cm.program, host, test_inputs(cm, 5))
                plan = choose_partition(cm.program, host, LANES, parse_pins(SPLIT_PINS[name]), mcu=mcu)
                x_q = test_inputs(cm, args.inputs)
                run = simulate_partition(cm.program, plan.partition, x_q, host, LANES, mcu)
                splits.append((name, host, plan, run))
    if splits:
        print("\n## Pinned splits (host cycles per inference)\n")
        print("| model | host | pins | partition | predicted | simulated | link bytes | bit-exact |")
        print("|---|---|---|---|---|---|---|---|")
        for name, host, plan, run in splits:
            print(
                f"| {name} | {host} | {SPLIT_PINS[name]} | {run.partition} | "
                f"{plan.prediction.total_cycles:,.0f} | {run.total_cycles:,.0f} | {run.link_bytes:.0f} | "
                f"{run.bit_exact} |"
            )
    print("\nMicroBlaze figures are estimates (no MicroBlaze simulator: Cortex-M3 instruction counts at")
    print("CPI 1, assumed AXI stalls in the prediction; the co-simulation's AXI timing is the RTL slave's).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
