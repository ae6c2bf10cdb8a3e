"""Data-driven scales: each value gets the most fractional bits that hold its observed range.

A ``FormatPolicy`` is one point of the search space that ``explore`` walks: the default width,
SeeDot-style headroom (fewer fractional bits for computed values, so fixed-point error cannot push
them past their float range), the input's offset, and Shiftry's per-value overrides (8 bits, extra
offset). Views (indexing, vector transpose, identity reshape) and magnitude-preserving ops (relu,
maxpool, negation) keep their operand's format, so they never need a rescale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from hlsfix.errors import CompileError
from hlsfix.fixedpoint.profile import Profile
from hlsfix.fixedpoint.program import Format
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph, walk_block
from hlsfix.ir.interp import partial_sum_name
from hlsfix.ir.types import Block

# Beyond this magnitude a float model's value is a sign of divergence, not a range to represent.
MAX_REPRESENTABLE = 2.0**40
# An 8-bit value read only by sgn needs its sign, which a saturating store keeps: it is given the
# resolution of a value within ±1 whatever its range, so a small score is not floored to 0.
SIGN_ONLY_RANGE = 1.0


@dataclass(frozen=True)
class FormatPolicy:
    bits: int = 16
    headroom: int = 0  # fractional bits given up by every computed value
    input_offset: int = 0  # fractional bits given up by the input
    overrides: tuple[tuple[str, int, int], ...] = ()  # (value, bits, extra offset)

    def with_override(self, name: str, bits: int, offset: int) -> FormatPolicy:
        kept = tuple(o for o in self.overrides if o[0] != name)
        return FormatPolicy(self.bits, self.headroom, self.input_offset, (*kept, (name, bits, offset)))

    def bits_of(self, name: str) -> tuple[int, int]:
        for value, bits, offset in self.overrides:
            if value == name:
                return bits, offset
        return self.bits, 0


def frac_for(max_abs: float, bits: int) -> int:
    """The largest frac with max_abs · 2^frac ≤ 2^(bits-1) − 1."""
    qmax = (1 << (bits - 1)) - 1
    if max_abs <= 0.0:
        return bits - 1
    return min(math.floor(math.log2(qmax / max_abs)), 2 * bits)


def is_view_like(op: ops.Op, types: Mapping) -> bool:
    """Ops whose result keeps its (first) operand's format."""
    if isinstance(op, ops.Index | ops.MaxPool | ops.Splice):
        return True
    if isinstance(op, ops.Unary) and op.fn in ("relu", "relu6", "neg"):
        return True
    if isinstance(op, ops.Transpose):
        return 1 in types[op.x].shape
    return isinstance(op, ops.Reshape) and op.order == tuple(range(1, len(op.order) + 1))


def _source(op: ops.Op) -> str:
    return op.operands()[0]


def demotable_values(graph: Graph) -> tuple[str, ...]:
    """Values whose width the mixed-precision search may choose: parameters and computed tensors
    that own their storage (views follow their source)."""
    names = [p.name for p in graph.params]
    for node in walk_block(graph.body):
        t = graph.types[node.out]
        if not t.is_int and not is_view_like(node.op, graph.types):
            names.append(node.out)
    return tuple(names)


def _block_results(block: Block) -> set[str]:
    """The results of ``block`` and of the bodies nested in it (read by their loop or sum)."""
    out = {block.result}
    for node in block.nodes:
        if isinstance(node.op, ops.Loop | ops.Sum):
            out |= _block_results(node.op.body)
    return out


def partial_sums(graph: Graph) -> tuple[str, ...]:
    """Computed values that are only ever added to something else (every reader an add, subtract
    or bias add; not a block's result), in program order: the partial sums of what int8 inference
    accumulates in one wide register — FastGRNN's ``W·x + U·h + b`` — which a program of 8-bit
    kernels stores at 8 bits between its kernels unless the search keeps them wider."""
    readers: dict[str, list[ops.Op]] = {}
    for node in graph.walk():
        for operand in node.op.operands():
            readers.setdefault(operand, []).append(node.op)
    params = {p.name for p in graph.params}
    results = _block_results(graph.body)
    sums = (ops.MatMul, ops.SparseMatMul, ops.Conv2d, ops.BiasAdd, ops.Elementwise, ops.ScalarMul)

    def is_add(op: ops.Op) -> bool:
        return isinstance(op, ops.BiasAdd) or (isinstance(op, ops.Elementwise) and op.kind != "mul")

    return tuple(
        n.out
        for n in walk_block(graph.body)
        if n.out not in params
        and n.out not in results
        and not graph.types[n.out].is_int
        and isinstance(n.op, sums)
        and readers.get(n.out)
        and all(is_add(r) for r in readers[n.out])
    )


def loop_states(graph: Graph) -> tuple[tuple[str, ...], ...]:
    """Per loop, the values its state is stored in — the loop's value, its body's result and the
    partial sums that result adds up (FastGRNN's ``(ζ(1−z)+ν)⊙c + z⊙h``): one choice of width,
    since widening one of them alone still narrows the state at the others."""
    sums = set(partial_sums(graph))
    producer = {n.out: n.op for n in graph.walk()}

    def cone(value: str) -> list[str]:
        op = producer.get(value)
        if op is None:
            return []
        out = []
        for operand in op.operands():
            if operand in sums:
                out += [operand, *cone(operand)]
        return out

    return tuple(
        (n.out, n.op.body.result, *cone(n.op.body.result))
        for n in graph.walk()
        if isinstance(n.op, ops.Loop) and not graph.types[n.out].is_int
    )


def sign_only_values(graph: Graph) -> frozenset[str]:
    """Values whose every reader is sgn."""
    readers: dict[str, list[ops.Op]] = {}
    for node in graph.walk():
        for operand in node.op.operands():
            readers.setdefault(operand, []).append(node.op)
    return frozenset(v for v, users in readers.items() if all(isinstance(u, ops.Sgn) for u in users))


def assign_formats(graph: Graph, prof: Profile, policy: FormatPolicy) -> dict[str, Format]:
    fmts: dict[str, Format] = {}
    sign_only = sign_only_values(graph)

    def fmt_for(name: str, extra: int, also: tuple[str, ...] = ()) -> Format:
        bits, offset = policy.bits_of(name)
        r = prof.ranges.get(name)
        for other in also:
            if other in prof.ranges:
                r = prof.ranges[other] if r is None else r.union(prof.ranges[other])
        max_abs = r.max_abs if r else 0.0
        if bits == 8 and name in sign_only:
            max_abs = min(max_abs, SIGN_ONLY_RANGE)
        if not math.isfinite(max_abs) or max_abs > MAX_REPRESENTABLE:
            raise CompileError(
                f"range of {name!r} must be finite and below 2^40 to be represented in {bits} bits, "
                f"not [{r.lo:.4g}, {r.hi:.4g}]"
                if r
                else f"range of {name!r} is unknown"
            )
        return Format(bits, frac_for(max_abs, bits) - extra - offset)

    fmts[graph.input.name] = fmt_for(graph.input.name, policy.input_offset)
    for p in graph.params:
        fmts[p.name] = fmt_for(p.name, 0)

    def visit(block: Block) -> None:
        for node in block.nodes:
            op = node.op
            if graph.types[node.out].is_int:
                pass
            elif is_view_like(op, graph.types):
                fmts[node.out] = fmts[_source(op)]
            elif isinstance(op, ops.Loop):
                fmts[node.out] = fmt_for(node.out, policy.headroom, (op.carried, op.body.result))
            elif isinstance(op, ops.Sum):
                fmts[node.out] = fmt_for(node.out, policy.headroom, (partial_sum_name(op),))
            else:
                fmts[node.out] = fmt_for(node.out, policy.headroom)
                if isinstance(op, ops.Unary) and op.fn in ("sigmoid", "tanh"):
                    # |output| ≤ 1: more fractional bits than bits−1 buy nothing and would
                    # overflow the division's numerator.
                    f = fmts[node.out]
                    fmts[node.out] = Format(f.bits, min(f.frac, f.bits - 1))
            if isinstance(op, ops.Sum):
                visit(op.body)
            elif isinstance(op, ops.Loop):
                # The carried value is stored in the loop's format on entry and after each iteration.
                fmts[op.carried] = fmts[node.out]
                visit(op.body)

    visit(graph.body)
    return fmts
