"""Choose which top-level kernels run on the FPGA: the partition of least predicted latency.

The search is exhaustive over partitions with at most ``max_segments`` FPGA segments (runs of
consecutive top-level kernels): every choice of segment boundaries, filtered by the user's pins.
A candidate is costed from tables built once -- the measured MCU cycles per kernel, the exact
accelerator cycles of every possible segment (``all_segment_costs``) and each tensor's transfer
cost -- with the transfer rule of ``transfers.plan_partition`` replayed on precomputed kernel
effects (bonsai's 27 kernels, 20,853 candidates for two segments, in well under a second). The
chosen plan and the two baselines (all on the MCU, all on the FPGA) are then re-costed from
scratch: ``plan_partition`` and ``predict`` with an image compiled for exactly their segments.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from hlsfix.codesign import costs
from hlsfix.codesign.costs import AcceleratorCosts, McuKernelCycles, Prediction
from hlsfix.codesign.link_costs import HostLink
from hlsfix.codesign.transfers import FPGA, MCU, SIDES, Partition, kernel_effects, plan_partition
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram


class PartitionError(HlsfixError):
    """Pins that name no kernel or no side, or that no partition can honour."""


def parse_pins(text: str) -> dict[int, str]:
    """``"3=mcu,5=fpga"`` → ``{3: "mcu", 5: "fpga"}`` (an empty string: no pins)."""
    pins: dict[int, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        index, sep, side = (s.strip() for s in item.partition("="))
        if not sep or not index.isdigit():
            raise PartitionError(f"a pin must be KERNEL=SIDE (e.g. 3=mcu), not {item!r}")
        if side not in SIDES:
            raise PartitionError(f"pin {item!r}: side must be one of {', '.join(SIDES)}, not {side!r}")
        if pins.get(int(index), side) != side:
            raise PartitionError(f"kernel {int(index)} must be pinned to one side, not to both")
        pins[int(index)] = side
    return pins


def check_pins(program: KernelProgram, pins: dict[int, str] | None) -> dict[int, str]:
    n = len(program.kernels)
    for index, side in (pins or {}).items():
        if not isinstance(index, int) or not 0 <= index < n:
            raise PartitionError(f"a pinned kernel index must be within 0..{n - 1}, not {index!r}")
        if side not in SIDES:
            raise PartitionError(f"kernel {index}'s pin must be one of {', '.join(SIDES)}, not {side!r}")
    return dict(pins or {})


def kernel_labels(program: KernelProgram) -> tuple[str, ...]:
    """One name per top-level kernel: its label (program.labels, in walk order) or its type."""
    labels, walk_index = [], 0
    for k in program.kernels:
        label = program.labels[walk_index] if walk_index < len(program.labels) else ""
        labels.append(label or type(k).__name__)
        walk_index += sum(1 for _ in kp.walk_kernels((k,)))
    return tuple(labels)


def sides_of(n: int, spans: Sequence[tuple[int, int]]) -> tuple[str, ...]:
    sides = [MCU] * n
    for a, b in spans:
        sides[a:b] = [FPGA] * (b - a)
    return tuple(sides)


@dataclass(frozen=True)
class _Tables:
    """What one candidate's cost needs, computed once per search."""

    touched: tuple[tuple[str, ...], ...]  # per kernel: tensors read or written, sorted
    written: tuple[frozenset[str], ...]
    held_by_mcu_before: tuple[frozenset[str], ...]  # [a]: the input and what kernels < a write
    touched_from: tuple[frozenset[str], ...]  # [b]: what kernels >= b touch, and the output
    moves: dict[str, costs.TensorMove]
    mcu_prefix: tuple[float, ...]  # prefix sums of the MCU kernel cycles
    start_cycles: float
    poll_cycles: float
    first_sample: float
    host_per_fpga: float


def _tables(program: KernelProgram, mcu: McuKernelCycles, acc: AcceleratorCosts, link: HostLink) -> _Tables:
    effects = [kernel_effects(k, program) for k in program.kernels]
    names = {program.input, program.output}.union(*(r | w for r, w in effects))
    n = len(effects)
    return _Tables(
        touched=tuple(tuple(sorted(r | w)) for r, w in effects),
        written=tuple(frozenset(w) for _, w in effects),
        held_by_mcu_before=tuple(
            frozenset({program.input}.union(*(w for _, w in effects[:a]))) for a in range(n + 1)
        ),
        touched_from=tuple(
            frozenset({program.output}.union(*(r | w for r, w in effects[b:]))) for b in range(n + 1)
        ),
        moves={name: costs.tensor_move(program, name, acc, link) for name in names},
        mcu_prefix=tuple(itertools.accumulate(mcu.cycles, initial=0.0)),
        start_cycles=link.start_cycles(),
        poll_cycles=link.poll_cycles(),
        first_sample=link.first_status_sample(),
        host_per_fpga=link.host_cycles_per_fpga_cycle,
    )


def _candidate_cycles(
    program: KernelProgram, spans: Sequence[tuple[int, int]], t: _Tables, acc: AcceleratorCosts, entry: float
) -> float:
    """Predicted total of the partition with FPGA segments ``spans``: ``plan_partition``'s
    transfer rule on the precomputed effects, then the costs of ``costs.segment_cost``."""
    n = len(program.kernels)
    total = entry + t.mcu_prefix[n]
    if not spans:
        return total
    # Before the first segment every kernel is on the MCU: nothing moves, and the MCU holds what
    # they wrote. After the last one, every tensor only the FPGA holds that a later kernel
    # touches (or the output) is read back once. Only the kernels in between are replayed.
    first, last = spans[0][0], spans[-1][1]
    held: dict[str, str | None] = dict.fromkeys(t.held_by_mcu_before[first], MCU)  # None: both sides
    on_fpga = [False] * n
    for a, b in spans:
        on_fpga[a:b] = [True] * (b - a)
        total -= t.mcu_prefix[b] - t.mcu_prefix[a]
        fpga_host = acc.segment_cycles[(a, b)] * t.host_per_fpga
        polls = costs.polls_until_done(fpga_host, t.poll_cycles, t.first_sample)
        total += t.start_cycles + polls * t.poll_cycles
    for i in range(first, last):
        total += _apply(held, i, FPGA if on_fpga[i] else MCU, t)
    later = t.touched_from[last]
    return total + sum(
        t.moves[name].read_cycles for name, owner in held.items() if owner == FPGA and name in later
    )


def _apply(held: dict[str, str | None], i: int, side: str, t: _Tables) -> float:
    """Run kernel i on ``side`` in the replay of ``held``: the transfer cycles it causes."""
    moved = 0.0
    for name in t.touched[i]:
        owner = held.get(name, side)  # a tensor no side holds yet moves nowhere
        if owner is None or owner == side:
            continue
        move = t.moves[name]
        moved += move.write_cycles if side == FPGA else move.read_cycles
        held[name] = None
    for name in t.written[i]:
        held[name] = side
    return moved


@dataclass(frozen=True)
class _SearchResult:
    cycles: float
    spans: tuple[tuple[int, int], ...]
    candidates: int


def _search(
    n: int, t: _Tables, acc: AcceleratorCosts, entry: float, max_segments: int, pins: dict[int, str]
) -> _SearchResult | None:
    """Every partition with at most ``max_segments`` segments honouring ``pins``, by depth-first
    choice of the next segment (start, then stop), extending the transfer replay one kernel at a
    time instead of replaying each candidate from scratch; the first of equal costs wins."""
    fpga_pinned_from = [any(pins.get(j) == FPGA for j in range(i, n)) for i in range(n + 1)]
    best: list[_SearchResult | None] = [None]
    count = [0]

    def visit(
        held: dict[str, str | None], pos: int, cost: float, spans: tuple, left: int, min_start: int
    ) -> None:
        # ``held``/``cost``: the replay and the cycles of kernels < pos (kernel pos - 1 is on
        # the FPGA or pos == 0), never changed here; the next segment starts at min_start or later.
        if not fpga_pinned_from[pos]:  # option: the rest on the MCU
            count[0] += 1
            later = t.touched_from[pos]
            tail = sum(t.moves[x].read_cycles for x, owner in held.items() if owner == FPGA and x in later)
            total = cost + t.mcu_prefix[n] - t.mcu_prefix[pos] + tail
            if best[0] is None or total < best[0].cycles:
                best[0] = _SearchResult(total, spans, 0)
        if left == 0:
            return
        mcu_held, mcu_cost = dict(held), cost
        for a in range(pos, n):
            if a >= min_start:
                fpga_held, seg_cost = dict(mcu_held), mcu_cost + t.start_cycles
                for b in range(a + 1, n + 1):
                    if pins.get(b - 1) == MCU:
                        break
                    seg_cost += _apply(fpga_held, b - 1, FPGA, t)
                    fpga_host = acc.segment_cycles[(a, b)] * t.host_per_fpga
                    wait = costs.polls_until_done(fpga_host, t.poll_cycles, t.first_sample)
                    # visit reads fpga_held and copies before it extends: no copy here
                    visit(fpga_held, b, seg_cost + wait * t.poll_cycles, (*spans, (a, b)), left - 1, b + 1)
            if pins.get(a) == FPGA:
                break  # kernel a cannot stay on the MCU: no later segment start may skip it
            mcu_cost += t.mcu_prefix[a + 1] - t.mcu_prefix[a] + _apply(mcu_held, a, MCU, t)

    visit(dict.fromkeys(t.held_by_mcu_before[0], MCU), 0, entry, (), max_segments, 0)
    return None if best[0] is None else _SearchResult(best[0].cycles, best[0].spans, count[0])


@dataclass(frozen=True)
class Plan:
    """The chosen partition, its prediction, and the baselines, all re-costed exactly."""

    host: str
    lanes: int
    labels: tuple[str, ...]  # per top-level kernel
    partition: Partition
    prediction: Prediction
    all_mcu: Prediction
    all_fpga: Prediction
    mcu: McuKernelCycles
    link: HostLink
    pins: tuple[tuple[int, str], ...]
    max_segments: int
    candidates: int  # partitions costed by the search

    def to_report(self) -> dict[str, object]:
        """The ``codesign`` section of report.json."""
        link = self.link

        def figures(p: Prediction) -> dict[str, object]:
            return {
                "total_cycles": round(p.total_cycles, 1),
                "total_us": round(p.total_cycles / link.host_hz * 1e6, 2),
                "mcu_cycles": round(p.mcu_cycles, 1),
                "fpga_cycles": p.fpga_cycles,
                "fpga_host_cycles": round(p.fpga_host_cycles, 1),
                "link_bytes": p.link_bytes,
                "link_cycles": round(p.link_cycles, 1),
                "wait_cycles": round(p.wait_cycles, 1),
            }

        return {
            "host": self.host,
            "link": link.name,
            "host_hz": link.host_hz,
            "lanes": self.lanes,
            "unit": "host cycles",
            "estimated": self.prediction.estimated,
            "mcu_source": self.mcu.source,
            "link_source": link.driver.source,
            "partition": [
                {"kernel": i, "label": label, "side": side}
                for i, (label, side) in enumerate(zip(self.labels, self.partition.sides, strict=True))
            ],
            "segments": [
                {
                    "kernels": list(s.kernels),
                    "writes": list(p.writes),
                    "reads": list(p.reads),
                    "fpga_cycles": s.fpga_cycles,
                    "write_bytes": s.write_bytes,
                    "read_bytes": s.read_bytes,
                    "polls": s.polls,
                }
                for s, p in zip(self.prediction.segments, self.partition.segments, strict=True)
            ],
            "predicted": figures(self.prediction),
            "baselines": {"all_mcu": figures(self.all_mcu), "all_fpga": figures(self.all_fpga)},
            "speedup_vs_all_mcu": round(self.all_mcu.total_cycles / self.prediction.total_cycles, 3),
            "pins": {str(i): side for i, side in self.pins},
            "max_segments": self.max_segments,
            "candidates": self.candidates,
        }


def candidate_spans(n: int, max_segments: int) -> itertools.chain[tuple[tuple[int, int], ...]]:
    """Every set of at most ``max_segments`` disjoint, non-adjacent segments of 0..n-1 (two
    adjacent ones would be one segment), as (start, stop) pairs in order."""
    return itertools.chain.from_iterable(
        (tuple(zip(cut[::2], cut[1::2], strict=True)) for cut in itertools.combinations(range(n + 1), 2 * k))
        for k in range(max_segments + 1)
    )


def exact_prediction(
    program: KernelProgram, sides: Sequence[str], host: str, lanes: int, mcu: McuKernelCycles
) -> tuple[Partition, Prediction]:
    partition = plan_partition(program, tuple(sides))
    return partition, costs.predict(program, partition, host, lanes, mcu=mcu)


def choose_partition(
    program: KernelProgram,
    host: str,
    lanes: int,
    pins: dict[int, str] | None = None,
    max_segments: int = 2,
    *,
    mcu: McuKernelCycles | None = None,
) -> Plan:
    """The partition of least predicted latency with at most ``max_segments`` FPGA segments that
    honours ``pins`` (kernel index → "mcu"/"fpga"); ``mcu``: the per-kernel MCU costs (default:
    measured by ``mcu_kernel_cycles`` on stand-in inputs)."""
    costs.check_host(host)
    pins = check_pins(program, pins)
    if max_segments < 0:
        raise PartitionError(f"max_segments must be at least 0, not {max_segments}")
    mcu = mcu if mcu is not None else costs.mcu_kernel_cycles(program, host)
    n = len(program.kernels)
    acc = costs.all_segment_costs(program, lanes)
    tables = _tables(program, mcu, acc, costs.link_for(program, host))
    best = _search(n, tables, acc, mcu.entry_cycles, max_segments, pins)
    if best is None:
        raise PartitionError(
            f"the pins {pins} need more than max_segments={max_segments} FPGA segments; raise it or drop pins"
        )
    partition, prediction = exact_prediction(program, sides_of(n, best.spans), host, lanes, mcu)
    return Plan(
        host=host,
        lanes=lanes,
        labels=kernel_labels(program),
        partition=partition,
        prediction=prediction,
        all_mcu=exact_prediction(program, [MCU] * n, host, lanes, mcu)[1],
        all_fpga=exact_prediction(program, [FPGA] * n, host, lanes, mcu)[1],
        mcu=mcu,
        link=costs.link_for(program, host),
        pins=tuple(sorted(pins.items())),
        max_segments=max_segments,
        candidates=best.candidates,
    )
