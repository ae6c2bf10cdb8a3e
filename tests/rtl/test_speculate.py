"""Speculation of a register-indexed kernel under a Select of immediates (``speculate.py``):
Bonsai's second-level test T[k1]·ZX run for k1 = 1 and k1 = 2 at once, so that k2 is known
without waiting for k1's register; and of the chains into a table as vectors (``cones.py``):
tanh(σ·V[k]·ZX) for every value of k before k is known. Checked where it happens (cycles and
beats counted by hand, bit-exact in Icarus) and where it must not (the condition's word
rewritten, the indexed result read twice, the memory plan's layout reusing the condition's word;
values that are not consecutive, a reader with a register of its own)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import hlsfix
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.program import Ref
from hlsfix.rtl import schedule as schedule_module
from hlsfix.rtl.cones import plan_cones
from hlsfix.rtl.isa import Op
from hlsfix.rtl.microcode import _compile, compile_image
from hlsfix.rtl.regfold import plan_folds
from hlsfix.rtl.schedule import schedule
from hlsfix.rtl.speculate import plan_speculation
from hlsfix.rtl.units import divider_latency
from tests.tools import require_tool

pytest.importorskip("amaranth")


@pytest.fixture
def late_forwarding_at_8(monkeypatch):
    """The hand counts below were made for an accelerator with late forwarding at 8 lanes (a
    dependent kernel accepted one cycle earlier), which 8 lanes had until session 10; the
    speculation they check does not depend on it (``test_speculation_is_bit_exact_in_icarus``
    runs the shipped 8 lanes, whose late forwarding serves a lane's own writes only, as does
    the select cycle's forwarding: ``schedule.LOCAL_SELECT_FROM``)."""
    monkeypatch.setattr(schedule_module, "LATE_FORWARDING_LANES", 8)
    monkeypatch.setattr(schedule_module, "LOCAL_SELECT_FROM", 16)


def _program():
    return hlsfix.compile("bonsai-binary", bits="16").program


def _accepted(img) -> dict[tuple[str, int], int]:
    """(kernel's output, its n-th instruction) → the cycle the schedule accepts it in."""
    beats = [i.get("n1", 0) * i.get("chunks", 0) * i.get("m1", 0) * i.get("m0", 0) for i in img.insns]
    starts: list = []
    schedule(img.insns, img.uses, beats, divider_latency(img.div_bits), starts)
    seen: dict[str, int] = {}
    out = {}
    for pc, s in starts:
        k = img.kernels[img.kernel_of[pc]]
        name = getattr(k, "out", "")
        n = seen[name] = seen.get(name, -1) + 1
        out[(name, n)] = s
    return out


def test_the_second_test_of_bonsai_binary_is_speculated(late_forwarding_at_8):
    """At 8 lanes, counted by hand from the pipeline (``schedule.py``): unspeculated, k1's Select
    accepted at s beats at s + 1 and its register holds the result from s + 6 (decided on the
    operand at S3, ``EARLY_REGISTER``); T[k1]·ZX computes its address from the register a cycle
    later (accepted at s + 7, its beat at s + 8) and its adder-tree result is selected 5 cycles
    after that beat: k2's Select is accepted at s + 13. Speculated, T[1]·ZX and T[2]·ZX read no
    register (rows 1 and 2 of T); their Selects go as soon as the products are written (their
    results were written with T[0]·ZX's), and k2's Select, which reads their registers in the cycle
    before its own register write, one cycle after the second one's beat (u accepted at t: t + 2),
    before k1's Select even starts: nothing waits for k1 on that path any more.
    """
    program = _program()
    img = _compile(program, 8, "auto", None, 1, search=True, speculate=1)  # no vectors (cones.py)
    plain = _compile(program, 8, "auto", None, 1, search=True, speculate=0)
    assert img.speculated == ("r_sel_1",) and plain.speculated == ()
    t16 = next(i for i, k in enumerate(img.kernels) if getattr(k, "out", None) == "t_16")
    copies = [w for w, k in zip(img.insns, img.kernel_of, strict=True) if k == t16]
    t_rom = img.locs["T"].base
    assert sorted(w["a"]["base"] for w in copies) == [t_rom + 6, t_rom + 12]
    assert not any(w["a"]["reg_en"] or w["b"]["reg_en"] for w in copies)
    # 2·k1 + 1 and 2·k1 + 2 are folded into the copies' Selects: no instruction of their own
    outs = {getattr(img.kernels[k], "out", None) for k in img.kernel_of}
    assert not outs & {"r_i", "r_i_1", "r_i_2", "r_i_3"}
    at = _accepted(plain)
    assert at[("r_sel_1", 0)] - at[("r_sel", 0)] == 13
    at = _accepted(img)
    k2 = at[("r_sel_1", 2)]  # after the copies' two Selects
    assert k2 - at[("r_sel_1", 1)] == 2 and k2 < at[("r_sel", 0)]
    assert img.predicted_cycles == 73 < plain.predicted_cycles == 79


@pytest.mark.slow
def test_speculation_is_bit_exact_in_icarus(tmp_path):
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile("bonsai-binary", bits="16")
    x_q = quantize_input(cm.program, cm.test[0][:60])
    res = run_cocotb(cm.program, x_q, 8, build_dir=tmp_path, trace=False)
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles == 70  # with the vectors of cones.py


def _with(program, kernels):
    return replace(program, kernels=tuple(kernels))


def test_no_speculation_when_the_condition_or_the_result_is_shared():
    """It must not happen when k1's word is rewritten between k1's Select and the second test
    (k2 would pick its copy by the new word), nor when another kernel reads T[k1]·ZX (that
    kernel needs the one k1 picks); nor under the memory plan's layout, where W[k1]·ZX takes
    the words of T[0]·ZX before the second test (``regfold.py`` keeps no fold across that, and
    k2's values are not known then either)."""
    program = _program()
    ks = list(program.kernels)
    assert plan_speculation(program, plan_folds(program)).by_kernel
    t8 = next(k for k in ks if getattr(k, "out", None) == "t_8")
    sel = next(i for i, k in enumerate(ks) if getattr(k, "out", None) == "r_sel")
    rewritten = _with(program, ks[: sel + 1] + [t8] + ks[sel + 1 :])
    assert not plan_speculation(rewritten, plan_folds(rewritten)).by_kernel
    t21 = next(i for i, k in enumerate(ks) if getattr(k, "out", None) == "t_21")
    assert isinstance(ks[t21], kp.MatMul)  # sigma · V[k2]·ZX, now sigma · T[k1]·ZX
    reader = replace(ks[t21], b=Ref("t_16", 1))
    shared = _with(program, ks[:t21] + [reader] + ks[t21 + 1 :])
    assert not plan_speculation(shared, plan_folds(shared)).by_kernel
    # (k1's vectors need no fold: its Select's operands are immediates)
    assert compile_image(program, 8, "plan").speculated == ("r_sel",)


def test_the_chains_into_tanh_run_as_vectors_before_the_node_index_is_known(late_forwarding_at_8):
    """At 8 lanes: V[k2]·ZX for k2 = 3..6 is one product of V's rows 3-6 (adjacent: 4 rows of
    6 terms, each dealt across the lanes, 4 beats), σ times those 4 values 1 beat (4 rows on 4
    lanes), their tanh 1 beat; likewise V[k1]·ZX for k1 = 1, 2 (2 beats, then 1 and 1). None reads
    a register; W[k2]·ZX ⊙ tanh reads element k2 - 3 of the tanh vector, W[k1]·ZX ⊙ tanh element
    k1 - 1. Counted by hand, the vectors add 4 + 1 + 1 + 2 + 1 + 1 beats where the indexed chains
    took 1 + 1 + 1 for each of the two: 4 beats more in all."""
    program = _program()
    img = compile_image(program, 8)
    scalar = _compile(program, 8, "auto", None, 1, search=True, speculate=1)
    assert img.speculated == ("r_sel_1", "r_sel", "r_sel_1")

    def insns(image, out: str) -> list[dict]:
        kid = next(i for i, k in enumerate(image.kernels) if getattr(k, "out", None) == out)
        return [w for w, k in zip(image.insns, image.kernel_of, strict=True) if k == kid]

    def beats(w: dict) -> int:
        return w["n1"] * w["chunks"] * w["m1"] * w["m0"]

    v_rom = img.locs["V"].base
    for dot, sig, tanh, rows, first in (("t_20", "t_21", "tanh_2", 4, 3), ("t_12", "t_13", "tanh_1", 2, 1)):
        ((d,), (s,), (t,)) = (insns(img, dot), insns(img, sig), insns(img, tanh))
        assert d["split"] and d["a"]["base"] == v_rom + 6 * first and beats(d) == rows
        assert (beats(s), beats(t)) == (1, 1)
        assert not any(w.get(x, {}).get("reg_en") for w in (d, s, t) for x in "ab")
    for mul, reg, first in (("t_22", "r_sel_1", 3), ("t_14", "r_sel", 1)):
        (m,) = insns(img, mul)
        tanh = img.locs[m_tanh := {"t_22": "tanh_2.all", "t_14": "tanh_1.all"}[mul]]
        assert m["b"]["reg_en"] and m["b"]["reg"] == img.regs[reg] and m["b"]["rs"] == tanh.scale
        assert m["b"]["base"] == tanh.base - first * tanh.scale, m_tanh
    total = sum(beats(w) for w in img.insns if w["op"] != Op.DONE)
    assert total == sum(beats(w) for w in scalar.insns if w["op"] != Op.DONE) + 4
    assert img.predicted_cycles == 66 < scalar.predicted_cycles == 73


def test_no_vectors_for_values_apart_or_a_reader_with_its_own_register():
    """k1 = (c >= 0 ? 1 : 3) would need V's rows 1 and 3 (not adjacent; nor are 2·k1 + 1, 2·k1 + 2
    = 3, 4, 7, 8): no vector at all. A kernel reading tanh(σ·V[k1]·ZX) that is indexed by a
    register of its own cannot read element k1 - 1 as well: no vector for k1 (k2's stay)."""
    program = _program()
    ks = list(program.kernels)
    assert plan_cones(program, plan_folds(program)).registers == ("r_sel", "r_sel_1")
    sel = next(i for i, k in enumerate(ks) if getattr(k, "out", None) == "r_sel")
    apart = _with(program, ks[:sel] + [replace(ks[sel], b=3)] + ks[sel + 1 :])
    assert plan_cones(apart, plan_folds(apart)).registers == ()
    t14 = next(i for i, k in enumerate(ks) if getattr(k, "out", None) == "t_14")
    assert isinstance(ks[t14], kp.Mul) and ks[t14].b.buffer == "tanh_1"
    own = _with(program, ks[:t14] + [replace(ks[t14], a=Ref("t_10", 1, 0, "r_sel_1"))] + ks[t14 + 1 :])
    assert plan_cones(own, plan_folds(own)).registers == ("r_sel_1",)
