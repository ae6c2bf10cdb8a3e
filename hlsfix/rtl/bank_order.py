"""Orders of a sparse matrix-vector product's entries that the banked scratch RAM
(``scratch.py``) serves without copies or crossbars: the lanes' rows dealt and ordered so that
the lanes finishing rows in one beat write one rotation of the banks, or at least distinct
banks (``bank_free_rows``), and each row's terms ordered so that the gather of x[column] never
reads two rows of one bank in a beat (``bank_free_gathers``).

Neither changes how long a lane works: each lane's set of rows (its load) is one of the given
ones, and a row keeps its length; so the cycles stay. Within a row only the order of its
(value, column) terms moves, and its sum does not depend on it (each product is shifted on its
own, and the accumulator adds them modulo 2^W, as the golden model's exact integer sum that
fits it).
"""

from __future__ import annotations

import math
import random
from collections import Counter

GATHER_MOVES_PER_ENTRY = 100  # the search's budget: ProtoNN at P = 8 needs ~10 per entry


def bank_free_rows(
    owned: list[list[int]], lengths: dict[int, int], scale: int, tries: int = 200
) -> list[list[int]]:
    """The lanes' rows of a sparse matrix (``owned``: each lane's), dealt to the lanes and ordered
    so that the lanes finishing rows in one beat write one rotation of the banks: lane p writes
    bank (p + r) mod P for one r per beat (a lane's row finishes after its ``lengths[row]``
    entries; row r is written at offset r·``scale``), so that the writes go through the rotation
    network (``rotation_plan.rotated_writes``). Failing that, the rows keep their lanes and are
    ordered so that no two lanes finish rows of one bank in a beat, which the write crossbar
    takes. Either way each lane's rows (and load) are one of ``owned``'s, and the cycles stay.
    Sorted first, then seeded shuffles; returns the sorted order where no order is found (the
    image then falls back to the multi-port RAM)."""
    P = len(owned)
    ordered = [sorted(rows) for rows in owned]
    if P == 1 or P & (P - 1):
        return ordered
    rng = random.Random(0)
    candidate = ordered
    for _ in range(tries):
        dealt = _rotating_lanes(candidate, lengths, scale)
        if dealt is not None:
            return dealt
        candidate = [rng.sample(rows, len(rows)) for rows in ordered]

    def free(order: list[list[int]]) -> bool:
        ends: dict[int, set[int]] = {}
        for rows in order:
            for t, bank in _row_ends(rows, lengths, scale, P):
                if bank in ends.setdefault(t, set()):
                    return False
                ends[t].add(bank)
        return True

    candidate = ordered
    for _ in range(tries):
        if free(candidate):
            return candidate
        candidate = [rng.sample(rows, len(rows)) for rows in ordered]
    return ordered


def _row_ends(rows: list[int], lengths: dict[int, int], scale: int, P: int) -> list[tuple[int, int]]:
    """(beat, bank) of the write of each of a lane's rows, in order (an empty row takes a beat)."""
    out, t = [], 0
    for r in rows:
        t += max(1, lengths[r])
        out.append((t, (r * scale) % P))
    return out


def _rotating_lanes(bundles: list[list[int]], lengths: dict[int, int], scale: int) -> list[list[int]] | None:
    """``bundles`` (each an ordered list of rows) dealt to the P lanes so that every beat's
    finishing rows are one rotation of the lanes, or None. Two bundles finishing rows of banks
    b and c in one beat must sit on lanes p and q with p - q = b - c (mod P): the bundles linked
    that way form groups of fixed relative lanes, placed on the lanes by a small exact search."""
    P = len(bundles)
    parent = list(range(P))
    offset = [0] * P  # lane of bundle i minus its group's root's, mod P

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    def rel(i: int) -> int:
        total = 0
        while parent[i] != i:
            total, i = total + offset[i], parent[i]
        return total % P

    writers: dict[int, list[tuple[int, int]]] = {}
    for i, rows in enumerate(bundles):
        for t, bank in _row_ends(rows, lengths, scale, P):
            writers.setdefault(t, []).append((i, bank))
    for beat in writers.values():
        (i, b), *rest = beat
        for j, c in rest:
            ri, rj = root(i), root(j)
            want = (c - b) % P  # lane j - lane i
            if ri == rj:
                if (rel(j) - rel(i)) % P != want:
                    return None
                continue
            parent[rj], offset[rj] = ri, (rel(i) + want - rel(j)) % P
    groups: dict[int, list[tuple[int, int]]] = {}
    for i in range(P):
        groups.setdefault(root(i), []).append((i, rel(i)))
    if any(len({o for _, o in g}) != len(g) for g in groups.values()):
        return None
    lane_of: dict[int, int] = {}

    def place(pending: list[list[tuple[int, int]]], taken: set[int]) -> bool:
        if not pending:
            return True
        group, *rest = pending
        for shift in range(P):
            lanes = {(shift + o) % P for _, o in group}
            if not lanes & taken and place(rest, taken | lanes):
                lane_of.update({i: (shift + o) % P for i, o in group})
                return True
        return False

    if not place(sorted(groups.values(), key=len, reverse=True), set()):
        return None
    out: list[list[int]] = [[] for _ in range(P)]
    for i, rows in enumerate(bundles):
        out[lane_of[i]] = rows
    return out


def gather_conflict(lists: list[list[dict]]) -> str | None:
    """The first beat at which two lanes read two different columns of one bank (``lists[p][t]``:
    lane p's entry at beat t; bank = column mod P), or None."""
    P = len(lists)
    for t in range(max((len(ents) for ents in lists), default=0)):
        reader: dict[int, tuple[int, int]] = {}  # bank -> (lane, column)
        for p, ents in enumerate(lists):
            if t >= len(ents) or not ents[t]["valid"]:
                continue
            col = ents[t]["col"]
            q, other = reader.setdefault(col % P, (p, col))
            if other != col:
                return f"beat {t}: lanes {q} and {p} read columns {other} and {col} of bank {col % P}"
    return None


def bank_free_gathers(lists: list[list[dict]], seed: int = 0) -> list[list[dict]]:
    """The lanes' sparse entries (``lists[p][t]``: lane p's entry at beat t, rows one after the
    other) with each row's (value, column) terms reordered within the row's beats so that at every
    beat the reading lanes' columns lie in distinct banks or are one column (the gather of
    x[column] then shares one copy of the banks: ``scratch.read_conflict``). Returns ``lists``
    where the search finds no such order (``gather_conflict`` then says where it fails).

    The beats of all the lanes' rows are placed together, not beat by beat: a local search over
    swaps of two terms of one row, each move taken from a beat that still reads two columns of
    one bank, kept where it does not add conflicts (or, rarely, where it adds one: annealing, so
    that the search leaves a local minimum). Several lanes reading one column at once share its
    row, which the search relies on: ProtoNN's busiest bank at P = 8 holds 60 terms for 47 beats."""
    P = len(lists)
    if P == 1 or P & (P - 1) or gather_conflict(lists) is None:
        return lists
    terms = [[(e["value"], e["col"]) if e["valid"] else None for e in ents] for ents in lists]
    row_beats = [_row_beats(ents) for ents in lists]
    beats = max(len(ents) for ents in lists)
    # per beat and bank, how many lanes read each column
    reads = [[Counter() for _ in range(P)] for _ in range(beats)]
    for p in range(P):
        for t, term in enumerate(terms[p]):
            if term is not None:
                reads[t][term[1] % P][term[1]] += 1

    def excess(t: int, bank: int) -> int:
        return max(0, len(reads[t][bank]) - 1)

    conflicts = {(t, b) for t in range(beats) for b in range(P) if excess(t, b)}
    rng = random.Random(seed)
    temperature = 0.6
    budget = GATHER_MOVES_PER_ENTRY * sum(len(ents) for ents in lists)
    for move in range(budget):
        if not conflicts:
            break
        if move % 2000 == 1999:
            temperature = max(0.05, temperature * 0.97)
        t, bank = rng.choice(sorted(conflicts))
        p = rng.choice([q for q in range(P) if _bank(terms[q], t, P) == bank])
        u = rng.choice(row_beats[p][t])
        if terms[p][u][1] == terms[p][t][1]:
            continue
        touched = {(t, bank), (u, terms[p][u][1] % P), (t, terms[p][u][1] % P), (u, bank)}
        before = sum(excess(*k) for k in touched)
        _swap(reads, terms[p], t, u, P)
        delta = sum(excess(*k) for k in touched) - before
        if delta > 0 and rng.random() >= math.exp(-delta / temperature):
            _swap(reads, terms[p], t, u, P)
            continue
        conflicts = (conflicts - touched) | {k for k in touched if excess(*k)}
    if conflicts:
        return lists
    return [
        [{**e, "value": term[0], "col": term[1]} if term else e for e, term in zip(ents, lane, strict=True)]
        for ents, lane in zip(lists, terms, strict=True)
    ]


def _bank(lane_terms: list, t: int, P: int) -> int | None:
    """The bank a lane reads at beat t, or None (no read)."""
    term = lane_terms[t] if t < len(lane_terms) else None
    return None if term is None else term[1] % P


def _row_beats(ents: list[dict]) -> dict[int, list[int]]:
    """Each valid beat of a lane -> the beats of its row (from its first entry to its last)."""
    out: dict[int, list[int]] = {}
    row: list[int] = []
    for t, e in enumerate(ents):
        if not e["valid"]:
            continue
        if e["first"]:
            row = []
        row.append(t)
        out[t] = row
    return out


def _swap(reads: list[list[Counter]], lane_terms: list, t: int, u: int, P: int) -> None:
    """Swap a lane's terms at beats t and u, and the reads' counts with them."""
    a, b = lane_terms[t], lane_terms[u]
    for beat, old, new in ((t, a, b), (u, b, a)):
        counts = reads[beat][old[1] % P]
        counts[old[1]] -= 1
        if not counts[old[1]]:
            del counts[old[1]]
        reads[beat][new[1] % P][new[1]] += 1
    lane_terms[t], lane_terms[u] = b, a
