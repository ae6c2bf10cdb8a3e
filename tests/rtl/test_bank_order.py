"""The sparse rows' lanes and orders (``rtl/bank_order.py``): every zoo model's sparse projection
at P = 4, 8 and 16 gathers x with one copy of the banks and writes through the rotation network,
checked here by walking the entries without the compiler's own checks; random sparse matrices
too; and a case that cannot be ordered says where it fails."""

from __future__ import annotations

import random

import pytest

import hlsfix
from hlsfix.rtl.bank_order import bank_free_gathers, bank_free_rows, gather_conflict
from hlsfix.rtl.isa import Op
from hlsfix.rtl.microcode import compile_image
from hlsfix.rtl.rotation_plan import rotation_plan
from hlsfix.rtl.scratch import read_conflict, shared_reads

pytest.importorskip("amaranth")


def _entry(value, col, row, first, last):
    return {"value": value, "col": col, "row": row, "first": first, "last": last, "valid": 1}


def _gather_ok(lists) -> bool:
    """At every beat the reading lanes' columns are in distinct banks or are one column."""
    P = len(lists)
    for t in range(max(len(ents) for ents in lists)):
        column_of_bank = {}
        for ents in lists:
            if t < len(ents) and ents[t]["valid"]:
                col = ents[t]["col"]
                if column_of_bank.setdefault(col % P, col) != col:
                    return False
    return True


def _rows(ents):
    """Each row of a lane's entries: (its beats, the multiset of its (value, column) terms)."""
    out, beats = [], []
    for t, e in enumerate(ents):
        if e["first"]:
            beats = []
        beats.append(t)
        if e["last"]:
            terms = sorted((ents[u]["value"], ents[u]["col"]) for u in beats)
            out.append((ents[t]["row"], tuple(beats), terms))
    return out


def _same_rows_and_beats(before, after) -> bool:
    """Each lane keeps its rows, each row its beats and its terms (so its sum: the writes and
    cycles do not move, and the products are the same)."""
    return all(
        _rows(b) == _rows(a)
        and [(e["row"], e["first"], e["last"]) for e in b] == [(e["row"], e["first"], e["last"]) for e in a]
        for b, a in zip(before, after, strict=True)
    )


def _sparse_lists(img):
    """The sparse kernel's entries of ``img``, per lane (laid out beat by beat, P per beat)."""
    P = img.lanes
    pc = next(i for i, w in enumerate(img.insns) if w.get("sparse"))
    base, beats = img.insns[pc]["x"]["base"], img.insns[pc]["m0"]
    return [[img.entries[base + t * P + p] for t in range(beats)] for p in range(P)]


def _rotation_of_writes(lists) -> bool:
    """Every beat's writing lanes p (a row's last entry) write bank (p + r) mod P for one r."""
    P = len(lists)
    shifts: dict[int, set[int]] = {}
    for p, ents in enumerate(lists):
        for t, e in enumerate(ents):
            if e["valid"] and e["last"]:
                shifts.setdefault(t, set()).add((e["row"] - p) % P)
    return all(len(s) == 1 for s in shifts.values())


@pytest.mark.parametrize("model", ["protonn", "bonsai", "bonsai-binary"])
@pytest.mark.parametrize("lanes", [4, 8, 16])
def test_zoo_sparse_projections_share_the_banks_and_rotate_their_writes(model, lanes):
    img = compile_image(hlsfix.compile(model, bits="16").program, lanes)
    lists = _sparse_lists(img)
    assert _gather_ok(lists) and _rotation_of_writes(lists)
    assert read_conflict(img, "b") is None and shared_reads(img) == (True, True)
    assert rotation_plan(img) == (True, True, False)  # B: a gather, shared but not rotated
    scratch = next(m for m in img.memories() if m["memory"] == "scratch RAM")
    assert scratch["copies"] == 2 and "writes: rotated" in scratch["style"]


def test_random_sparse_rows_are_ordered_for_one_copy_of_the_banks():
    rng = random.Random(1)
    solved = 0
    for trial in range(30):
        P = rng.choice([4, 8])
        cols, nrows = rng.choice([32, 64]), rng.randint(P, 3 * P)
        rows = [sorted(rng.sample(range(cols), rng.randint(1, cols // 2))) for _ in range(nrows)]
        lanes: list[list[int]] = [[] for _ in range(P)]
        for r in range(nrows):
            lanes[r % P].append(r)
        lists = []
        for owned in lanes:
            ents = []
            for r in owned:
                n = len(rows[r])
                ents += [
                    _entry(rng.randint(-99, 99), c, r, int(i == 0), int(i == n - 1))
                    for i, c in enumerate(rows[r])
                ]
            lists.append(ents)
        order = bank_free_gathers(lists, seed=trial)
        assert _same_rows_and_beats(lists, order)
        if _gather_ok(order):
            solved += 1
            assert gather_conflict(order) is None
        else:  # not found: the entries as they were, and where they conflict
            assert order is lists and gather_conflict(order).startswith("beat ")
    assert solved == 30, solved  # seeded: every one of them


def test_two_one_term_rows_of_one_bank_in_one_beat_cannot_be_ordered():
    # both lanes' rows have one term, columns 0 and 2: bank 0 of 2 in beat 0, whatever the order
    lists = [[_entry(5, 0, 0, 1, 1), _entry(6, 1, 0, 0, 0)], [_entry(7, 2, 1, 1, 1)]]
    lists[0][1] = {**lists[0][1], "first": 1, "last": 1, "row": 2}
    assert bank_free_gathers(lists) is lists
    assert gather_conflict(lists) == "beat 0: lanes 0 and 1 read columns 0 and 2 of bank 0"


def test_rows_go_to_the_lanes_where_the_writes_of_a_beat_are_one_rotation():
    # four rows of 5 terms finish together; dealt as given, lanes 1 and 2 write banks 2 and 1
    owned, lengths = [[0], [2], [1], [3]], dict.fromkeys(range(4), 5)
    dealt = bank_free_rows(owned, lengths, 1)
    assert sorted(map(tuple, dealt)) == sorted(map(tuple, owned))
    assert len({(rows[0] - p) % 4 for p, rows in enumerate(dealt)}) == 1
    # two rows of bank 0 finishing together: no rotation and no crossbar; the sorted order stays
    assert bank_free_rows([[0], [2]], {0: 3, 2: 3}, 1) == [[0], [2]]


def test_protonn_at_8_lanes_with_two_lanes_swapped_writes_no_rotation():
    from hlsfix.rtl.rotation_plan import rotated_writes

    img = compile_image(hlsfix.compile("protonn", bits="16").program, 8)
    assert rotated_writes(img) is None
    lists = _sparse_lists(img)
    # a beat at which two lanes finish rows: move one of them to a lane that finishes none then
    ends = {}
    for p, ents in enumerate(lists):
        for t, e in enumerate(ents):
            if e["last"]:
                ends.setdefault(t, []).append(p)
    t, (p, *_) = next((t, ps) for t, ps in ends.items() if len(ps) > 1)
    q = next(q for q in range(8) if q not in ends[t])
    pc = next(i for i, w in enumerate(img.insns) if w.get("sparse"))
    base = img.insns[pc]["x"]["base"]
    for u in range(img.insns[pc]["m0"]):
        img.entries[base + u * 8 + p], img.entries[base + u * 8 + q] = lists[q][u], lists[p][u]
    assert (
        rotated_writes(img)
        == f"instruction {pc} ({Op.MAC.name}): a beat's writes are no rotation of the lanes"
    )
