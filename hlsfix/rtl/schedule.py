"""Static hazard schedule: which instructions must wait for the pipeline to drain.

Instructions issue in order and each beat-producing kernel writes its results a fixed number of
cycles after it reads its operands, so a kernel may start while earlier ones are still in the
pipeline unless it reads what they write (RAW, on RAM address ranges or registers), would finish
before them (a shorter write latency: results must leave in order through the one write stage),
or is a sequencer instruction touching a register a pending kernel writes or reads late.
Loop trip counts are static, so the dynamic instruction trace is enumerated exactly and an
instruction drains if any of its executions needs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.rtl.isa import SEQUENCER_OPS, Op


@dataclass(frozen=True)
class InsnUse:
    op: Op
    ram_reads: tuple[tuple[int, int], ...] = ()  # [lo, hi) word ranges
    ram_write: tuple[int, int] | None = None
    regs_issue: frozenset[int] = frozenset()  # registers read when the kernel starts (addresses)
    regs_post: frozenset[int] = frozenset()  # registers read at the write stage (Select operands)
    reg_write: int | None = None  # written at the write stage (or at issue for sequencer ops)
    latency: int = 0  # write-stage latency class


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _conflict(pending: InsnUse, new: InsnUse) -> bool:
    late_w = {pending.reg_write} if pending.reg_write is not None else set()
    if new.op in SEQUENCER_OPS:
        touched = set(new.regs_issue) | ({new.reg_write} if new.reg_write is not None else set())
        return bool(late_w & touched) or (new.reg_write in pending.regs_post)
    if pending.ram_write and any(_overlap(pending.ram_write, r) for r in new.ram_reads):
        return True
    if late_w & (new.regs_issue | new.regs_post):
        return True
    return new.latency < pending.latency


def trace(insns: list[dict]) -> list[int]:
    """The dynamic order of instruction indices (loops unrolled; their bounds are immediates)."""
    out, regs, pc = [], {}, 0
    while True:
        out.append(pc)
        insn = insns[pc]
        op = insn["op"]
        if op == Op.DONE:
            return out
        if op == Op.LOOPINIT:
            regs[insn["dst"]] = insn["imm"]
        elif op == Op.LOOPNEXT:
            regs[insn["dst"]] += 1
            if regs[insn["dst"]] < insn["imm"]:
                pc = insn["target"]
                continue
        pc += 1


def schedule_drains(insns: list[dict], uses: list[InsnUse]) -> list[bool]:
    order = trace(insns)
    drain = [False] * len(insns)
    changed = True
    while changed:  # flags only grow, so this reaches a fixed point
        changed = False
        pending: list[int] = []
        for pc in order:
            use = uses[pc]
            if drain[pc] or any(_conflict(uses[j], use) for j in pending):
                if not drain[pc]:
                    drain[pc] = changed = True
                pending = []
            if use.op not in SEQUENCER_OPS:
                pending.append(pc)
    return drain
