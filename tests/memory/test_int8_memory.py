"""Memory of int8 programs: lifetimes, the best order (exact DP against brute force), partial
execution (bound halved or better, outputs unchanged), and the plan with each technique off."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.frontend.tflite import load_tflite_int8
from hlsfix.memory.int8_plan import Int8MemoryOptions, plan_int8_memory
from hlsfix.memory.order import best_order, kernel_reads, kernel_writes, order_bound, reordered
from hlsfix.memory.pex import chain_at, partial_execution
from hlsfix.memory.planner import check_plan
from hlsfix.zoo.int8 import int8_model_path


def program(name: str):
    return load_tflite_int8(int8_model_path(name)).program


def inputs(p, n: int = 4) -> np.ndarray:
    return np.random.default_rng(5).integers(-128, 128, (n, p.input_buffer.size))


def topological_orders(p):
    writer = {w: i for i, k in enumerate(p.kernels) for w in kernel_writes(k)}
    deps = [{writer[r] for r in kernel_reads(k) if r in writer} for k in p.kernels]
    for perm in itertools.permutations(range(len(p.kernels))):
        pos = {k: i for i, k in enumerate(perm)}
        if all(pos[d] < pos[k] for k in perm for d in deps[k]):
            yield perm


def test_best_order_is_the_minimum_over_all_topological_orders() -> None:
    p = program("branchy")
    brute = min(order_bound(reordered(p, o)) for o in topological_orders(p))
    best = best_order(p)
    assert best.exact and best.peak_bytes == brute
    assert order_bound(reordered(p, best.order)) == best.peak_bytes


def test_reordering_recovers_from_a_bad_order_with_the_same_outputs() -> None:
    p = program("branchy")
    bad = reordered(p, (0, 2, 1, 3, 4, 5, 6, 7, 8))  # both 64-channel intermediates at once
    assert order_bound(bad) > order_bound(p)
    mem = plan_int8_memory(bad, Int8MemoryOptions(partial_execution=False))
    assert mem.given_order_bound == order_bound(bad)
    assert mem.best_order_bound == order_bound(p) < mem.given_order_bound
    assert mem.arena_bytes < mem.given_order_arena
    x = inputs(p)
    assert np.array_equal(run_int8(mem.program, x).output, run_int8(p, x).output)
    off = plan_int8_memory(bad, Int8MemoryOptions(reorder=False, partial_execution=False))
    assert off.program.kernels == bad.kernels and off.arena_bytes == off.given_order_arena


def test_bounded_search_beyond_the_state_budget_still_gives_a_valid_order() -> None:
    p = program("resnet_tiny")
    res = best_order(p, max_states=2, beam=1)
    assert not res.exact
    assert sorted(res.order) == list(range(len(p.kernels)))
    assert order_bound(reordered(p, res.order)) == res.peak_bytes


def test_partial_execution_halves_the_bound_of_the_bottleneck_and_keeps_every_bit() -> None:
    p = program("bottleneck")
    assert chain_at(p, 0, 3) and chain_at(p, 0, 2)
    sliced, chains = partial_execution(p)
    assert len(chains) == 1 and chains[0].kernels == 3 and chains[0].slices > 1
    assert 2 * order_bound(sliced) <= order_bound(p)
    x = inputs(p, 6)
    assert np.array_equal(run_int8(sliced, x).output, run_int8(p, x).output)
    assert sum(v.size for v in sliced.constants.values()) == sum(v.size for v in p.constants.values())


@pytest.mark.parametrize("name", ["person_detect", "ds_cnn_tiny"])
def test_conv_depthwise_slices_write_into_place(name: str) -> None:
    p = program(name)
    sliced, chains = partial_execution(p)
    assert chains and all(c.kernels == 2 for c in chains)
    assert order_bound(sliced) <= order_bound(p)
    x = inputs(p, 3)
    assert np.array_equal(run_int8(sliced, x).output, run_int8(p, x).output)


@pytest.mark.parametrize(
    "name", ["person_detect", "resnet_tiny", "branchy", "bottleneck", "mlperf_ic_resnet8"]
)
def test_plan_is_valid_and_each_technique_reported(name: str) -> None:
    mem = plan_int8_memory(program(name))
    check_plan(list(mem.buffers), mem.plan)
    s = mem.summary()
    assert s["lower_bound_bytes"] >= s["best_order_bound_bytes"]
    assert mem.arena_bytes >= (mem.pex_bound or 0)
    assert mem.arena_bytes <= mem.given_order_arena
    assert set(s) >= {"arena_bytes", "lower_bound_bytes", "best_order_bound_bytes", "linear_bytes"}
