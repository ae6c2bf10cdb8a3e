"""Benchmark the static arena planner on random model-like graphs.

Run:  python benchmarks/bench_planner.py [--search-seconds 0.5] [--seeds 3]

Three graph shapes, all scheduled in a topological order where time step = op index:
  chain  a layer chain with occasional skip connections (ResNet/FastGRNN-like);
  tree   a random operand tree evaluated in post-order (Bonsai/expression-like), so
         finished sibling subtrees wait for their parent and lifetimes nest;
  dag    every op reads 1-3 of the last six tensors, so more buffers are live at once;
  stress arbitrary random intervals (general dynamic storage allocation, much harder).
Tensor sizes are feature widths times an element size of 1, 2 or 4 bytes (the same number
as the alignment), like int8/int16/int32 buffers of a fixed-point model.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hlsfix.memory.planner import Buffer, check_plan, plan_arena  # noqa: E402

WIDTHS = (4, 8, 10, 16, 24, 32, 50, 64, 100, 128)


def _tensor(rng: random.Random, name: str, start: int, end: int) -> Buffer:
    elem = rng.choice((1, 2, 2, 4))
    return Buffer(name, rng.choice(WIDTHS) * elem, start, end, elem)


def random_chain(rng: random.Random, n: int) -> list[Buffer]:
    """Op i writes t_i, op i+1 reads it; ~15% of tensors are also read by a later op."""
    out = []
    for i in range(n):
        last_use = min(n, i + 1 + (rng.randint(2, 8) if rng.random() < 0.15 else 0))
        out.append(_tensor(rng, f"t{i}", i, last_use))
    return out


def random_tree(rng: random.Random, n: int) -> list[Buffer]:
    """Random tree of n ops; each op's result lives from its step until its parent runs."""
    parent = [-1] + [rng.randrange(i) for i in range(1, n)]
    children: list[list[int]] = [[] for _ in range(n)]
    for i in range(1, n):
        children[parent[i]].append(i)
    # Iterative post-order: a node runs right after its last child.
    step: dict[int, int] = {}
    stack = [(0, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            step[node] = len(step)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children[node]))
    return [
        _tensor(rng, f"n{i}", step[i], step[parent[i]] if parent[i] >= 0 else step[i] + 1) for i in range(n)
    ]


def random_dag(rng: random.Random, n: int) -> list[Buffer]:
    """Each op reads 1-3 of the 6 most recent tensors (inception/attention-like fan-in)."""
    last_use = list(range(1, n + 1))
    for op in range(1, n):
        for src in rng.sample(range(max(0, op - 6), op), min(op, rng.randint(1, 3))):
            last_use[src] = max(last_use[src], op)
    return [_tensor(rng, f"d{i}", i, last_use[i]) for i in range(n)]


def random_intervals(rng: random.Random, n: int) -> list[Buffer]:
    """Stress case, not model-like: arbitrary overlapping lifetimes up to n/4 steps long."""
    out = []
    for i in range(n):
        start = rng.randrange(n)
        out.append(_tensor(rng, f"r{i}", start, start + rng.randrange(max(1, n // 4))))
    return out


def greedy_arena(buffers: list[Buffer]) -> int:
    # Step 1 alone: no search budget and no exact search.
    return plan_arena(buffers, search_seconds=0, exact_max_buffers=0).arena_bytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--search-seconds", type=float, default=0.5)
    ap.add_argument("--seeds", type=int, default=3, help="instances per (shape, size) row")
    ap.add_argument("--sizes", type=int, nargs="*", default=[12, 20, 50, 100, 200])
    args = ap.parse_args()

    header = (
        f"{'shape':6} {'n':>4} {'greedy B':>9} {'final B':>8} {'bound B':>8} {'greedy %':>9} "
        f"{'final %':>8} {'linear B':>9} {'method':>7} {'optimal':>7} {'time ms':>8}"
    )
    print(header)
    print("-" * len(header))
    summary: list[str] = []
    for shape, gen in (
        ("chain", random_chain),
        ("tree", random_tree),
        ("dag", random_dag),
        ("stress", random_intervals),
    ):
        greedy_pct, final_pct, at_bound, proven, slowest = [], [], 0, 0, 0.0
        for n in args.sizes:
            for seed in range(args.seeds):
                bufs = gen(random.Random(1000 * n + seed), n)
                g = greedy_arena(bufs)
                t0 = time.perf_counter()
                plan = plan_arena(bufs, search_seconds=args.search_seconds, seed=seed)
                dt = time.perf_counter() - t0
                check_plan(bufs, plan)
                lb = plan.lower_bound_bytes
                greedy_pct.append(100 * (g - lb) / lb)
                final_pct.append(100 * (plan.arena_bytes - lb) / lb)
                at_bound += plan.arena_bytes == lb
                proven += plan.optimal
                slowest = max(slowest, dt)
                print(
                    f"{shape:6} {n:>4} {g:>9} {plan.arena_bytes:>8} {lb:>8} {greedy_pct[-1]:>8.1f}% "
                    f"{final_pct[-1]:>7.1f}% {plan.linear_bytes:>9} {plan.method:>7} "
                    f"{'yes' if plan.optimal else 'no':>7} {1000 * dt:>8.1f}"
                )
        rows = len(final_pct)
        summary.append(
            f"{shape:6} mean above bound: greedy {sum(greedy_pct) / rows:5.2f}%, final "
            f"{sum(final_pct) / rows:5.2f}%; at bound {at_bound}/{rows}, proven optimal {proven}/{rows}, "
            f"slowest {1000 * slowest:.0f} ms"
        )
    print()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
