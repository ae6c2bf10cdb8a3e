"""Orders of a sparse matrix-vector product's entries that the banked scratch RAM
(``scratch.py``) serves without copies: the lanes' rows ordered so that no two lanes write one
bank in a beat (``bank_free_rows``), and each row's terms ordered so that the gather of
x[column] never reads two rows of one bank in a beat (``bank_free_gathers``).

Neither changes what a lane computes or when: a row keeps its lane, its length and its first
and last beats, so the cycles and the writes stay; only the order of a row's (value, column)
terms moves, and a row's sum does not depend on it (each product is shifted on its own, and the
accumulator adds them modulo 2^W, as the golden model's exact integer sum that fits it).
"""

from __future__ import annotations

import math
import random
from collections import Counter

GATHER_MOVES_PER_ENTRY = 100  # the search's budget: ProtoNN at P = 8 needs ~10 per entry


def bank_free_rows(
    owned: list[list[int]], lengths: dict[int, int], scale: int, tries: int = 200
) -> list[list[int]]:
    """Each lane's rows of a sparse matrix in an order in which no two lanes finish rows of one
    bank in the same beat (a lane's row finishes after its ``lengths[row]`` entries; row r is
    written at offset r·``scale``), so that the banked scratch RAM can take the writes: sorted
    first, then seeded shuffles. The lanes' loads are unchanged, and so are the cycles. Returns
    the sorted order where no order is found (the image then falls back to the multi-port RAM)."""
    P = len(owned)
    ordered = [sorted(rows) for rows in owned]
    if P == 1 or P & (P - 1):
        return ordered

    def free(order: list[list[int]]) -> bool:
        ends: dict[int, set[int]] = {}
        for rows in order:
            t = 0
            for r in rows:
                t += max(1, lengths[r])
                bank = (r * scale) % P
                if bank in ends.setdefault(t, set()):
                    return False
                ends[t].add(bank)
        return True

    rng = random.Random(0)
    candidate = ordered
    for _ in range(tries):
        if free(candidate):
            return candidate
        candidate = [rng.sample(rows, len(rows)) for rows in ordered]
    return ordered


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
