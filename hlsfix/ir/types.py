"""Value types and the containers of the model graph (frozen, hashable, printable)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

from hlsfix.errors import SourceLoc


class OpLike(Protocol):
    """What a container needs of an operation (``hlsfix.ir.ops.Op``): the values it reads. A protocol,
    so that the types need not import the ops that are built on them."""

    def operands(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class TensorType:
    """A real tensor of static shape, or (kind "int", shape ()) an integer scalar."""

    shape: tuple[int, ...]
    kind: Literal["real", "int"] = "real"

    @property
    def is_int(self) -> bool:
        return self.kind == "int"

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def shape_str(self) -> str:
        return "(" + ", ".join(str(d) for d in self.shape) + ")"

    def __str__(self) -> str:
        return "int" if self.is_int else f"real{self.shape_str}"


INT = TensorType((), "int")


def real(shape: tuple[int, ...]) -> TensorType:
    return TensorType(tuple(shape), "real")


@dataclass(frozen=True)
class Node:
    """One SSA definition: ``out = op(...)``."""

    out: str
    op: OpLike
    loc: SourceLoc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Block:
    """A straight-line list of nodes (structured ops nest further blocks) and the value it yields."""

    nodes: tuple[Node, ...]
    result: str

    def free_values(self, bound: set[str] | frozenset[str] = frozenset()) -> tuple[str, ...]:
        """Values read inside this block (nested blocks included) but defined outside it."""
        defined = set(bound)
        free: list[str] = []

        def visit(block: Block) -> None:
            for node in block.nodes:
                for name in node.op.operands():
                    if name not in defined and name not in free:
                        free.append(name)
                defined.add(node.out)
            if block.result not in defined and block.result not in free:
                free.append(block.result)

        visit(self)
        return tuple(free)


@dataclass(frozen=True)
class Param:
    """A named constant tensor whose values come from the weights file."""

    name: str
    shape: tuple[int, ...]
    declared_range: tuple[float, float]
    sparse: bool = False
    loc: SourceLoc | None = field(default=None, compare=False)


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]
    declared_range: tuple[float, float]

    @property
    def size(self) -> int:
        return math.prod(self.shape)
