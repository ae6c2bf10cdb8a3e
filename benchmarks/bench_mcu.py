"""Every zoo model at 16 bits on the Arduino Uno (simavr cycles, sizes, stack; the float build of
the same model on the same inputs, and the speedup of fixed point over it) and on a Cortex-M3
(QEMU instructions): one markdown table.

    .venv/bin/python benchmarks/bench_mcu.py [MODEL ...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import hlsfix
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.mcu.uno import build_uno
from hlsfix.zoo import ZOO_NAMES

N_INPUTS = 20


def cortex_m3_instructions(cm: hlsfix.CompiledModel, plan, d: Path) -> float:
    x = cm.test[0][:N_INPUTS]
    fw = emit_firmware(cm.program, plan, quantize_input(cm.program, x), d)
    elf = runners.compile_cortex_m(fw.sources, d / "fw_m3.elf", include_dirs=fw.include_dirs)
    run = runners.run_qemu(elf)
    if not np.array_equal(decode_records(cm.program, run.records), cm.golden(x).output):
        raise SystemExit(f"{cm.name}: Cortex-M3 outputs differ from the golden model")
    return float(np.mean(run.measurements))


def main() -> int:
    header = [
        "model",
        "Uno cycles (mean of 20)",
        "ms @ 16 MHz",
        "Uno cycles float",
        "speedup",
        "flash B",
        "static RAM B",
        "stack B",
        "arena / lower bound B",
        "Cortex-M3 instructions (QEMU, mean of 20)",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in sys.argv[1:] or ZOO_NAMES:
        cm = hlsfix.compile(name, bits=16)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                b = build_uno(cm, Path(tmp) / "uno", n_inputs=N_INPUTS)
            except HlsfixError as e:
                print(f"| {name} | does not build: {e} |||||||||")
                continue
            m3 = cortex_m3_instructions(cm, b.plan, Path(tmp) / "m3")
        fb = b.float_baseline
        f, speedup = b.mean_cycles_float, b.speedup
        cycles_float = f"{f:.0f}" if f is not None else f"— ({fb.note if fb else 'not built'})"
        speedup_text = f"{speedup:.2f}×" if speedup is not None else "—"
        print(
            f"| {name} | {b.mean_cycles:.0f} | {b.ms:.2f} | {cycles_float} | {speedup_text} | "
            f"{b.flash_bytes} | {b.ram_bytes} | "
            f"{b.stack_bytes} | {b.plan.arena_bytes} / {b.plan.lower_bound_bytes} | {m3:.0f} |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
