"""What ``hlsfix info`` shows of a model, as data: its input, every node (op, operands, result shape),
every parameter (shape, range, count) and the totals (parameters, MACs, op counts). The CLI
prints ``format_info``; the Python API returns ``describe``."""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.ir import ops
from hlsfix.ir.graph import Graph, walk_block


@dataclass(frozen=True)
class NodeInfo:
    out: str
    op: str
    operands: tuple[str, ...]
    shape: tuple[int, ...] | None  # None: an integer (a class)


@dataclass(frozen=True)
class ParamInfo:
    name: str
    shape: tuple[int, ...]
    range: tuple[float, float]
    count: int
    sparse: bool


@dataclass(frozen=True)
class ModelInfo:
    name: str
    input_shape: tuple[int, ...]
    input_range: tuple[float, float]
    nodes: tuple[NodeInfo, ...]
    params: tuple[ParamInfo, ...]
    parameters: int
    macs: int
    op_counts: tuple[tuple[str, int], ...]
    output: str  # "class" or the output tensor's shape


def _op_label(op: ops.Op) -> str:
    if isinstance(op, ops.Unary):
        return op.fn
    if isinstance(op, ops.Elementwise):
        return op.kind
    return type(op).__name__


def describe(graph: Graph) -> ModelInfo:
    stats = graph.stats()
    nodes = tuple(
        NodeInfo(
            n.out,
            _op_label(n.op),
            n.op.operands(),
            None if graph.types[n.out].is_int else graph.types[n.out].shape,
        )
        for n in walk_block(graph.body)
    )
    params = tuple(
        ParamInfo(p.name, p.shape, p.declared_range, int(graph.weights[p.name].size), p.sparse)
        for p in graph.params
    )
    out = graph.output_type
    return ModelInfo(
        graph.name,
        graph.input.shape,
        graph.input.declared_range,
        nodes,
        params,
        stats.parameters,
        stats.macs,
        stats.op_counts,
        "class" if out.is_int else str(out.shape),
    )


def format_info(info: ModelInfo) -> str:
    lo, hi = info.input_range
    lines = [
        f"model {info.name}: input {info.input_shape} in [{lo:.4g}, {hi:.4g}] -> {info.output}",
        f"{info.parameters} parameters, {info.macs} MACs per inference",
        "ops: " + ", ".join(f"{op} {n}" for op, n in info.op_counts),
        "graph:",
    ]
    for n in info.nodes:
        shape = "int" if n.shape is None else str(n.shape)
        lines.append(f"  {n.out} = {n.op}({', '.join(n.operands)}) : {shape}")
    lines.append("parameters:")
    for p in info.params:
        sparse = " sparse" if p.sparse else ""
        lines.append(f"  {p.name} {p.shape} in [{p.range[0]:.4g}, {p.range[1]:.4g}] ({p.count}){sparse}")
    return "\n".join(lines)
