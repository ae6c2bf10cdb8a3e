"""The scratch RAM (``rtl/scratch.py``): banked where the program's writes are conflict-free, its
words as wide as the data it holds (not the constants), and bit-exact either way."""

from __future__ import annotations

import pytest

import hlsfix
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.rtl.bank_order import bank_free_gathers, bank_free_rows
from hlsfix.rtl.isa import Op
from hlsfix.rtl.microcode import compile_image
from hlsfix.rtl.scratch import (
    read_conflict,
    scratch_banks,
    shared_reads,
    write_conflict,
)
from tests.tools import require_tool

pytest.importorskip("amaranth")


def _memory(img, name):
    return next(m for m in img.memories() if m["memory"] == name)


def test_element_wise_and_matrix_writes_are_bank_conflict_free():
    program = hlsfix.compile("mlp", bits="16").program
    for lanes in (2, 4, 8, 16):
        img = compile_image(program, lanes)
        assert write_conflict(img) is None
        assert scratch_banks(img) == lanes
        ram = _memory(img, "scratch RAM")
        # every read is a lane stride of 0 or 1: each operand's reads share one copy of the banks
        assert shared_reads(img) == (True, True)
        assert (ram["copies"], ram["read_ports"], ram["write_ports"]) == (2, lanes, 1)
    assert scratch_banks(compile_image(program, 3)) == 1  # not a power of two: multi-port
    assert scratch_banks(compile_image(program, 1)) == 1


def test_writes_two_lanes_put_in_one_bank_fall_back_to_the_multi_port_ram():
    img = compile_image(hlsfix.compile("mlp", bits="16").program, 4)
    pc = next(i for i, w in enumerate(img.insns) if w["op"] == Op.MAC and not w.get("split"))
    img.insns[pc] = {**img.insns[pc], "o": {**img.insns[pc]["o"], "lane": 2}, "n0": 4}
    why = write_conflict(img)
    assert why == f"instruction {pc} (MAC): lanes write with stride 2"
    assert scratch_banks(img) == 1
    assert "multi-port" in _memory(img, "scratch RAM")["style"]


def test_reads_two_lanes_put_in_different_rows_of_one_bank_get_a_copy_per_lane():
    img = compile_image(hlsfix.compile("mlp", bits="16").program, 4)
    pc = next(i for i, w in enumerate(img.insns) if w["op"] == Op.ALU and w["a_src"] == 0)
    assert read_conflict(img, "a") is None
    img.insns[pc] = {**img.insns[pc], "a": {**img.insns[pc]["a"], "lane": 2}, "n0": 4}
    # lanes 0 and 2 read words 0 and 4 of one bank (rows 0 and 1)
    assert read_conflict(img, "a") == f"instruction {pc} (ALU): lanes read with stride 2"
    assert shared_reads(img) == (False, True)
    ram = _memory(img, "scratch RAM")
    assert ram["copies"] == 4 + 1 and "A reads: a copy per lane (instruction" in ram["style"]


def _gather_beats(lists):
    for t in range(max(len(e) for e in lists)):
        yield [ents[t] for ents in lists if t < len(ents) and ents[t]["valid"]]


def _entry(value, col, row, first, last):
    return {"value": value, "col": col, "row": row, "first": first, "last": last, "valid": 1}


def test_sparse_gathers_are_reordered_within_rows_so_that_lanes_read_distinct_banks():
    # two lanes, one row each, columns in order: both read bank 0 (columns 0 and 2) at beat 0
    rows = [[(5, 0), (6, 1), (7, 4)], [(8, 2), (9, 7), (1, 3)]]
    lists = [
        [_entry(v, c, r, int(i == 0), int(i == 2)) for i, (v, c) in enumerate(row)]
        for r, row in enumerate(rows)
    ]
    order = bank_free_gathers(lists)
    for beat in _gather_beats(order):
        cols = [e["col"] for e in beat]
        assert len({c % 2 for c in cols}) == len(set(cols))  # one row per bank
    for lane, (before, after) in enumerate(zip(lists, order, strict=True)):
        assert sorted((e["value"], e["col"]) for e in after) == sorted(rows[lane])  # same products
        # rows, first and last beats stay: the writes and cycles do not change
        assert [(e["row"], e["first"], e["last"]) for e in after] == [
            (e["row"], e["first"], e["last"]) for e in before
        ]
    assert order != lists
    # ProtoNN's projection at P = 16: the gather of x then shares the banks
    img = compile_image(hlsfix.compile("protonn", bits="16").program, 16)
    assert shared_reads(img) == (True, True)


def test_sparse_rows_are_ordered_so_that_no_two_lanes_finish_one_bank_together():
    # lanes 0 and 1 each own two rows; sorted, rows 0 and 2 (bank 0 of 2) both end at beat 3
    owned, lengths = [[0, 1], [2, 3]], {0: 3, 1: 1, 2: 3, 3: 1}
    order = bank_free_rows(owned, lengths, 1)
    assert order != [[0, 1], [2, 3]] and [sorted(r) for r in order] == owned
    ends = {}
    for rows in order:
        t = 0
        for r in rows:
            t += lengths[r]
            assert r % 2 not in ends.setdefault(t, set())
            ends[t].add(r % 2)
    # ProtoNN's sparse projection at P = 2 needed the reordering; its cycles are those of P = 2 before
    img = compile_image(hlsfix.compile("protonn", bits="16").program, 2)
    assert write_conflict(img) is None and scratch_banks(img) == 2


def test_8_bit_data_keep_8_bit_scratch_words_beside_16_bit_constants():
    img = compile_image(hlsfix.compile("protonn", bits="mixed").program, 4)
    assert (img.ram_bits, img.word_bits) == (8, 16)
    assert _memory(img, "scratch RAM")["bits"] == 8
    assert _memory(img, "weight ROM")["bits"] == 16


@pytest.mark.slow
@pytest.mark.parametrize(("model", "bits", "lanes"), [("protonn", "mixed", 2), ("bonsai", "mixed", 8)])
def test_banked_8_bit_scratch_ram_is_bit_exact(model, bits, lanes, tmp_path):
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile(model, bits=bits)
    x_q = quantize_input(cm.program, cm.test[0][:10])
    assert scratch_banks(compile_image(cm.program, lanes)) == lanes
    res = run_cocotb(cm.program, x_q, lanes=lanes, build_dir=tmp_path, trace=False)
    assert res.bit_exact, f"{model}: inputs {res.mismatches[:10]} differ"
    assert res.cycles_per_inference == res.predicted_cycles


@pytest.mark.slow
def test_a_cnn_of_22_k_parameters_is_bit_exact(tmp_path):
    """The wider CNN (``benchmarks/wide_cnn.py``): its weights need block RAM, its scratch RAM is
    banked at P = 8; bit-exact with the golden model, cycle for cycle as the schedule predicts."""
    from benchmarks.wide_cnn import parameters, write_wide_cnn
    from hlsfix.rtl.image import bram_blocks
    from hlsfix.sim.runner import run_cocotb

    require_tool("iverilog")
    cm = hlsfix.compile(str(write_wide_cnn(tmp_path / "model")), bits="16")
    assert parameters() >= 20_000
    img = compile_image(cm.program, 8)
    assert img.rom_depth == parameters() and bram_blocks(img.rom_depth, img.word_bits) == 12
    assert scratch_banks(img) == 8
    x_q = quantize_input(cm.program, cm.test[0][:2])
    res = run_cocotb(cm.program, x_q, 8, build_dir=tmp_path / "sim", trace=False)
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles == img.predicted_cycles


@pytest.mark.slow
@pytest.mark.parametrize("model", ["protonn", "mlp"])
def test_sixteen_lanes_with_shared_banks_and_bank_forwarding_are_bit_exact(model, tmp_path):
    # every read group shares its banks and the forwarding looks up one write per bank
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile(model, bits="16")
    x_q = quantize_input(cm.program, cm.test[0][:6])
    assert shared_reads(compile_image(cm.program, 16)) == (True, True)
    res = run_cocotb(cm.program, x_q, lanes=16, build_dir=tmp_path, trace=False)
    assert res.bit_exact, f"{model}: inputs {res.mismatches[:10]} differ"
    assert res.cycles_per_inference == res.predicted_cycles
