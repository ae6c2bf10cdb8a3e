"""Speculation of a register-indexed kernel under a Select of immediates (``speculate.py``):
Bonsai's second-level test T[k1]·ZX run for k1 = 1 and k1 = 2 at once, so that k2 is known
without waiting for k1's register. Checked where it happens (cycles counted by hand, bit-exact in
Icarus) and where it must not (the condition's word rewritten, the indexed result read twice, the
memory plan's layout reusing the condition's word)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import hlsfix
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.program import Ref
from hlsfix.rtl.microcode import _compile, compile_image
from hlsfix.rtl.regfold import plan_folds
from hlsfix.rtl.schedule import schedule
from hlsfix.rtl.speculate import plan_speculation
from hlsfix.rtl.units import divider_latency
from tests.tools import require_tool

pytest.importorskip("amaranth")


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


def test_the_second_test_of_bonsai_binary_is_speculated():
    """At 8 lanes, counted by hand from the pipeline (``schedule.py``): unspeculated, k1's Select
    accepted at s beats at s + 1 and writes its register at s + 8; T[k1]·ZX computes its address
    from the register a cycle later (accepted at s + 9, its beat at s + 10) and its adder-tree
    result is selected 5 cycles after that beat: k2's Select is accepted at s + 15. Speculated,
    T[1]·ZX and T[2]·ZX read no register (rows 1 and 2 of T); their Selects follow k1's at once
    (s + 1, s + 2: their results were written with T[0]·ZX's) and k2's Select, which reads their
    registers at the write stage, one cycle after the last one's beat: s + 4."""
    program = _program()
    img = compile_image(program, 8)
    plain = _compile(program, 8, "auto", None, 1, search=True, speculate=False)
    assert img.speculated == ("r_sel_1",) and plain.speculated == ()
    t16 = next(i for i, k in enumerate(img.kernels) if getattr(k, "out", None) == "t_16")
    copies = [w for w, k in zip(img.insns, img.kernel_of, strict=True) if k == t16]
    t_rom = img.locs["T"].base
    assert sorted(w["a"]["base"] for w in copies) == [t_rom + 6, t_rom + 12]
    assert not any(w["a"]["reg_en"] or w["b"]["reg_en"] for w in copies)
    # 2·k1 + 1 and 2·k1 + 2 are folded into the copies' Selects: no instruction of their own
    outs = {getattr(img.kernels[k], "out", None) for k in img.kernel_of}
    assert not outs & {"r_i", "r_i_1", "r_i_2", "r_i_3"}
    for image, after in ((plain, 15), (img, 4)):
        at = _accepted(image)
        k2 = max(s for (name, _), s in at.items() if name == "r_sel_1")
        assert k2 - at[("r_sel", 0)] == after
    assert img.predicted_cycles == 76 < plain.predicted_cycles == 85


def test_speculation_is_bit_exact_in_icarus(tmp_path):
    require_tool("iverilog")
    from hlsfix.sim.runner import run_cocotb

    cm = hlsfix.compile("bonsai-binary", bits="16")
    x_q = quantize_input(cm.program, cm.test[0][:60])
    res = run_cocotb(cm.program, x_q, 8, build_dir=tmp_path, trace=False)
    assert res.bit_exact, f"inputs {res.mismatches} differ"
    assert res.cycles_per_inference == res.predicted_cycles == 76


def _with(program, kernels):
    return replace(program, kernels=tuple(kernels))


def test_no_speculation_when_the_condition_or_the_result_is_shared():
    """It must not happen when k1's word is rewritten between k1's Select and the second test
    (k2 would pick its copy by the new word), nor when another kernel reads T[k1]·ZX (that
    kernel needs the one k1 picks); nor under the memory plan's layout, where W[k1]·ZX takes
    the words of T[0]·ZX before the second test (``regfold.py`` keeps no fold across that)."""
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
    assert compile_image(program, 8, "plan").speculated == ()
