"""The model graph: input, parameters with their weights, and one structured SSA block.

``GraphBuilder`` is how frontends make graphs: it names values, infers each node's type at once and
turns a shape error into a ``ModelError`` at the node's source location.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from hlsfix.errors import ModelError, SourceLoc
from hlsfix.ir import ops
from hlsfix.ir.types import Block, InputSpec, Node, Param, TensorType


@dataclass(frozen=True)
class Graph:
    name: str
    input: InputSpec
    params: tuple[Param, ...]
    body: Block
    types: Mapping[str, TensorType] = field(compare=False, repr=False)
    weights: Mapping[str, np.ndarray] = field(compare=False, repr=False)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def walk(self) -> Iterator[Node]:
        """Every node, nested bodies included, in program order."""
        yield from walk_block(self.body)

    @property
    def output_type(self) -> TensorType:
        return self.types[self.body.result]

    def stats(self) -> GraphStats:
        return graph_stats(self)


def walk_block(block: Block) -> Iterator[Node]:
    for node in block.nodes:
        yield node
        if isinstance(node.op, ops.Sum | ops.Loop):
            yield from walk_block(node.op.body)


@dataclass(frozen=True)
class GraphStats:
    parameters: int
    nonzeros: int
    macs: int
    op_counts: tuple[tuple[str, int], ...]
    sparsity: tuple[tuple[str, float], ...]  # sparse parameter -> fraction of zeros


def _macs_of_block(graph: Graph, block: Block) -> tuple[int, Counter[str]]:
    """Multiply-accumulates per inference (sparse products count non-zeros), and op counts,
    with loop and sum bodies multiplied by their trip counts."""
    macs = 0
    counts: Counter[str] = Counter()
    for node in block.nodes:
        op = node.op
        counts[type(op).__name__] += 1
        if isinstance(op, ops.MatMul):
            m, k = graph.types[op.a].shape
            macs += m * k * graph.types[op.b].shape[1]
        elif isinstance(op, ops.SparseMatMul):
            macs += int(np.count_nonzero(graph.weights[op.matrix]))
        elif isinstance(op, ops.Conv2d):
            out = graph.types[node.out].shape
            _, hf, wf, cin_g, _ = graph.types[op.filters].shape
            macs += math.prod(out) * hf * wf * cin_g
        elif isinstance(op, ops.Sum | ops.Loop):
            inner, inner_counts = _macs_of_block(graph, op.body)
            trips = op.stop - op.start
            macs += inner * trips
            counts.update({k: v * trips for k, v in inner_counts.items()})
    return macs, counts


def graph_stats(graph: Graph) -> GraphStats:
    macs, counts = _macs_of_block(graph, graph.body)
    sizes = [math.prod(p.shape) for p in graph.params]
    nnz = [int(np.count_nonzero(graph.weights[p.name])) for p in graph.params]
    sparsity = tuple(
        (p.name, 1.0 - n / s) for p, n, s in zip(graph.params, nnz, sizes, strict=True) if p.sparse
    )
    return GraphStats(
        parameters=sum(sizes),
        nonzeros=sum(nnz),
        macs=macs,
        op_counts=tuple(sorted(counts.items())),
        sparsity=sparsity,
    )


# No tensor of a model that fits a microcontroller or an FPGA comes near this; checked when a
# shape is declared or inferred, before anything of that size is allocated.
MAX_ELEMENTS = 1 << 22


def check_elements(shape: tuple[int, ...], what: str, loc: SourceLoc | None) -> None:
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise ModelError(
            f"{what} must have at most {MAX_ELEMENTS} elements, not {size} of shape {shape}", loc
        )


class GraphBuilder:
    """Accumulates nodes into nested blocks while inferring types."""

    def __init__(self) -> None:
        self.types: dict[str, TensorType] = {}
        self._blocks: list[list[Node]] = [[]]
        self._used: Counter[str] = Counter()

    def fresh(self, hint: str) -> str:
        """A value name not used before: the hint itself the first time, then hint.1, hint.2 …"""
        n = self._used[hint]
        self._used[hint] += 1
        return hint if n == 0 else f"{hint}.{n}"

    def reserve(self, name: str) -> None:
        """Keep ``fresh`` from ever giving this name (a parameter declared later takes it)."""
        self._used[name] = max(self._used[name], 1)

    def declare(self, name: str, t: TensorType) -> None:
        """A value defined outside any node (the input, parameters, loop indices, carried values)."""
        self.types[name] = t
        self._used[name] += 1

    def add(self, op: ops.Op, loc: SourceLoc | None, hint: str = "t") -> str:
        try:
            t = op.infer(self.types)
        except ops.ShapeMismatch as e:
            raise ModelError(str(e), loc) from None
        check_elements(t.shape, "a value", loc)
        out = self.fresh(hint)
        self.types[out] = t
        self._blocks[-1].append(Node(out, op, loc))
        return out

    def open_block(self) -> None:
        self._blocks.append([])

    def close_block(self, result: str) -> Block:
        return Block(tuple(self._blocks.pop()), result)

    def finish(
        self,
        name: str,
        input_spec: InputSpec,
        params: tuple[Param, ...],
        result: str,
        weights: Mapping[str, np.ndarray],
    ) -> Graph:
        if len(self._blocks) != 1:  # pragma: no cover - a frontend bug, not a user error
            raise AssertionError("unclosed block")
        body = Block(tuple(self._blocks[0]), result)
        return Graph(
            name=name,
            input=input_spec,
            params=params,
            body=body,
            types=MappingProxyType(dict(self.types)),
            weights=MappingProxyType(dict(weights)),
        )
