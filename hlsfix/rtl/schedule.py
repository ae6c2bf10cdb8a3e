"""Static hazard schedule: how long each instruction must wait before it starts.

Instructions issue in order and each beat-producing kernel writes its results a fixed number of
cycles after it reads its operands, so a kernel may start while earlier ones are still in the
pipeline. The sequencer counts the cycles since the last issued beat, and each instruction carries
the smallest value of that counter at which it may be accepted (``wait``); an instruction with
``wait`` 0 is accepted during the previous kernel's last beat, so independent kernels issue back
to back. ``drain`` (wait for the pipeline to empty) is left for the end of the program.

The pipeline (``accelerator.py``), counted from a beat issued at t: its RAM and ROM operands are
read at t + 1 (transparent to a write in that cycle), the block RAMs' data registered at t + 2,
selected at t + 3 (forwarded from a write in that cycle or the one before; from
``LOCAL_SELECT_FROM`` lanes on, that cycle's from the reading lane's own where ``own_lane_near``
decides) and used at t + 4
(forwarded late from a write in that cycle: any lane's up to ``LATE_FORWARDING_LANES`` lanes, the
reading lane's own beyond, where ``own_lane`` decides); a result is
written at t + 7 (RAM, or a register visible from t + 7: register results skip the rescale;
Sgn's and Select's from t + 5, decided at t + 4 on the operand: ``EARLY_REGISTER``), an
Exp result at t + 10, a SigmoidTanh result after the divider (a dot product split across the
lanes, latency class 1, like Exp).
Several of those cycles are registers that keep the clock fast: the block RAMs' data, the
operands before the multiply, the saturated result before the write and the forwarding, a
table's index and words before their product.
Each lane has one write stage: a kernel may overtake a longer-latency one if their write cycles
never meet and they write different words; otherwise its first write follows the other's last. A
kernel accepted at cycle s reads registers (its addresses) at s - 1 (``accelerator.py`` registers
the products) and issues its first beat at s + 1; a sequencer instruction reads and writes
registers at s.

Loop trip counts are static, so the dynamic instruction trace and the sequencer's timing are
simulated exactly; an instruction's wait is the largest any of its executions needs. The simulated
cycle count is returned too, and the testbench checks it against the hardware's: the schedule is
only safe while that model is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.rtl.copies import spread_lanes
from hlsfix.rtl.isa import SEQUENCER_OPS, Op

MAX_WAIT = 63  # the instruction field is 6 bits wide
WRITE_AT = 7  # a class-0 result's write cycle after its beat's issue (accelerator.py's pipeline)
# Late forwarding across lanes looks up every operand's address in the next cycle's writes of all
# P lanes: P² comparisons and a P-input data multiplexer per operand (~7,600 LUTs at P = 16,
# synthesised alone), in series with the multiply after a route across every lane. Wider
# accelerators forward late from the reading lane's own write stage only (at P = 8 the MLP routes
# at 66.7 MHz without any late forwarding, 60.1 with it across lanes; ECP5-45F), and a dependent
# kernel waits one cycle longer unless every word it needs so is its own lane's (``own_lane``).
# Only a single lane (its own write stage is every lane's) forwards late from every lane: from 2
# lanes on the lanes are spread over the die (``copies.SPREAD_FROM``), where the path across the
# lanes bounded the clock and the own-lane rule costs the zoo at most a cycle
# (docs/accelerator-timing.md, session 20).
LATE_FORWARDING_LANES = 1
# Sgn and Select write their register from the operand at t + 4 (``lane_ops.early_register_write``),
# this many cycles before a write-stage result, and never use the write stage.
EARLY_REGISTER = 2
EARLY_OPS = frozenset({Op.SGN, Op.SELECT})


# From this many lanes an operand takes the write of its select cycle from its own lane only too
# (``forwarding.BankForwarding``), not through a P-input multiplexer after a route across the
# die; a dependent kernel waits a cycle more where another lane's write would land there.
LOCAL_SELECT_FROM = 8


def local_select(lanes: int) -> bool:
    """Whether the accelerator of ``lanes`` lanes forwards its select cycle's write lane-locally."""
    return lanes >= LOCAL_SELECT_FROM and spread_lanes(lanes)


def late_forwarding(lanes: int) -> bool:
    """Whether the accelerator of ``lanes`` lanes has late forwarding (``accelerator.py``)."""
    return lanes <= LATE_FORWARDING_LANES


class WriteTiming(dict):
    """Write-stage cycle after a beat's issue, per latency class; ``late``: operands are
    late-forwarded from every lane (else from their own lane's only: ``own_lane``); ``local``:
    the write of an operand's select cycle is forwarded from its own lane's only too."""

    def __init__(self, cycles: dict[int, int], late: bool, local: bool = False) -> None:
        super().__init__(cycles)
        self.late = late
        self.local = local

    def __eq__(self, other: object) -> bool:
        same = isinstance(other, WriteTiming) and (self.late, self.local) == (other.late, other.local)
        return same and super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def write_at(div_latency: int, late: bool = True, local: bool = False) -> WriteTiming:
    """Write-stage cycle after a beat's issue, per latency class (2: through the divider)."""
    return WriteTiming({0: WRITE_AT, 1: WRITE_AT + 3, 2: WRITE_AT + 2 + div_latency}, late, local)


@dataclass(frozen=True)
class InsnUse:
    op: Op
    ram_reads: tuple[tuple[int, int], ...] = ()  # [lo, hi) word ranges
    ram_write: tuple[int, int] | None = None
    regs_issue: frozenset[int] = frozenset()  # registers read when the kernel starts (addresses)
    regs_post: frozenset[int] = frozenset()  # registers read at the write stage (Select operands)
    reg_write: int | None = None  # written at the write stage (or at issue for sequencer ops)
    latency: int = 0  # write-stage latency class
    # the first beat's RAM reads and the last beat's RAM writes, (word, lane) each, for the
    # own-lane late forwarding (``lane_words.py``); None: not known (not own-lane)
    first_reads: frozenset[tuple[int, int]] | None = None
    last_writes: frozenset[tuple[int, int]] | None = None
    # the second beat's reads and the one before the last beat's writes, likewise: the pairs of
    # beats whose write lands in the operand's select cycle at the early start
    second_reads: frozenset[tuple[int, int]] | None = None
    penult_writes: frozenset[tuple[int, int]] | None = None


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def register_at(use: InsnUse, writes: dict[int, int]) -> int:
    """The cycle after a beat's issue from which its register result is visible (a Select reads
    its operand registers in the cycle before)."""
    return writes[use.latency] - (EARLY_REGISTER if use.op in EARLY_OPS else 0)


def need(pending: InsnUse, new: InsnUse, writes: WriteTiming) -> int:
    """How many cycles after ``pending``'s last beat ``new`` may be accepted (0: any time)."""
    late_w = {pending.reg_write} if pending.reg_write is not None else set()  # visible at reg_at
    write_at, reg_at = writes[pending.latency], register_at(pending, writes)
    if new.op in SEQUENCER_OPS:
        touched = set(new.regs_issue) | ({new.reg_write} if new.reg_write is not None else set())
        return reg_at if late_w & touched or new.reg_write in pending.regs_post else 0
    need = 0
    if pending.ram_write and any(_overlap(pending.ram_write, r) for r in new.ram_reads):
        need = write_at - 5  # the first operand, read at s + 2 and selected at s + 4, sees the
        # write (a transparent RAM port at s + 2, forwarding from the write stage at s + 3 and
        # s + 4, late forwarding at s + 5 of a write matched at s + 4 with the saturated result:
        # only the first beat's reads of the last beat's writes need it, which are all the
        # reading lane's own or else wait a cycle where late forwarding is lane-local);
        # a table kernel's index is computed from the operand before late forwarding
        if new.op in (Op.EXP, Op.SIGTANH) or not (writes.late or own_lane(pending, new)):
            need = write_at - 4
        if writes.local:  # the write of the select cycle is served from the reading lane's own
            if not own_lane(pending, new):
                need = write_at - 3
            elif need == write_at - 5 and not own_lane_near(pending, new):
                need = write_at - 4
    if late_w & new.regs_issue:
        need = reg_at + 1  # address products are computed at s - 1 from registers, which
        # a register result reaches at ``register_at``
    if late_w & new.regs_post:  # read a cycle before the new kernel's own register write
        need = max(need, reg_at - register_at(new, writes) + 1)
    if new.reg_write is not None and new.reg_write == pending.reg_write:
        need = max(need, reg_at - register_at(new, writes))  # the later result lands last
    elif new.latency < pending.latency and _same_target(pending, new):
        # a later result to the same place must land last: the first write follows the last
        need = max(need, write_at - writes[new.latency])
    return need


class NeedMemo:
    """``need`` under one timing, remembered by the ``id`` of its two ``InsnUse``: the reorder
    search (``reorder.py``) times thousands of permutations of the same uses, and ``need`` is a
    pure function of them. Whoever holds a memo keeps the uses it has seen alive."""

    def __init__(self, writes: WriteTiming) -> None:
        self.writes = writes
        self._table: dict[tuple[int, int], int] = {}

    def __call__(self, pending: InsnUse, new: InsnUse) -> int:
        key = (id(pending), id(new))
        value = self._table.get(key)
        if value is None:
            value = self._table[key] = need(pending, new, self.writes)
        return value


def own_lane(pending: InsnUse, new: InsnUse) -> bool:
    """Does every word ``new``'s first beat reads from ``pending``'s last beat's writes come from
    the reading lane's own write stage? Then forwarding from that lane alone serves it at the
    early start (``lane_words.py``: no other pair of their beats is as close)."""
    return _read_where_written(pending.last_writes, new.first_reads)


def own_lane_near(pending: InsnUse, new: InsnUse) -> bool:
    """``own_lane`` for the pairs of beats one cycle further apart than the first and last ones
    (``new``'s first beat and ``pending``'s beat before the last, ``new``'s second and
    ``pending``'s last): their writes land in the operand's select cycle at the early start."""
    return _read_where_written(pending.penult_writes, new.first_reads) and _read_where_written(
        pending.last_writes, new.second_reads
    )


def _read_where_written(writes, reads) -> bool:
    """Is each (word, lane) of ``reads`` whose word ``writes`` holds read by the one lane that
    writes it? (None, a beat's words not known: no.)"""
    if writes is None or reads is None:
        return False
    writers: dict[int, set[int]] = {}
    for word, lane in writes:
        writers.setdefault(word, set()).add(lane)
    return all(writers.get(word, {lane}) == {lane} for word, lane in reads)


def _same_target(a: InsnUse, b: InsnUse) -> bool:
    ram = a.ram_write is not None and b.ram_write is not None and _overlap(a.ram_write, b.ram_write)
    return ram or (a.reg_write is not None and a.reg_write == b.reg_write)


def _write_cycles(insn: dict, start: int, beats: int, latency: int, writes: dict[int, int]) -> range:
    """The cycles a kernel accepted at ``start`` uses the write stage: a beat writes when it ends
    a reduction (``m1``·``m0`` beats; a split dot product's too), every beat of a sparse kernel
    may (its rows end where the entries say); Sgn and Select none."""
    if insn["op"] in EARLY_OPS:
        return range(0)
    first, last = start + 1 + writes[latency], start + beats + writes[latency]
    r = 1 if insn.get("sparse") else insn.get("m1", 1) * insn.get("m0", 1)
    return range(first + r - 1, last + 1, r)


def _meet(a: range, b: range) -> bool:
    if not a or not b or a[0] > b[-1] or b[0] > a[-1]:
        return False
    return not set(a).isdisjoint(b)


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


def schedule(
    insns: list[dict],
    uses: list[InsnUse],
    beats: list[int],
    div_latency: int,
    starts: list | None = None,
    late: bool = True,
    needs: NeedMemo | None = None,
    local: bool = False,
) -> tuple[list[bool], list[int], int]:
    """Per instruction (drain, wait), and the cycles of one inference under that schedule;
    ``starts`` (if given) receives (instruction, acceptance cycle) along the dynamic trace.

    The sequencer's timing is simulated exactly over the dynamic trace: when an instruction is
    considered, each pending producer j (last beat at t_j) requires acceptance at s >= t_j + need,
    which the instruction's wait turns into a bound from the latest beat. Waits only grow between
    passes and larger waits only spread the trace, so the fixed point satisfies every bound.

    ``needs``: a memo of ``need`` of this timing that a caller shares between calls."""
    order = trace(insns)
    writes = write_at(div_latency, late, local)
    needs = NeedMemo(writes) if needs is None else needs
    if needs.writes != writes:
        raise ValueError("the need memo must be of this schedule's timing, not another")
    free_after = {k: v + 1 for k, v in writes.items()}  # the pipeline is empty from then on
    drain, wait = [False] * len(insns), [0] * len(insns)
    for pc, use in enumerate(uses):
        drain[pc] = use.op == Op.DONE
    # per instruction, read once: the trace visits each many times and every pass again
    latency = [use.latency for use in uses]
    # a producer whose last beat was t imposes nothing on an acceptance after t + retired_after
    retired_after = [free_after[use.latency] - 1 for use in uses]
    written: dict[tuple[int, int], range] = {}  # a placed kernel's write cycles by (pc, start)

    def writes_of(pc: int, start: int) -> range:
        key = (pc, start)
        if key not in written:
            written[key] = _write_cycles(insns[pc], start, beats[pc], latency[pc], writes)
        return written[key]

    while True:
        changed = False
        accepted = []
        pending: list[tuple[int, int]] = []  # (pc, last beat)
        t_latest, busy_until = -(1 << 30), 0
        s0, after_kernel = 0, False  # first cycle the instruction can be accepted in
        prev_beats = 0  # beats of the previous instruction (0: a sequencer instruction or none)
        for pc in order:
            use = uses[pc]
            # producers retired before the earliest acceptance (s0 - 1: the fast path) impose nothing
            pending = [(j, t) for j, t in pending if t + retired_after[j] >= s0 - 1]
            req = max([0, *(t + needs(uses[j], use) - t_latest for j, t in pending)])
            if req > MAX_WAIT and not drain[pc]:
                drain[pc] = changed = True
            if not drain[pc] and req > wait[pc]:
                wait[pc], changed = req, True
            kernel = use.op not in SEQUENCER_OPS
            # A register-indexed kernel needs its address products from the cycle before: the
            # fast path only after a kernel of two beats or more, and one cycle in SETUP after a
            # sequencer instruction (or at the start) unless it waits anyway.
            indexed = kernel and bool(use.regs_issue)
            fast_ok = not indexed or prev_beats >= 2
            if kernel and after_kernel and not drain[pc] and wait[pc] == 0 and fast_ok:
                s = s0 - 1  # accepted during the previous kernel's last beat
            else:
                s = max(s0, t_latest + wait[pc], busy_until if drain[pc] else s0)
                if indexed and not after_kernel:
                    s = max(s, s0 + 1)
            if kernel and not drain[pc]:
                # Each lane has one write stage: a short-latency kernel may overtake a longer one
                # (Exp, SigmoidTanh) only if their writes never meet in one cycle (the cycles of each
                # kernel's writes, not their span); else it follows.
                for j, t in pending:
                    if latency[j] <= use.latency:
                        continue
                    if _meet(writes_of(pc, s), writes_of(j, t - beats[j])):
                        req = t + writes[latency[j]] - writes[use.latency] - t_latest
                        if req > MAX_WAIT:
                            drain[pc] = changed = True
                        elif req > wait[pc]:
                            wait[pc], changed = req, True
            accepted.append((pc, s))
            if drain[pc]:
                pending = []
            if use.op == Op.DONE:
                total = s + 2  # OUTREAD (a streamed class skips it: compile_image), then valid
                break
            prev_beats = beats[pc] if kernel else 0
            if kernel:
                t_latest = s + beats[pc]
                # a register result leaves the pipeline a cycle before a RAM result; Sgn and
                # Select leave it after S3, where they write theirs
                early = EARLY_REGISTER if use.op in EARLY_OPS else 0
                empty = free_after[use.latency] - (use.reg_write is not None) - early
                busy_until = max(busy_until, t_latest + empty)
                pending.append((pc, t_latest))
                s0, after_kernel = t_latest + 1, True
            else:
                s0, after_kernel = s + 1, False
        if not changed:
            if starts is not None:
                starts[:] = accepted
            return drain, wait, total
