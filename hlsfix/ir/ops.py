"""The operations of the model graph, each with its shape/type rule.

Every op names its operands by SSA value name. ``infer`` returns the result type or raises
``ShapeMismatch`` with a sentence "X must be Y, not Z"; the graph builder attaches the source location.
Structured ops (``Sum``, ``Loop``) carry a ``Block`` body and are never unrolled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from hlsfix.ir.types import INT, Block, TensorType, real

UnaryFn = Literal["relu", "relu6", "exp", "tanh", "sigmoid", "neg"]
IntBinOp = Literal["+", "-", "*"]


class ShapeMismatch(Exception):
    """Raised by ``infer``; turned into a located ModelError by the builder."""


Types = Mapping[str, TensorType]


def _need_real(types: Types, name: str, what: str) -> TensorType:
    t = types[name]
    if t.is_int:
        raise ShapeMismatch(f"{what} must be a real tensor, not an integer")
    return t


def _need_int(types: Types, name: str, what: str) -> TensorType:
    t = types[name]
    if not t.is_int:
        raise ShapeMismatch(f"{what} must be an integer, not a tensor of shape {t.shape_str}")
    return t


@dataclass(frozen=True)
class Op:
    """Base of all ops. ``operands`` lists the SSA values read, in order."""

    def operands(self) -> tuple[str, ...]:
        return ()

    def infer(self, types: Types) -> TensorType:  # pragma: no cover - every op overrides
        raise NotImplementedError


@dataclass(frozen=True)
class RealConst(Op):
    value: float

    def infer(self, types: Types) -> TensorType:
        return real(())


@dataclass(frozen=True)
class IntConst(Op):
    value: int

    def infer(self, types: Types) -> TensorType:
        return INT


@dataclass(frozen=True)
class Init(Op):
    """``init([dims], c)``: a tensor filled with one constant."""

    shape: tuple[int, ...]
    value: float

    def infer(self, types: Types) -> TensorType:
        return real(self.shape)


@dataclass(frozen=True)
class MatMul(Op):
    a: str
    b: str

    def operands(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def infer(self, types: Types) -> TensorType:
        ta, tb = (
            _need_real(types, self.a, "left operand of *"),
            _need_real(types, self.b, "right operand of *"),
        )
        if ta.rank != 2 or tb.rank != 2:
            raise ShapeMismatch(f"operands of * must be 2-D matrices, not {ta.shape_str} and {tb.shape_str}")
        if ta.shape[1] != tb.shape[0]:
            raise ShapeMismatch(f"inner dimensions of * must agree, not {ta.shape_str} * {tb.shape_str}")
        return real((ta.shape[0], tb.shape[1]))


@dataclass(frozen=True)
class SparseMatMul(Op):
    """``W |*| x``: W is a parameter stored column-compressed; x a column vector."""

    matrix: str
    vector: str

    def operands(self) -> tuple[str, ...]:
        return (self.matrix, self.vector)

    def infer(self, types: Types) -> TensorType:
        tw = _need_real(types, self.matrix, "left operand of |*|")
        tx = _need_real(types, self.vector, "right operand of |*|")
        if tw.rank != 2:
            raise ShapeMismatch(f"left operand of |*| must be a 2-D matrix, not {tw.shape_str}")
        if tx.rank != 2 or tx.shape[1] != 1:
            raise ShapeMismatch(f"right operand of |*| must be a column vector (n, 1), not {tx.shape_str}")
        if tw.shape[1] != tx.shape[0]:
            raise ShapeMismatch(f"inner dimensions of |*| must agree, not {tw.shape_str} |*| {tx.shape_str}")
        return real((tw.shape[0], 1))


@dataclass(frozen=True)
class ScalarMul(Op):
    """A scalar (shape () or all ones) times a tensor."""

    scalar: str
    x: str

    def operands(self) -> tuple[str, ...]:
        return (self.scalar, self.x)

    def infer(self, types: Types) -> TensorType:
        ts = _need_real(types, self.scalar, "scalar operand of *")
        if ts.size != 1:
            raise ShapeMismatch(f"scalar operand of * must have one element, not shape {ts.shape_str}")
        return _need_real(types, self.x, "operand of *")


@dataclass(frozen=True)
class Elementwise(Op):
    """``+``, ``-`` and ``<*>``: same shapes, or a one-element operand broadcast over the other."""

    kind: Literal["add", "sub", "mul"]
    a: str
    b: str

    def operands(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def infer(self, types: Types) -> TensorType:
        symbol = {"add": "+", "sub": "-", "mul": "<*>"}[self.kind]
        ta = _need_real(types, self.a, f"left operand of {symbol}")
        tb = _need_real(types, self.b, f"right operand of {symbol}")
        if ta.shape == tb.shape:
            return ta
        if self.kind != "mul" and tb.size == 1:
            return ta
        if self.kind != "mul" and ta.size == 1:
            return tb
        raise ShapeMismatch(
            f"operands of {symbol} must have equal shapes, not {ta.shape_str} and {tb.shape_str}"
        )


@dataclass(frozen=True)
class BiasAdd(Op):
    """``x <+> b`` / ``x <-> b``: b is a vector added along x's last dimension."""

    x: str
    bias: str
    subtract: bool = False

    def operands(self) -> tuple[str, ...]:
        return (self.x, self.bias)

    def infer(self, types: Types) -> TensorType:
        symbol = "<->" if self.subtract else "<+>"
        tx = _need_real(types, self.x, f"left operand of {symbol}")
        tb = _need_real(types, self.bias, f"right operand of {symbol}")
        if tx.rank == 0 or tb.size != tx.shape[-1]:
            raise ShapeMismatch(
                f"right operand of {symbol} must have {tx.shape[-1] if tx.rank else 1} elements "
                f"(the last dimension of {tx.shape_str}), not shape {tb.shape_str}"
            )
        return tx


@dataclass(frozen=True)
class Unary(Op):
    fn: UnaryFn
    x: str

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        return _need_real(types, self.x, f"operand of {self.fn}")


@dataclass(frozen=True)
class Transpose(Op):
    x: str

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        t = _need_real(types, self.x, "operand of ^T")
        if t.rank != 2:
            raise ShapeMismatch(f"operand of ^T must be a 2-D matrix, not {t.shape_str}")
        return real((t.shape[1], t.shape[0]))


@dataclass(frozen=True)
class Reshape(Op):
    """``reshape(x, (dims), (order))``: x's axes are first permuted by ``order`` (1-based,
    outermost first), then the elements are read row-major into the new shape."""

    x: str
    shape: tuple[int, ...]
    order: tuple[int, ...]

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        t = _need_real(types, self.x, "operand of reshape")
        if sorted(self.order) != list(range(1, t.rank + 1)):
            raise ShapeMismatch(f"order of reshape must be a permutation of 1..{t.rank}, not {self.order}")
        new = TensorType(self.shape, "real")
        if new.size != t.size:
            raise ShapeMismatch(
                f"reshape must keep the element count {t.size} of {t.shape_str}, "
                f"not {new.size} of {new.shape_str}"
            )
        return new


@dataclass(frozen=True)
class Index(Op):
    """``x[i]``: the slice of x's first dimension; i is an integer value (possibly computed)."""

    x: str
    index: str

    def operands(self) -> tuple[str, ...]:
        return (self.x, self.index)

    def infer(self, types: Types) -> TensorType:
        t = _need_real(types, self.x, "indexed value")
        _need_int(types, self.index, "index")
        if t.rank < 2:
            raise ShapeMismatch(f"indexed value must have at least 2 dimensions, not {t.shape_str}")
        return real(t.shape[1:])


@dataclass(frozen=True)
class Splice(Op):
    """``x[a:+n][b:+m]…``: a window of fixed sizes at (possibly computed) integer starts."""

    x: str
    starts: tuple[str, ...]
    sizes: tuple[int, ...]

    def operands(self) -> tuple[str, ...]:
        return (self.x, *self.starts)

    def infer(self, types: Types) -> TensorType:
        t = _need_real(types, self.x, "spliced value")
        for s in self.starts:
            _need_int(types, s, "start of a splice")
        if len(self.sizes) > t.rank:
            raise ShapeMismatch(
                f"a splice of {t.shape_str} must have at most {t.rank} ranges, not {len(self.sizes)}"
            )
        for dim, (size, extent) in enumerate(zip(self.sizes, t.shape, strict=False)):
            if not 0 < size <= extent:
                raise ShapeMismatch(f"splice size of dimension {dim + 1} must be in 1..{extent}, not {size}")
        return real(self.sizes + t.shape[len(self.sizes) :])


@dataclass(frozen=True)
class Conv2d(Op):
    """NHWC convolution; filter layout [groups, HF, WF, CIN/groups, COUT] as in SeeDot: each group
    has its own COUT filters, so the output has groups × COUT channels."""

    x: str
    filters: str
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    dilations: tuple[int, int]
    groups: int

    def operands(self) -> tuple[str, ...]:
        return (self.x, self.filters)

    def infer(self, types: Types) -> TensorType:
        tx = _need_real(types, self.x, "input of conv2d")
        tf = _need_real(types, self.filters, "filters of conv2d")
        if tx.rank != 4:
            raise ShapeMismatch(f"input of conv2d must be 4-D NHWC, not {tx.shape_str}")
        if tf.rank != 5:
            raise ShapeMismatch(f"filters of conv2d must be 5-D [G, HF, WF, CIN/G, COUT], not {tf.shape_str}")
        n, h, w, c = tx.shape
        g, hf, wf, cin_g, cout = tf.shape
        if g != self.groups:
            raise ShapeMismatch(f"first filter dimension must equal the groups {self.groups}, not {g}")
        if cin_g * g != c:
            raise ShapeMismatch(
                f"filter input channels × groups must equal the input's {c} channels, not {cin_g * g}"
            )
        if min(self.strides) < 1 or min(self.dilations) < 1 or min(self.pads) < 0:
            raise ShapeMismatch("strides and dilations of conv2d must be ≥ 1 and paddings ≥ 0")
        ho = (h + self.pads[0] + self.pads[1] - self.dilations[0] * (hf - 1) - 1) // self.strides[0] + 1
        wo = (w + self.pads[2] + self.pads[3] - self.dilations[1] * (wf - 1) - 1) // self.strides[1] + 1
        if ho < 1 or wo < 1:
            raise ShapeMismatch(f"conv2d output must be at least 1×1, not {ho}×{wo}")
        return real((n, ho, wo, g * cout))  # SeeDot: COUT filters per group


@dataclass(frozen=True)
class MaxPool(Op):
    x: str
    kernel: tuple[int, int]
    pads: tuple[int, int, int, int]
    strides: tuple[int, int]

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        tx = _need_real(types, self.x, "input of maxpool")
        if tx.rank != 4:
            raise ShapeMismatch(f"input of maxpool must be 4-D NHWC, not {tx.shape_str}")
        if min(self.kernel) < 1 or min(self.strides) < 1 or min(self.pads) < 0:
            raise ShapeMismatch("kernel and strides of maxpool must be ≥ 1 and paddings ≥ 0")
        kh, kw = self.kernel
        if max(self.pads[:2]) >= kh or max(self.pads[2:]) >= kw:
            # a window of padding alone would have no element to take the maximum of
            raise ShapeMismatch(
                f"paddings of maxpool must be smaller than its {kh}×{kw} kernel, not {self.pads}"
            )
        n, h, w, c = tx.shape
        ho = (h + self.pads[0] + self.pads[1] - self.kernel[0]) // self.strides[0] + 1
        wo = (w + self.pads[2] + self.pads[3] - self.kernel[1]) // self.strides[1] + 1
        if ho < 1 or wo < 1:
            raise ShapeMismatch(f"maxpool output must be at least 1×1, not {ho}×{wo}")
        return real((n, ho, wo, c))


@dataclass(frozen=True)
class Argmax(Op):
    """Index of the largest element of the flattened tensor (the first on ties)."""

    x: str

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        _need_real(types, self.x, "operand of argmax")
        return INT


@dataclass(frozen=True)
class Sgn(Op):
    """The binary class of a one-element score: 1 when it is > 0, else 0."""

    x: str

    def operands(self) -> tuple[str, ...]:
        return (self.x,)

    def infer(self, types: Types) -> TensorType:
        t = _need_real(types, self.x, "operand of sgn")
        if t.size != 1:
            raise ShapeMismatch(f"operand of sgn must have one element, not shape {t.shape_str}")
        return INT


@dataclass(frozen=True)
class IntBinary(Op):
    op: IntBinOp
    a: str
    b: str

    def operands(self) -> tuple[str, ...]:
        return (self.a, self.b)

    def infer(self, types: Types) -> TensorType:
        _need_int(types, self.a, f"left operand of integer {self.op}")
        _need_int(types, self.b, f"right operand of integer {self.op}")
        return INT


@dataclass(frozen=True)
class Cond(Op):
    """``x >= threshold ? a : b`` with a one-element real x; a and b of one type."""

    x: str
    threshold: float
    a: str
    b: str

    def operands(self) -> tuple[str, ...]:
        return (self.x, self.a, self.b)

    def infer(self, types: Types) -> TensorType:
        tx = _need_real(types, self.x, "condition of ?:")
        if tx.size != 1:
            raise ShapeMismatch(f"condition of ?: must have one element, not shape {tx.shape_str}")
        ta, tb = types[self.a], types[self.b]
        if ta != tb:
            raise ShapeMismatch(f"branches of ?: must have one type, not {ta} and {tb}")
        return ta


@dataclass(frozen=True)
class Sum(Op):
    """``$(i = [start:stop]) body``: the sum of the body over the index (stop excluded)."""

    index: str
    start: int
    stop: int
    body: Block

    def operands(self) -> tuple[str, ...]:
        return self.body.free_values(bound={self.index})

    def infer(self, types: Types) -> TensorType:
        if self.stop <= self.start:
            raise ShapeMismatch(f"range of $ must be non-empty, not [{self.start}:{self.stop}]")
        t = types[self.body.result]
        if t.is_int:
            raise ShapeMismatch("body of $ must be a real tensor, not an integer")
        return t


@dataclass(frozen=True)
class Loop(Op):
    """``loop(i = [start:stop], H) body``: body is evaluated with ``carried`` bound to the value of
    the previous iteration (``init`` at the first); its result is the next value."""

    index: str
    start: int
    stop: int
    init: str
    carried: str
    body: Block

    def operands(self) -> tuple[str, ...]:
        inner = self.body.free_values(bound={self.index, self.carried})
        return (self.init, *[v for v in inner if v != self.init])

    def infer(self, types: Types) -> TensorType:
        if self.stop <= self.start:
            raise ShapeMismatch(f"range of loop must be non-empty, not [{self.start}:{self.stop}]")
        t_init, t_body = types[self.init], types[self.body.result]
        if t_init != t_body:
            raise ShapeMismatch(f"body of loop must give the carried value's type {t_init}, not {t_body}")
        return t_init
