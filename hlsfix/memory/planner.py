"""Compile-time static arena planner.

Every intermediate tensor gets a fixed byte offset inside one static arena, because the
smallest targets (a 2 KB Arduino) cannot afford malloc. Liveness analysis hands us buffers
with closed lifetime intervals; two buffers *conflict* when those intervals intersect and
then must not share any byte. Minimising the arena is the NP-hard "dynamic storage
allocation" problem, so we work in three steps, each only when the previous one left the
arena above the trivial lower bound (peak simultaneous live bytes):

1. greedy: size-descending order, best-fit placement (what SeeDot/TFLM do);
2. search: other orderings, then seeded random perturbations of the order;
3. exact: branch and bound for small programs, which either proves the optimum or gives up
   after a node budget and keeps the best plan found.

Everything is deterministic: the search's time allowance is converted into an evaluation
budget by a fixed cost model, so the same model compiles to the same arena on any machine.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

ALIGNMENTS = (1, 2, 4)

# Cost model turning search_seconds into a deterministic number of evaluated orders: one
# placement pass costs about 2 us per buffer plus 0.4 us per conflicting pair (measured with
# CPython 3.11 on a ~3 GHz x86 core). A wall clock would make the plan depend on machine load,
# which breaks reproducible firmware builds; the price is that slower hosts take longer.
_US_PER_BUFFER, _US_PER_PAIR, _US_PER_EVAL = 2.0, 0.4, 5.0

# Children the exact search may examine before giving up (about 1 s of CPython at most).
DEFAULT_EXACT_NODES = 50_000


@dataclass(frozen=True)
class Buffer:
    """One tensor to place: `size` bytes, live on time steps start..end inclusive."""

    name: str
    size: int
    start: int
    end: int
    align: int = 1


@dataclass(frozen=True)
class ArenaPlan:
    """Offsets of every buffer inside a single arena, plus figures of merit."""

    offsets: tuple[tuple[str, int], ...]
    arena_bytes: int
    lower_bound_bytes: int
    linear_bytes: int
    method: str
    # True when arena_bytes is proven minimal (it meets the bound, or the exact search finished).
    optimal: bool = False
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", dict(self.offsets))

    def offset(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"no buffer named {name!r} in this plan") from None


def _validate(buffers: Sequence[Buffer]) -> None:
    seen: set[str] = set()
    for b in buffers:
        for what in ("size", "start", "end", "align"):
            value = getattr(b, what)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise ValueError(f"buffer {b.name!r} {what} must be an integer, not {value!r}")
        if b.name in seen:
            raise ValueError(f"buffer name {b.name!r} is used more than once")
        seen.add(b.name)
        if b.size <= 0:
            raise ValueError(f"buffer {b.name!r} size must be > 0, not {b.size}")
        if b.end < b.start:
            raise ValueError(f"buffer {b.name!r} end must be >= start, not end={b.end} < start={b.start}")
        if b.align not in ALIGNMENTS:
            raise ValueError(f"buffer {b.name!r} align must be one of {ALIGNMENTS}, not {b.align}")


def lower_bound(buffers: Sequence[Buffer]) -> int:
    """Peak over time of the total size of simultaneously live buffers."""
    # Sweep start/stop events; at equal times frees (at end + 1) sort before allocations
    # because the (time, delta) tuple orders the negative delta first.
    events = sorted([(b.start, b.size) for b in buffers] + [(b.end + 1, -b.size) for b in buffers])
    live = peak = 0
    for _, delta in events:
        live += delta
        peak = max(peak, live)
    return peak


def _align_up(x: int, align: int) -> int:
    return -(-x // align) * align


class _Problem:
    """Buffers flattened into index-based lists for the hot placement loops."""

    def __init__(self, buffers: Sequence[Buffer]) -> None:
        self.buffers = list(buffers)
        self.n = len(buffers)
        self.sizes = [b.size for b in buffers]
        self.aligns = [b.align for b in buffers]
        self.nbrs: list[list[int]] = [[] for _ in buffers]
        # Sweep in start order so only genuinely conflicting pairs are visited.
        by_start = sorted(range(self.n), key=lambda i: buffers[i].start)
        for k, i in enumerate(by_start):
            for j in by_start[k + 1 :]:
                if buffers[j].start > buffers[i].end:
                    break
                self.nbrs[i].append(j)
                self.nbrs[j].append(i)
        self.pairs = sum(len(x) for x in self.nbrs) // 2

    def place(self, order: Sequence[int], first_fit: bool) -> tuple[list[int], int, int]:
        """Place buffers in `order`; return (offsets, arena, sum of tops).

        first_fit takes the lowest gap that fits; otherwise best fit takes the smallest
        adequate gap. Either way a buffer that fits nowhere goes on top of its neighbours.
        The sum of tops is a tie-breaker that lets the search tell "more compact" apart.
        """
        sizes, aligns, nbrs = self.sizes, self.aligns, self.nbrs
        offs = [-1] * self.n
        arena = total_top = 0
        for i in order:
            size, align = sizes[i], aligns[i]
            spans = sorted((offs[j], offs[j] + sizes[j]) for j in nbrs[i] if offs[j] >= 0)
            chosen, chosen_gap, cursor = -1, 0, 0
            for lo, hi in spans:
                if lo > cursor:
                    cand = _align_up(cursor, align)
                    if cand + size <= lo and (chosen < 0 or lo - cursor < chosen_gap):
                        chosen, chosen_gap = cand, lo - cursor
                        if first_fit:
                            break
                cursor = max(cursor, hi)
            if chosen < 0:
                chosen = _align_up(cursor, align)
            offs[i] = chosen
            top = chosen + size
            total_top += top
            arena = max(arena, top)
        return offs, arena, total_top


@dataclass
class _Best:
    """Best packing found so far, and which step found it."""

    offs: list[int]
    arena: int
    method: str


def _greedy_order(buffers: Sequence[Buffer]) -> list[int]:
    return sorted(
        range(len(buffers)),
        key=lambda i: (-buffers[i].size, -(buffers[i].end - buffers[i].start), buffers[i].start, i),
    )


def _search(prob: _Problem, best: _Best, floor: int, evals: int, seed: int) -> int:
    """Improve `best` in place: alternative orderings, then random perturbations.

    Returns the number of evaluations left when it stopped (it stops early at the bound).
    """
    bufs, n = prob.buffers, prob.n
    span = [b.end - b.start + 1 for b in bufs]

    def evaluate(order: list[int], ff: bool) -> tuple[list[int], tuple[int, int]]:
        nonlocal evals
        evals -= 1
        offs, arena, tops = prob.place(order, ff)
        if arena < best.arena:
            best.offs, best.arena, best.method = offs, arena, "search"
        return offs, (arena, tops)

    # The walk is scored by (arena, sum of tops) so it can tell "more compact" apart on a
    # plateau; `best` only changes when the arena itself shrinks. First fit in offset order
    # never places anything higher, so it turns the best packing so far into a start order.
    elite_order = sorted(range(n), key=lambda i: (best.offs[i], i))
    elite = (elite_order, True, *evaluate(elite_order, True))
    orders = [
        _greedy_order(bufs),
        sorted(range(n), key=lambda i: (bufs[i].start, -bufs[i].size, i)),
        sorted(range(n), key=lambda i: (-span[i] * bufs[i].size, i)),
        sorted(range(n), key=lambda i: (bufs[i].end, -bufs[i].size, i)),
        sorted(range(n), key=lambda i: (-bufs[i].end, -bufs[i].size, i)),
    ]
    for order in orders:
        for ff in (False, True):
            if evals <= 0 or best.arena <= floor:
                return evals
            offs, score = evaluate(order, ff)
            if score < elite[3]:
                elite = (order, ff, offs, score)

    # Local search from the elite: plateau moves (arena not worse) are accepted so the walk
    # can cross the wide flat regions typical of this problem; a long stall restarts it.
    rng = random.Random(seed)
    cur = elite
    stall = 0
    while evals > 0 and best.arena > floor and n > 1:
        order, ff, cur_offs, cur_score = list(cur[0]), cur[1], cur[2], cur[3]
        move = rng.random()
        if move < 0.5:
            # Pull a buffer that touches the arena top to an earlier slot so it is placed lower.
            peak = [i for i in range(n) if cur_offs[i] + prob.sizes[i] == cur_score[0]]
            pos = order.index(rng.choice(peak))
            order.insert(rng.randrange(pos + 1), order.pop(pos))
        elif move < 0.95:
            a, b = rng.randrange(n), rng.randrange(n)
            order[a], order[b] = order[b], order[a]
        else:
            ff = not ff
        offs, score = evaluate(order, ff)
        if score[0] <= cur_score[0]:
            cur = (order, ff, offs, score)
        if score < elite[3]:
            elite, stall = cur, 0
        else:
            stall += 1
        if stall > 50 + 5 * n:
            cur, stall = elite, 0
    return evals


def _exact(prob: _Problem, best: _Best, floor: int, node_budget: int) -> bool:
    """Branch and bound; improves `best` in place, returns True when optimality is proven.

    Any packing can be slid down into one where first-fit, applied in order of offset,
    reproduces every offset ("canonical" packing), and an optimal canonical packing always
    exists. So we branch on *which* buffer comes next, place it first-fit, and keep only
    children whose (offset, index) grows - every offset is thus 0 or the aligned top of a
    lower conflicting buffer (the left-bottom candidate set), and each packing is visited once.
    """
    n, sizes, aligns, nbrs = prob.n, prob.sizes, prob.aligns, prob.nbrs
    bufs = prob.buffers
    # Peak load is reached at some start time, so those are the only time points to check.
    points = sorted({b.start for b in bufs})
    live = [sum(1 << i for i, b in enumerate(bufs) if b.start <= t <= b.end) for t in points]
    member = [[p for p, t in enumerate(points) if b.start <= t <= b.end] for b in bufs]
    member_mask = [sum(1 << p for p in ps) for ps in member]
    # Total and smallest size of a set of buffers given as a bit mask. Memoised rather than
    # tabulated: a 2**n table would explode if a caller raises exact_max_buffers.
    mask_cache: dict[int, tuple[int, int]] = {}

    def mask_sizes(mask: int) -> tuple[int, int]:
        got = mask_cache.get(mask)
        if got is None:
            members = [sizes[i] for i in range(n) if mask >> i & 1]
            got = mask_cache[mask] = (sum(members), min(members, default=0))
        return got

    offs = [-1] * n
    placed: list[int] = []
    nodes = 0

    def fits(j: int, level: int) -> tuple[int, int]:
        """First-fit offset of j, and its lowest feasible offset at or above `level`."""
        cursor, align, size, ff = 0, aligns[j], sizes[j], -1
        for lo, hi in sorted((offs[k], offs[k] + sizes[k]) for k in nbrs[j] if offs[k] >= 0):
            cand = _align_up(cursor, align)
            if cand + size <= lo:
                if ff < 0:
                    ff = cand
                cand = _align_up(max(cursor, level), align)
                if cand + size <= lo:
                    return ff, cand
            cursor = max(cursor, hi)
        cand = _align_up(max(cursor, level), align)
        return (ff if ff >= 0 else _align_up(cursor, align)), cand

    def bound(unplaced: int, level: int) -> int:
        # Every unplaced buffer will sit at or above `level`. At time t the unplaced buffers
        # live then need U_t bytes of free space above `level`, and free gaps (between placed
        # buffers live at t) smaller than the smallest of them are wasted.
        worst = level
        for p, live_p in enumerate(live):
            need_here, smallest = mask_sizes(unplaced & live_p)
            if not need_here:
                continue
            cursor, got = level, 0
            for lo, hi in sorted((offs[k], offs[k] + sizes[k]) for k in placed if member_mask[k] >> p & 1):
                if hi <= cursor:
                    continue
                if lo - cursor >= smallest:
                    if got + lo - cursor >= need_here:
                        break
                    got += lo - cursor
                cursor = max(cursor, hi)
            worst = max(worst, cursor + need_here - got)
        return worst

    def dfs(unplaced: int, level: int, last: int, top: int) -> bool:
        nonlocal nodes
        if not unplaced:
            if top < best.arena:
                best.offs, best.arena, best.method = list(offs), top, "exact"
            return True
        # Placing more buffers only raises each one's first-fit offset, and canonical order
        # forbids going below `level`, so g + size bounds the arena for every unplaced buffer.
        children, need = [], top
        for j in range(n):
            if unplaced >> j & 1:
                o, g = fits(j, level)
                need = max(need, g + sizes[j])
                if o > level or (o == level and j > last):
                    children.append((o, -sizes[j], j))
        if need >= best.arena:
            return True
        children.sort()
        for o, _, j in children:
            nodes += 1
            if nodes > node_budget:
                return False
            if max(top, o + sizes[j]) >= best.arena:  # incumbent may have improved meanwhile
                continue
            offs[j] = o
            placed.append(j)
            rest = unplaced & ~(1 << j)
            if max(top, bound(rest, o)) < best.arena and not dfs(rest, o, j, max(top, o + sizes[j])):
                return False
            placed.pop()
            offs[j] = -1
            if best.arena <= floor:
                return True
        return True

    return dfs((1 << n) - 1, 0, -1, 0)


def plan_arena(
    buffers: Sequence[Buffer],
    *,
    exact_max_buffers: int = 14,
    search_seconds: float = 0.5,
    seed: int = 0,
    exact_node_budget: int = DEFAULT_EXACT_NODES,
) -> ArenaPlan:
    """Give every buffer an offset so that conflicting buffers never share a byte.

    Steps stop as soon as the arena meets the lower bound. `search_seconds` is a nominal
    budget for step 2, converted to a fixed number of evaluations (see the cost model above),
    so the result depends only on the arguments and `seed`. Programs with at most
    `exact_max_buffers` buffers get only a short warm-up search, then the exact search
    (at most `exact_node_budget` branch-and-bound children); if that cannot finish, the rest
    of the search budget is spent. `method` names the step that produced the final offsets.
    """
    _validate(buffers)
    floor = lower_bound(buffers)
    linear = sum(b.size for b in buffers)
    prob = _Problem(buffers)
    offs, arena, _ = prob.place(_greedy_order(buffers), first_fit=False)
    best = _Best(offs, arena, "greedy")

    eval_us = _US_PER_EVAL + _US_PER_BUFFER * prob.n + _US_PER_PAIR * prob.pairs
    evals = int(search_seconds * 1e6 / eval_us)
    small = prob.n <= exact_max_buffers
    if best.arena > floor and evals > 0:
        # Small programs go to the exact search soon: it only needs a decent incumbent to
        # prune with, and it is far better than random moves at closing the last few bytes.
        warm = min(evals, 20 * prob.n) if small else evals
        evals -= warm - _search(prob, best, floor, warm, seed)
    proven = best.arena <= floor
    if not proven and small:
        proven = _exact(prob, best, floor, exact_node_budget)
    if not proven and evals > 0:
        _search(prob, best, floor, evals, seed + 1)
        proven = best.arena <= floor

    return ArenaPlan(
        offsets=tuple((b.name, o) for b, o in zip(buffers, best.offs, strict=True)),
        arena_bytes=best.arena,
        lower_bound_bytes=floor,
        linear_bytes=linear,
        method=best.method,
        optimal=proven,
    )


def check_plan(buffers: Sequence[Buffer], plan: ArenaPlan) -> None:
    """Raise ValueError if `plan` is not a valid placement of `buffers`."""
    _validate(buffers)
    names = {b.name for b in buffers}
    planned = [name for name, _ in plan.offsets]
    if sorted(planned) != sorted(names):
        missing, extra = names - set(planned), set(planned) - names
        raise ValueError(f"plan does not match buffers: missing {sorted(missing)}, extra {sorted(extra)}")
    where = {b.name: plan.offset(b.name) for b in buffers}
    for b in buffers:
        off = where[b.name]
        if off < 0:
            raise ValueError(f"buffer {b.name!r} has negative offset {off}")
        if off % b.align:
            raise ValueError(f"buffer {b.name!r} offset {off} is not a multiple of its alignment {b.align}")
    by_start = sorted(buffers, key=lambda b: b.start)
    for i, a in enumerate(by_start):
        for b in by_start[i + 1 :]:
            if b.start > a.end:  # sorted by start: nothing later is live together with a
                break
            oa, ob = where[a.name], where[b.name]
            if oa < ob + b.size and ob < oa + a.size:
                raise ValueError(
                    f"buffers {a.name!r} [{oa}, {oa + a.size}) and {b.name!r} [{ob}, {ob + b.size}) "
                    "are live at the same time but overlap in memory"
                )
    top = max((where[b.name] + b.size for b in buffers), default=0)
    if plan.arena_bytes != top:
        raise ValueError(f"plan arena_bytes {plan.arena_bytes} differs from the placed top {top}")
