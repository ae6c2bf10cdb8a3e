"""A graph back to the SeeDot language: ``export_sd`` writes ``model.sd`` and ``weights.npz`` that the
SeeDot frontend reads back to the same graph (the same ops in the same order on the same weights;
value names are made SeeDot names). This is how a user reads and edits what was imported.

Every op an import produces has a SeeDot form, including the sums over rows with indexing that
ArgMax along an axis and MaxPool's Indices are written in; loops and conditions (which only come
from .sd programs in the first place) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import ModelError
from hlsfix.frontend.seedot import INPUT_NAME
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph

KEYWORDS = frozenset(
    [
        "let",
        "in",
        "loop",
        "init",
        "reshape",
        "conv2d",
        "maxpool",
        "relu6",
        "relu",
        "exp",
        "tanh",
        "sigmoid",
        "sgn",
        "argmax",
    ]
)


@dataclass(frozen=True)
class SdExport:
    program: Path
    weights: Path


class _Names:
    def __init__(self) -> None:
        self.of: dict[str, str] = {}
        self.used: set[str] = set()

    def give(self, value: str, prefer: str | None = None) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", prefer or value).strip("_") or "v"
        if not base[0].isalpha():
            base = "v" + base
        name, n = base, 1
        while name in self.used or name in KEYWORDS:
            name, n = f"{base}_{n}", n + 1
        self.used.add(name)
        self.of[value] = name
        return name


def _dims(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _number(v: float) -> str:
    text = repr(float(v))
    if "inf" in text or "nan" in text:
        raise ModelError(f"ranges must be finite to be written as SeeDot, not {text}")
    return text


def _expr(op: ops.Op, n: dict[str, str]) -> str:  # noqa: C901 - one case per op
    if isinstance(op, ops.MatMul):
        return f"{n[op.a]} * {n[op.b]}"
    if isinstance(op, ops.SparseMatMul):  # the parser marks |*|'s left operand sparse again
        return f"{n[op.matrix]} |*| {n[op.vector]}"
    if isinstance(op, ops.ScalarMul):
        return f"{n[op.scalar]} * {n[op.x]}"
    if isinstance(op, ops.Elementwise):
        return f"{n[op.a]} {dict(add='+', sub='-', mul='<*>')[op.kind]} {n[op.b]}"
    if isinstance(op, ops.BiasAdd):
        return f"{n[op.x]} {'<->' if op.subtract else '<+>'} {n[op.bias]}"
    if isinstance(op, ops.Unary):
        return f"-{n[op.x]}" if op.fn == "neg" else f"{op.fn}({n[op.x]})"
    if isinstance(op, ops.Transpose):
        return f"{n[op.x]}^T"
    if isinstance(op, ops.Reshape):
        return f"reshape({n[op.x]}, {_dims(op.shape)}, {_dims(op.order)})"
    if isinstance(op, ops.Conv2d):
        (sh, sw), (pt, pb, pl, pr), (dh, dw) = op.strides, op.pads, op.dilations
        return (
            f"conv2d({n[op.x]}, {n[op.filters]}, {{s {sh} {sw}}}, {{p {pt} {pb} {pl} {pr}}}, "
            f"{{d {dh} {dw}}}, {{g {op.groups}}})"
        )
    if isinstance(op, ops.MaxPool):
        (kh, kw), (pt, pb, pl, pr), (sh, sw) = op.kernel, op.pads, op.strides
        return f"maxpool({n[op.x]}, {{k {kh} {kw}}}, {{p {pt} {pb} {pl} {pr}}}, {{s {sh} {sw}}})"
    if isinstance(op, ops.Argmax):
        return f"argmax({n[op.x]})"
    if isinstance(op, ops.Sgn):
        return f"sgn({n[op.x]})"
    if isinstance(op, ops.Index):
        return f"{n[op.x]}[{n[op.index]}]"
    raise ModelError(f"op must be one an import produces to be written as SeeDot, not {type(op).__name__}")


def sd_text(graph: Graph, header: str = "") -> str:
    """The SeeDot program of ``graph`` (its weights are written separately)."""
    names = _Names()
    names.give(graph.input.name, INPUT_NAME)
    lines = [f"// {line}" for line in header.splitlines()]
    lo, hi = graph.input.declared_range
    lines.append(f"let {INPUT_NAME} = {_dims(graph.input.shape)} in [{_number(lo)}, {_number(hi)}] in")
    for p in graph.params:
        lo, hi = p.declared_range
        lines.append(f"let {names.give(p.name)} = {_dims(p.shape)} in [{_number(lo)}, {_number(hi)}] in")
    lines += _block(graph.body.nodes, names, "")
    lines.append(names.of[graph.body.result])
    return "\n".join(lines) + "\n"


def _block(nodes, names: _Names, indent: str) -> list[str]:  # noqa: ANN001 - a block's nodes
    lines = []
    for node in nodes:
        if isinstance(node.op, ops.Sum):
            op = node.op
            index = names.give(op.index)
            inner = _block(op.body.nodes, names, indent + "    ")
            head = f"{indent}let {names.give(node.out)} = $({index} = [{op.start}:{op.stop}]) ("
            lines += [head, *inner, f"{indent}    {names.of[op.body.result]}", f"{indent}) in"]
            continue
        text = _expr(node.op, names.of)
        lines.append(f"{indent}let {names.give(node.out)} = {text} in")
    return lines


def export_sd(graph: Graph, directory: Path | str, *, header: str = "") -> SdExport:
    """Write ``model.sd`` and ``weights.npz`` (float32-exact float64 arrays) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    text = sd_text(graph, header or f"{graph.name}: written by hlsfix export_sd")
    names = _Names()
    names.give(graph.input.name, INPUT_NAME)
    weights = {names.give(p.name): np.asarray(graph.weights[p.name]) for p in graph.params}
    program, npz = directory / "model.sd", directory / "weights.npz"
    program.write_text(text)
    np.savez_compressed(npz, **weights)
    return SdExport(program, npz)
