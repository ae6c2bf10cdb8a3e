"""Every zoo model on the Arduino Uno at 16 bits, 8 bits and mixed 8/16: one markdown table.

Per build: simavr cycles (mean over 20 test inputs, ATmega328P @ 16 MHz, the -O2 of the generated
Makefile; every output checked against the golden model, and again with the firmware built at the
Arduino IDE's -Os) beside the cycle model's prediction (``hlsfix/fixedpoint/uno_cost.py``), the
speedup over the same model's 16-bit build, the model's own flash (constants + code, without the
test inputs), the test firmware's flash and static RAM, the sketch's flash and RAM as the real
Arduino core's build reports them (arduino-builder; "—" when it is not installed), stack, the
sketch's input path (quantising one float input, simavr), accuracy on the test split, agreement
of the class with float, and the time of the exploration that chose the program. Where the program
rounds (kernels with ``round_out``), "rounding" gives how many kernels and what rounding costs:
the cycles of the same program built with every flag cleared, subtracted from its own.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_uno.py [MODEL ...] [--bits 16,8,mixed]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import hlsfix
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.round_choice import flagged, with_flags
from hlsfix.fixedpoint.uno_cost import estimate_cycles
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.mcu.uno import UnoBuild, build_uno
from hlsfix.zoo import ZOO_NAMES

N_INPUTS = 20
HEADER = (
    "model",
    "bits",
    "cycles",
    "predicted (uno_cost)",
    "ms",
    "vs 16-bit",
    "model flash B",
    "firmware flash B",
    "sketch flash B",
    "sketch RAM B",
    "firmware RAM B",
    "stack B",
    "float input → q cycles",
    "accuracy",
    "float",
    "agrees with float",
    "-Os bit-exact",
    "rounding: kernels, Δ cycles",
    "explore s",
)


def bit_exact_at_os(cm: hlsfix.CompiledModel, build: UnoBuild, d: Path) -> bool:
    x = cm.test[0][:N_INPUTS]
    fw = emit_firmware(cm.program, build.plan, quantize_input(cm.program, x), d)
    elf = runners.compile_avr(fw.sources, d / "fw_os.elf", include_dirs=fw.include_dirs, opt="-Os")
    got = decode_records(cm.program, runners.run_avr(elf).records)
    return bool(np.array_equal(got, cm.golden(x).output))


def row(name: str, bits: str, base_cycles: dict[str, float]) -> str:
    t0 = time.perf_counter()
    cm = hlsfix.compile(name, bits=bits)
    explore_s = time.perf_counter() - t0
    x, y = cm.test
    acc, float_acc = cm.accuracy(x, y), float(np.mean(cm.predict_float(x) == y))
    agree = float(np.mean(cm.predict(x) == cm.predict_float(x)))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            b = build_uno(cm, Path(tmp) / "uno", n_inputs=N_INPUTS)
        except HlsfixError as e:
            return f"| {name} | {bits} | does not build: {e} |" + " |" * (len(HEADER) - 3)
        os_ok = bit_exact_at_os(cm, b, Path(tmp) / "os")
        rounding = "—"
        if flags := flagged(cm.program):
            floor = dataclasses.replace(cm, program=with_flags(cm.program, frozenset(flags)))
            cost = b.mean_cycles - build_uno(floor, Path(tmp) / "floor", n_inputs=N_INPUTS).mean_cycles
            rounding = f"{len(flags)}, {cost:+,.0f}"
    if bits == "16":
        base_cycles[name] = b.mean_cycles
    base = base_cycles.get(name)
    speed = f"{base / b.mean_cycles:.2f}×" if base else "—"
    s = b.sketch
    sketch = (f"{s.flash_bytes:,}", f"{s.ram_bytes:,}") if s else ("—", "—")
    predicted = estimate_cycles(cm.program)
    return (
        f"| {name} | {bits} | {b.mean_cycles:,.0f} | {predicted:,.0f} | {b.ms:.2f} | {speed} | "
        f"{b.model_flash_bytes:,} | "
        f"{b.flash_bytes:,} | {sketch[0]} | {sketch[1]} | {b.ram_bytes:,} | {b.stack_bytes} | "
        f"{b.input_cycles or 0:,.0f} | "
        f"{acc:.4f} | {float_acc:.4f} | {agree:.2%} | {'yes' if os_ok else 'NO'} | {rounding} | "
        f"{explore_s:.1f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=list(ZOO_NAMES))
    ap.add_argument("--bits", default="16,8,mixed", help="comma-separated widths (default %(default)s)")
    args = ap.parse_args()
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    base: dict[str, float] = {}
    for name in args.models:
        for bits in args.bits.split(","):
            print(row(name, bits, base))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
