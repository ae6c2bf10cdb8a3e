"""Each kernel at 8 bits beside its 16-bit sibling on the Arduino Uno (simavr cycles, mean over
20 inputs, every output checked against the golden model): one markdown table.

The kernels are one-kernel programs lowered by the real compiler (``hlsfix/mcu/kernel_cases.py``);
"work" is the products (dot products) or elements the kernel computes per call.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_kernels8.py [--opt -Os]
"""

from __future__ import annotations

import argparse
import sys

from hlsfix.fixedpoint import program as kp
from hlsfix.mcu import runners
from hlsfix.mcu.kernel_cases import CASES, build_case, measure
from hlsfix.mcu.lut8 import tabulable
from hlsfix.mcu.narrow import Bounds, c_width


def variant(built_program: kp.KernelProgram, kind: type[kp.Kernel]) -> str:
    """How the 8-bit program computes the kernel: its C width (16 where proven)."""
    k = next(k for k in built_program.walk() if isinstance(k, kind))
    if tabulable(built_program, k):
        return "one 256-entry table"
    if not hasattr(k, "wide"):
        return "—"
    return f"int{c_width(Bounds(built_program), k)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--opt", default=runners.AVR_OPT, help="avr-gcc optimisation flag (default %(default)s)")
    args = ap.parse_args()
    header = [
        "kernel",
        "work",
        "16-bit cycles",
        "8-bit cycles",
        "8-bit arithmetic",
        "speedup",
        "cycles/work 8-bit",
    ]
    print(f"simavr, ATmega328P @ 16 MHz, avr-gcc {args.opt}; mean over 20 inputs, bit-exact with golden.py")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for case in CASES:
        b16, b8 = build_case(case, 16), build_case(case, 8)
        c16, c8 = measure(b16, args.opt).cycles, measure(b8, args.opt).cycles
        print(
            f"| {case.name} | {b8.work} | {c16:,.0f} | {c8:,.0f} | {variant(b8.program, case.kind)} | "
            f"{c16 / c8:.2f}× | {c8 / max(b8.work, 1):.1f} |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
