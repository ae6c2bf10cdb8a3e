"""Lifetimes of a straight-line program's buffers, and operator reordering (Liberis & Lane).

A straight-line program (the int8 affine family: no loops, no registers) runs kernel s at step s.
A buffer lives from the first step that touches it to the last, inclusive; the program's input
from step 0 and its output to the last step. Kernels at the same step conflict in memory: an input
and the output of one kernel never share bytes. The lower bound of an order is the peak over steps
of the bytes live at that step.

``best_order`` finds the topological order with the smallest peak: dynamic programming over the
sets of executed kernels (each a down-set of the dependence graph; a set's cost is the smallest
peak reaching it, and what is resident after it does not depend on the order inside it), exact
while the number of reachable sets stays under ``max_states``, a beam of the best sets per depth
beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.fixedpoint.program import Kernel, KernelProgram
from hlsfix.memory.planner import Buffer as PlanBuffer
from hlsfix.memory.planner import lower_bound


def kernel_reads(k: Kernel) -> tuple[str, ...]:
    reads = [r.buffer for r in k.reads()]
    acc = getattr(k, "acc", None)
    if acc is not None and not getattr(k, "acc_init", True):
        reads.append(acc)
    return tuple(reads)


def kernel_writes(k: Kernel) -> tuple[str, ...]:
    acc = getattr(k, "acc", None)
    if acc is None:
        return (k.out,)  # type: ignore[attr-defined]
    return (acc, k.out) if getattr(k, "acc_finish", True) else (acc,)  # type: ignore[attr-defined]


def lifetimes(program: KernelProgram) -> list[PlanBuffer]:
    """One planner buffer per arena buffer (the input, temporaries, accumulators), in step units."""
    first: dict[str, int] = {program.input: 0}
    last: dict[str, int] = {program.input: 0}
    for s, k in enumerate(program.kernels):
        for name in (*kernel_reads(k), *kernel_writes(k)):
            first.setdefault(name, s)
            last[name] = s
    end = max(len(program.kernels) - 1, 0)
    last[program.output] = end
    out = []
    for name, start in first.items():
        b = program.buffer(name)
        align = 4 if b.fmt.bits == 32 else 1
        out.append(PlanBuffer(name, b.nbytes, start, last[name], align))
    return out


def live_per_step(program: KernelProgram) -> list[int]:
    """Bytes live at each step of the program's own order."""
    live = [0] * max(len(program.kernels), 1)
    for b in lifetimes(program):
        for s in range(b.start, b.end + 1):
            live[s] += b.size
    return live


def order_bound(program: KernelProgram) -> int:
    """The lower bound of the program's own order: peak bytes live at one step."""
    return lower_bound(lifetimes(program))


@dataclass(frozen=True)
class OrderResult:
    order: tuple[int, ...]  # kernel indices of the given program, in the chosen order
    peak_bytes: int
    exact: bool  # the dynamic programme covered every reachable set (no beam cut)
    states: int


def _graph(program: KernelProgram) -> tuple[list[int], list[int], list[int], dict[str, int], int]:
    """Per kernel: bitmask of predecessors, output buffer index; buffer sizes and consumer masks."""
    names: dict[str, int] = {}

    def idx(name: str) -> int:
        return names.setdefault(name, len(names))

    idx(program.input)
    writer: dict[str, int] = {}
    preds = [0] * len(program.kernels)
    outs = [0] * len(program.kernels)
    for i, k in enumerate(program.kernels):
        writes = kernel_writes(k)
        if len(writes) != 1 or kernel_reads(k).count(writes[0]):
            raise ValueError("reordering needs a program in which each buffer is written once")
        for r in kernel_reads(k):
            idx(r)
            if r in writer:
                preds[i] |= 1 << writer[r]
        if writes[0] in writer:
            raise ValueError(f"buffer {writes[0]} is written twice: reorder before partial execution")
        writer[writes[0]] = i
        outs[i] = idx(writes[0])
    sizes = [program.buffer(n).nbytes for n in names]
    consumers = [0] * len(names)
    for i, k in enumerate(program.kernels):
        for r in kernel_reads(k):
            consumers[names[r]] |= 1 << i
    return preds, outs, sizes, names, consumers  # type: ignore[return-value]


def best_order(program: KernelProgram, *, max_states: int = 200_000, beam: int = 2_000) -> OrderResult:
    """The execution order with the smallest peak (see the module doc)."""
    n = len(program.kernels)
    preds, outs, sizes, names, consumers = _graph(program)
    inp, outp = names[program.input], names[program.output]
    full = (1 << n) - 1

    def resident(done: int, produced: int) -> int:
        total = 0
        for b in range(len(sizes)):
            if produced >> b & 1 and (b == outp or consumers[b] & ~done):
                total += sizes[b]
        return total

    # state: done-mask → (peak so far, produced-buffers mask, predecessor state, kernel)
    layer: dict[int, tuple[int, int, int, int]] = {0: (0, 1 << inp, -1, -1)}
    history: list[dict[int, tuple[int, int, int, int]]] = [layer]
    exact, states = True, 1
    for _ in range(n):
        nxt: dict[int, tuple[int, int, int, int]] = {}
        for done, (peak, produced, _, _) in layer.items():
            base = resident(done, produced)
            for k in range(n):
                if done >> k & 1 or preds[k] & ~done:
                    continue
                step_peak = max(peak, base + sizes[outs[k]])
                key = done | 1 << k
                if key not in nxt or step_peak < nxt[key][0]:
                    nxt[key] = (step_peak, produced | 1 << outs[k], done, k)
        states += len(nxt)
        if states > max_states and len(nxt) > beam:
            exact = False
            kept = sorted(nxt.items(), key=lambda kv: (kv[1][0], resident(kv[0], kv[1][1])))[:beam]
            nxt = dict(kept)
        layer = nxt
        history.append(layer)
    order: list[int] = []
    key = full
    for depth in range(n, 0, -1):
        _, _, prev, k = history[depth][key]
        order.append(k)
        key = prev
    peak = history[n][full][0]
    return OrderResult(tuple(reversed(order)), peak, exact, states)


def reordered(program: KernelProgram, order: tuple[int, ...]) -> KernelProgram:
    """The same program with its kernels in ``order`` (a topological order: same results)."""
    from dataclasses import replace

    labels = tuple(program.labels[i] for i in order) if program.labels else ()
    return replace(program, kernels=tuple(program.kernels[i] for i in order), labels=labels)
