"""Liveness over loops, in-place sharing, and the arena plan of every zoo model."""

from __future__ import annotations

import numpy as np
import pytest

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import Buffer, Format, KernelProgram, Ref
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.memory.liveness import analyse, plan_memory
from hlsfix.memory.planner import check_plan
from hlsfix.zoo import ZOO_NAMES, load_model

F16 = Format(16, 8)


def tiny_program() -> KernelProgram:
    """x → a (matmul); loop 3×: b = a + h; h = b (carried h); c = relu(b) (local); out = argmax(h)."""
    bufs = (
        Buffer("x", (4,), F16, "input"),
        Buffer("W", (4, 4), F16, "const"),
        Buffer("a", (4,), F16, "temp"),
        Buffer("h", (4,), F16, "temp"),
        Buffer("b", (4,), F16, "temp"),
        Buffer("c", (4,), F16, "temp"),
        Buffer("d", (4,), F16, "temp"),
    )
    body = (
        kp.AddSub(Ref("a", 4), Ref("h", 4), "b", 4, False, 0, 0, 0, "full", False, 32),  # step 3
        kp.Rescale(Ref("b", 4), "h", 4, 0),  # step 4
        kp.Clamp(Ref("b", 4), "c", 4, 0, None),  # step 5
    )
    kernels = (
        kp.MatMul(Ref("W", 16), Ref("x", 4), "a", 4, 4, 1, 0, 8, 32),  # step 0
        kp.Fill("h", 0),  # step 1
        kp.Loop("r_i", 0, 3, body),  # step 2
        kp.Rescale(Ref("h", 4), "d", 4, 0),  # step 6
        kp.Argmax(Ref("d", 4), "r_class"),  # step 7
    )
    consts = {"W": np.arange(16, dtype=np.int64)}
    return KernelProgram("tiny", "16", "x", "r_class", True, bufs, kernels, ("r_i", "r_class"), consts)


def test_liveness_of_a_loop() -> None:
    live = {lt.name: (lt.start, lt.end) for lt in analyse(tiny_program()).lifetimes}
    loop = (4, 11)  # step 2 (the Loop) to the write time of step 5
    assert live["a"] == (1, loop[1])  # defined before the loop, read inside: whole loop
    assert live["h"] == (3, 12)  # carried (read before written in the body), read after the loop
    assert live["b"] == (7, 10)  # written then read within one iteration: local
    assert live["c"] == (11, 11)  # never read
    assert live["d"] == (13, 15)  # argmax is not element-wise: it reads at 2s+1
    assert "x" not in live  # the input is the caller's, not in the arena


def test_in_place_only_when_the_input_dies() -> None:
    live = analyse(tiny_program())
    # Clamp b → c (step 5) and Rescale h → d (step 6): the source dies there, same width, plain
    # view. Rescale b → h (step 4) is not a pair: b is still read at step 5.
    assert [(p.step, p.source, p.out) for p in live.in_place] == [(5, "b", "c"), (6, "h", "d")]


def test_in_place_never_for_matmul() -> None:
    live = {lt.name: (lt.start, lt.end) for lt in analyse(tiny_program()).lifetimes}
    # x is not in the arena; a is written at 2*0+1. A matmul reading a temp would read at 2s+1.
    assert live["a"][0] == 1


def zoo_program(name: str, bits: int) -> KernelProgram:
    m = load_model(name)
    assert m.data is not None
    prof = profile(m.graph, m.data.x_train)
    return lower(m.graph, assign_formats(m.graph, prof, FormatPolicy(bits=bits)), prof)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("name", ZOO_NAMES)
def test_zoo_plans_are_valid_and_reach_the_bound(name: str, bits: int) -> None:
    prog = zoo_program(name, bits)
    plan = plan_memory(prog)
    check_plan(plan.plan_buffers(), plan.arena_plan())
    print(
        f"{name} {bits}-bit: arena {plan.arena_bytes} B, bound {plan.lower_bound_bytes} B, "
        f"linear {plan.linear_bytes} B"
    )
    # Every zoo model reaches the lower bound today; a regression here means a worse plan.
    assert plan.arena_bytes == plan.lower_bound_bytes
    for p in plan.in_place:  # a shared pair must have the output at or below its source
        assert plan.offset(p.out) <= plan.offset(p.source)
