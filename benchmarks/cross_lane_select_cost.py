"""What serving the select cycle's write only from the reading lane would cost in cycles, by the
schedule's model (no hardware built): predicted cycles per inference at P = 8 and 16 for the six zoo
models, as now and with a dependent kernel waiting one cycle more where it reads another lane's
write in its operand select's cycle.

From 8 lanes on an operand takes the write that lands in its select cycle from any lane (an 8-input
multiplexer after a crossing of the die, the P = 8 critical path that no register removes). Waiting a
cycle instead moves that write to the cycle before, which each lane can keep local copies of. The
schedule's ``own_lane`` only knows the words of a kernel's first beat and of its producer's last beat,
so two bounds are printed: "lower" waits only where ``own_lane`` fails (the pairs one beat further
apart are not checked), "upper" waits at every RAM dependence.

    python benchmarks/cross_lane_select_cost.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hlsfix  # noqa: E402
from hlsfix.rtl import reorder, schedule  # noqa: E402
from hlsfix.rtl.isa import Op  # noqa: E402
from hlsfix.rtl.microcode import compile_image  # noqa: E402

MODELS = ("protonn", "bonsai", "bonsai-binary", "fastgrnn", "cnn", "mlp")
LANES = (8, 16)
NEED = schedule.need


def waiting_need(mode: str):
    """``schedule.need``, a cycle longer for RAM dependences above the late forwarding's lanes:
    where ``own_lane`` fails ("lower") or always ("upper")."""

    def need(pending, new, writes) -> int:
        n = NEED(pending, new, writes)
        if writes.late or not pending.ram_write:
            return n
        if not any(schedule._overlap(pending.ram_write, r) for r in new.ram_reads):
            return n
        if mode == "upper" or new.op in (Op.EXP, Op.SIGTANH) or not schedule.own_lane(pending, new):
            return max(n, writes[pending.latency] - 3)
        return n

    return need


def main() -> None:
    programs = {model: hlsfix.compile(model, bits="16").program for model in MODELS}
    print("| model | P | now | lower | upper |")
    print("|---|---|---|---|---|")
    cycles: dict[tuple[str, int, str], int] = {}
    for mode in ("now", "lower", "upper"):
        schedule.need = reorder.need = NEED if mode == "now" else waiting_need(mode)
        for model, program in programs.items():
            for lanes in LANES:
                cycles[model, lanes, mode] = compile_image(program, lanes).predicted_cycles
    schedule.need = reorder.need = NEED
    for model in MODELS:
        for lanes in LANES:
            row = " | ".join(f"{cycles[model, lanes, m]:,}" for m in ("now", "lower", "upper"))
            print(f"| {model} | {lanes} | {row} |")


if __name__ == "__main__":
    main()
