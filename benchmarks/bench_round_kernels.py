"""What rounding (the ``round_out`` flag) costs each AVR kernel: simavr cycles with floor shifts and
with every flag set where it may be (``round_fold.flag_rounding``), at 8 and 16 bits.

Per kernel case of ``hlsfix/mcu/kernel_cases.py`` that ends in a right shift: mean cycles of the
measured kernel over the case's inputs (ATmega328P, the generated Makefile's -O2; every output
checked against the golden model by ``kernel_cases.measure``), floor and rounded, and the difference.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_round_kernels.py [--bits 8,16]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.round_choice import flagged, with_flags
from hlsfix.fixedpoint.round_fold import ROUNDABLE, flag_rounding
from hlsfix.mcu.kernel_cases import CASES, build_case, measure

HEADER = ("kernel", "bits", "rounded kernels", "floor cycles", "rounded cycles", "Δ cycles", "Δ %")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bits", default="8,16", help="comma-separated widths (default %(default)s)")
    args = ap.parse_args()
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for case in CASES:
        if case.kind not in (*ROUNDABLE, kp.AddSub):
            continue
        for bits in (int(b) for b in args.bits.split(",")):
            built = build_case(case, bits)
            rounded = flag_rounding(built.program, max_bits=32)
            flags = flagged(rounded)
            floor = with_flags(rounded, frozenset(flags))
            c_floor = measure(dataclasses.replace(built, program=floor)).cycles
            c_round = measure(dataclasses.replace(built, program=rounded)).cycles
            print(
                f"| {case.name} | {bits} | {len(flags)} | {c_floor:,.0f} | {c_round:,.0f} | "
                f"{c_round - c_floor:+,.0f} | {100 * (c_round - c_floor) / c_floor:+.1f} |"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
