"""The co-design cost model's inputs and choices for protonn, bonsai and fastgrnn (16-bit, 1 lane):
the host driver's measured costs, the MCU cycles of each top-level kernel, and the partition
chosen for each host against the all-MCU and all-FPGA baselines, as markdown tables.

    .venv/bin/python benchmarks/bench_codesign_costs.py
"""

from __future__ import annotations

import sys
import time

import hlsfix
from hlsfix.codesign import costs
from hlsfix.codesign.partition import choose_partition, kernel_labels
from hlsfix.fixedpoint.golden import quantize_input

MODELS = ("protonn", "bonsai", "fastgrnn")
LANES = 1  # the co-design default (hlsfix build --host)
N_INPUTS = 4


def main() -> int:
    compiled = {name: hlsfix.compile(name) for name in MODELS}
    first = compiled[MODELS[0]].program
    print("## Host driver (per call, link free; the wire's time is added by the model)\n")
    columns = ["write 16-bit word", "read 16-bit word", "write fixed", "read fixed", "reg write", "reg read"]
    print("| host | " + " | ".join(columns) + " | START | poll | source |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for host in costs.HOSTS:
        d = costs.link_for(first, host).driver
        print(
            f"| {host} | {d.write_per_word[1]:.0f} | {d.read_per_word[1]:.0f} | {d.write_fixed[1]:.0f} | "
            f"{d.read_fixed[1]:.0f} | {d.write_register:.0f} | {d.read_register:.0f} | {d.start:.0f} | "
            f"{d.poll:.0f} | {d.source} |"
        )
    rows = []
    for name, cm in compiled.items():
        assert cm.test is not None
        program = cm.program
        x_q = quantize_input(program, cm.test[0][:N_INPUTS])
        labels = kernel_labels(program)
        per_host = {host: costs.mcu_kernel_cycles(program, host, x_q) for host in costs.HOSTS}
        print(f"\n## {name}: MCU cost per top-level kernel (mean of {N_INPUTS} test inputs)\n")
        print("| kernel | label | Uno cycles (simavr) | MicroBlaze estimate (Cortex-M3 instructions) |")
        print("|---|---|---|---|")
        uno, mb = per_host["arduino-uno"], per_host["microblaze"]
        print(f"| entry | | {uno.entry_cycles:.0f} | {mb.entry_cycles:.0f} |")
        for i, label in enumerate(labels):
            print(f"| {i} | {label} | {uno.cycles[i]:.0f} | {mb.cycles[i]:.0f} |")
        for host, mcu in per_host.items():
            t = time.perf_counter()
            plan = choose_partition(program, host, LANES, mcu=mcu)
            rows.append((name, host, plan, time.perf_counter() - t))
    print("\n## Chosen partitions (predicted host cycles; F = FPGA, M = MCU)\n")
    print(
        "| model | host | partition | predicted | all-MCU | all-FPGA | link bytes | search s (candidates) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, host, plan, seconds in rows:
        print(
            f"| {name} | {host} | {plan.partition.describe()} | {plan.prediction.total_cycles:.0f} | "
            f"{plan.all_mcu.total_cycles:.0f} | {plan.all_fpga.total_cycles:.0f} | "
            f"{plan.prediction.link_bytes} | {seconds:.2f} ({plan.candidates}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
