"""The state of one ONNX import, shared by the converters (``onnx_ops``, ``onnx_window``): the IR
being built, the constants known at import, each ONNX tensor's IR value and layout."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.errors import ModelError
from hlsfix.ir import ops
from hlsfix.ir.graph import GraphBuilder
from hlsfix.ir.types import Param, real

if TYPE_CHECKING:
    import onnx

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


@dataclass(frozen=True)
class Val:
    """An imported ONNX tensor: its IR value, and whether a 4-D NCHW tensor is held as NHWC."""

    ir: str
    nhwc: bool = False


@dataclass(frozen=True)
class Node:
    """An operator in ONNX's terms built by another frontend (TFLite), for the shared converters of
    ``onnx_ops`` and ``onnx_window``: they read only these fields of an ``onnx.NodeProto``."""

    op_type: str
    input: tuple[str, ...]
    output: tuple[str, ...]
    name: str = ""
    domain: str = ""


def attributes(node: onnx.NodeProto) -> dict[str, object]:
    from onnx import helper, numpy_helper

    out: dict[str, object] = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.type == a.TENSOR:
            value = numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode()
        out[a.name] = value
    return out


def c_identifier(name: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "v"
    return ident if ident[0].isalpha() else "v" + ident


@dataclass
class Importer:
    """The state of one import (ONNX, or TFLite through ``Node``); ``onnx_ops`` converts nodes
    through its helpers."""

    model: onnx.ModelProto | None
    name: str
    b: GraphBuilder = field(default_factory=GraphBuilder)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    vals: dict[str, Val] = field(default_factory=dict)
    # An output that only reorders nothing (softmax, logistic, normalisation) → (its input, which)
    monotone_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    layouts: dict[tuple[str, bool], str] = field(default_factory=dict)  # (tensor, NHWC?) → IR copy
    folded: int = 0
    op_counts: Counter[str] = field(default_factory=Counter)
    opset: int = 13
    # Scores whose class decision is per row: tensor → (axis, rows flattened from axis on?)
    class_axis: dict[str, tuple[int, bool]] = field(default_factory=dict)
    int_typed: set[str] = field(default_factory=set)  # ONNX tensors of an integer type
    # Integer Div quotients: the real quotient, truncated toward zero only at the output boundary
    truncated: set[str] = field(default_factory=set)
    wanted: set[str] = field(default_factory=set)  # the tensors the imported output depends on

    # -- values --------------------------------------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None

    def scores_of(self, name: str) -> tuple[str, tuple[str, ...]]:
        """The tensor whose class decision ``name`` is, and the monotone steps from it to name."""
        steps: list[str] = []
        while name in self.monotone_of:
            name, step = self.monotone_of[name]
            steps.insert(0, step)
        return name, tuple(steps)

    def onnx_shape(self, name: str) -> tuple[int, ...]:
        name = self.scores_of(name)[0]
        if name in self.consts:
            return tuple(self.consts[name].shape)
        v = self.val(name)
        shape = self.b.types[v.ir].shape
        return tuple(shape[i] for i in NHWC_TO_NCHW) if v.nhwc else shape

    def val(self, name: str) -> Val:
        if name in self.monotone_of:
            raise ModelError(
                f"output {name!r} of a Softmax/LogSoftmax/post-transform must only lead to the model's "
                "output (the class decision), not into further computation"
            )
        return self.vals[name]

    def param(self, hint: str, array: np.ndarray, *, sparse: bool = False) -> str:
        """A new parameter holding ``array`` (float64), named for the SeeDot export too; ``sparse``
        stores it column-compressed, for ``|*|``."""
        arr = np.asarray(array, dtype=np.float64)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        name = self.b.fresh("p_" + c_identifier(hint)).replace(".", "_")
        while name in self.b.types:
            name = self.b.fresh(name)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        self.params.append(Param(name, arr.shape, (lo, hi), sparse=sparse))
        self.weights[name] = arr
        self.b.declare(name, real(arr.shape))
        return name

    def add(self, op: ops.Op, hint: str) -> str:
        return self.b.add(op, None, c_identifier(hint)[:24])

    def permute(self, x: str, perm: tuple[int, ...], hint: str) -> str:
        """x with its axes permuted (a view when only axes of extent 1 move)."""
        shape = self.b.types[x].shape
        if perm == tuple(range(len(perm))):
            return x
        new = tuple(shape[p] for p in perm)
        moved = [p for p in perm if shape[p] != 1]
        order = tuple(range(1, len(perm) + 1)) if moved == sorted(moved) else tuple(p + 1 for p in perm)
        return self.add(ops.Reshape(x, new, order), hint)

    def plain(self, name: str) -> str:
        """The IR value of ONNX tensor ``name`` in ONNX's own layout (permuted once, if held NHWC)."""
        v = self.val(name)
        if not v.nhwc:
            return v.ir
        if (name, False) not in self.layouts:
            self.layouts[name, False] = self.permute(v.ir, NHWC_TO_NCHW, name + "_nchw")
        return self.layouts[name, False]

    def nhwc(self, name: str, what: str) -> str:
        """The IR value of 4-D ONNX tensor ``name`` held NHWC (permuted once, if held NCHW)."""
        v = self.val(name)
        if v.nhwc:
            return v.ir
        rank = len(self.b.types[v.ir].shape)
        if rank != 4:
            raise ModelError(f"input of {what} must be a 4-D NCHW tensor, not rank {rank} ({name!r})")
        if (name, True) not in self.layouts:
            self.layouts[name, True] = self.permute(v.ir, NCHW_TO_NHWC, name + "_nhwc")
        return self.layouts[name, True]

    def reshape(self, x: str, shape: tuple[int, ...], hint: str) -> str:
        if self.b.types[x].shape == shape:
            return x
        return self.add(ops.Reshape(x, shape, tuple(range(1, len(self.b.types[x].shape) + 1))), hint)
