"""ONNX node → IR ops, one converter per operator, all in the ops the SeeDot language has
(convolution, pooling, batch norm, Pad and ReduceMean are in ``onnx_window``).

Operators with no op of their own are written in existing ones, so that every backend (C, HLS,
the accelerator) and the SeeDot export take them without a new kernel:

- GlobalAveragePool / ReduceMean: a product by a constant row (or column) of 1/K;
- AveragePool: a depthwise convolution by constant taps 1/(kh·kw) (border
  windows that exclude padding are rescaled by a constant map);
- Concat: a sum of products by constant 0/1 placement matrices;
- Pad (zeros, spatial): a 1×1 depthwise convolution by 1 with that padding;
- Clip / HardSigmoid / LeakyRelu: sums of ReLUs and scalar products;
- BatchNormalization not folded into a Conv/Gemm: a product by a constant and a bias.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.errors import ModelError
from hlsfix.frontend.onnx_fold import reshape_target, unsqueeze_shape
from hlsfix.frontend.onnx_importer import NCHW_TO_NHWC, Importer, Val, c_identifier
from hlsfix.ir import ops
from hlsfix.ir.types import INT

if TYPE_CHECKING:
    import onnx

Attrs = dict[str, object]


def node_error(node: onnx.NodeProto, what: str) -> ModelError:
    return ModelError(f"node {node.name or node.output[0]!r} ({node.op_type}): {what}")


def set_value(imp: Importer, node: onnx.NodeProto, ir: str, nhwc: bool = False) -> None:
    imp.vals[node.output[0]] = Val(ir, nhwc)


def int_list(attrs: Attrs, key: str, default: list[int]) -> list[int]:
    return [int(v) for v in attrs.get(key, default)]  # type: ignore[union-attr]


# -- elementwise ---------------------------------------------------------------------------------


def scalar_param(imp: Importer, hint: str, value: float) -> str:
    return imp.param(hint, np.array([value]))


def _const_operand(imp: Importer, x_name: str, c: np.ndarray, node: onnx.NodeProto) -> tuple[str, np.ndarray]:
    """x's IR value and the constant broadcast to x's shape in x's IR layout."""
    shape = imp.onnx_shape(x_name)
    c = np.asarray(c, dtype=np.float64)
    if np.broadcast_shapes(shape, c.shape) != shape:
        raise node_error(node, f"a constant must broadcast to the tensor's shape {shape}, not {c.shape}")
    full = np.broadcast_to(c, shape)
    v = imp.val(x_name)
    if v.nhwc:
        full = np.transpose(full, NCHW_TO_NHWC)
    return v.ir, np.ascontiguousarray(full)


def _binary(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    a_name, b_name = node.input[0], node.input[1]
    ca, cb = imp.const(a_name), imp.const(b_name)
    if ca is None and cb is None:
        _binary_tensors(imp, node)
        return
    x_name, c, const_left = (a_name, cb, False) if cb is not None else (b_name, ca, True)
    assert c is not None
    kind = node.op_type
    if kind == "Div":
        if const_left:
            raise node_error(node, "divisor must be a constant, not a computed tensor")
        kind, c = "Mul", 1.0 / np.asarray(c, dtype=np.float64)
    out = _with_const(imp, node, x_name, c, kind, const_left, node.output[0])
    set_value(imp, node, out, imp.val(x_name).nhwc)


def _with_const(
    imp: Importer, node: onnx.NodeProto, x_name: str, c: np.ndarray, kind: str, const_left: bool, hint: str
) -> str:
    """x (op) c for a constant c: a scalar, a bias along the last IR axis, or a full tensor."""
    x, full = _const_operand(imp, x_name, c, node)
    last = full.reshape(-1, full.shape[-1]) if full.ndim else full.reshape(1, 1)
    uniform = full.size == 0 or bool(np.all(full == full.flat[0]))
    along_last = bool(np.all(last == last[:1]))
    sub = kind == "Sub"
    if kind == "Mul":
        if uniform:
            return imp.add(ops.ScalarMul(scalar_param(imp, hint + "_k", float(full.flat[0])), x), hint)
        return imp.add(ops.Elementwise("mul", x, imp.param(hint + "_k", full)), hint)
    if uniform:
        s = scalar_param(imp, hint + "_c", float(full.flat[0]))
        return imp.add(ops.Elementwise("sub" if sub else "add", *((s, x) if const_left else (x, s))), hint)
    if along_last:
        bias = imp.param(hint + "_b", last[0])
        if sub and const_left:  # c - x = (-x) + c
            return imp.add(ops.BiasAdd(imp.add(ops.Unary("neg", x), hint + "_neg"), bias), hint)
        return imp.add(ops.BiasAdd(x, bias, subtract=sub), hint)
    p = imp.param(hint + "_c", full)
    return imp.add(ops.Elementwise("sub" if sub else "add", *((p, x) if const_left else (x, p))), hint)


def _binary_tensors(imp: Importer, node: onnx.NodeProto) -> None:
    a_name, b_name = node.input[0], node.input[1]
    if node.op_type == "Div":
        raise node_error(node, "divisor must be a constant, not a computed tensor")
    sa, sb = imp.onnx_shape(a_name), imp.onnx_shape(b_name)
    va, vb = imp.val(a_name), imp.val(b_name)
    kind = {"Add": "add", "Sub": "sub", "Mul": "mul"}[node.op_type]
    if sa == sb:
        if va.nhwc == vb.nhwc:
            a, b, nhwc = va.ir, vb.ir, va.nhwc
        else:
            a, b, nhwc = imp.nhwc(a_name, node.op_type), imp.nhwc(b_name, node.op_type), True
        set_value(imp, node, imp.add(ops.Elementwise(kind, a, b), node.output[0]), nhwc)  # type: ignore[arg-type]
        return
    if math.prod(sb) == 1 or math.prod(sa) == 1:
        big, small = (va, vb) if math.prod(sb) == 1 else (vb, va)
        if np.broadcast_shapes(sa, sb) != imp.onnx_shape(a_name if big is va else b_name):
            raise node_error(node, f"operands must broadcast to one of their shapes, not {sa} and {sb}")
        if kind == "mul":
            out = imp.add(ops.ScalarMul(small.ir, big.ir), node.output[0])
        else:
            out = imp.add(ops.Elementwise(kind, va.ir, vb.ir), node.output[0])  # type: ignore[arg-type]
        set_value(imp, node, out, big.nhwc)
        return
    raise node_error(node, f"computed operands must have equal shapes (or one element), not {sa} and {sb}")


def _unary(fn: ops.UnaryFn) -> Callable[[Importer, onnx.NodeProto, Attrs], None]:
    def run(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
        v = imp.val(node.input[0])
        set_value(imp, node, imp.add(ops.Unary(fn, v.ir), node.output[0]), v.nhwc)

    return run


def clip_ir(imp: Importer, x: str, lo: float | None, hi: float | None, hint: str) -> str:
    """min(max(x, lo), hi) in ReLUs: lo + relu(x − lo) − relu(x − hi) (a missing bound drops out)."""
    if lo == 0.0 and hi is None:
        return imp.add(ops.Unary("relu", x), hint)
    if lo == 0.0 and hi == 6.0:
        return imp.add(ops.Unary("relu6", x), hint)
    if lo is None and hi is None:
        return x
    if lo is None:  # min(x, hi) = x − relu(x − hi)
        over = imp.add(ops.Unary("relu", shifted(imp, x, hi, hint)), hint + "_hi")  # type: ignore[arg-type]
        return imp.add(ops.Elementwise("sub", x, over), hint)
    base = imp.add(ops.Unary("relu", shifted(imp, x, lo, hint)), hint + "_lo")
    if hi is not None:
        over = imp.add(ops.Unary("relu", shifted(imp, x, hi, hint)), hint + "_hi")
        base = imp.add(ops.Elementwise("sub", base, over), hint + "_span")
    if lo == 0.0:
        return base
    return imp.add(ops.Elementwise("add", base, scalar_param(imp, hint + "_lo", lo)), hint)


def shifted(imp: Importer, x: str, c: float, hint: str) -> str:
    if c == 0.0:
        return x
    return imp.add(ops.Elementwise("sub", x, scalar_param(imp, hint + "_c", c)), hint + "_shift")


def _clip(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    def bound(i: int, key: str) -> float | None:
        if len(node.input) > i and node.input[i]:
            c = imp.const(node.input[i])
            if c is None:
                raise node_error(node, "bounds must be constants, not computed tensors")
            return float(np.asarray(c).reshape(-1)[0])
        return float(attrs[key]) if key in attrs else None  # type: ignore[arg-type]

    v = imp.val(node.input[0])
    lo, hi = bound(1, "min"), bound(2, "max")
    if lo is not None and hi is not None and lo > hi:  # ONNX: every value becomes max
        lo = hi
    set_value(imp, node, clip_ir(imp, v.ir, lo, hi, node.output[0]), v.nhwc)


def _leaky_relu(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    alpha = float(attrs.get("alpha", 0.01))  # type: ignore[arg-type]
    v, hint = imp.val(node.input[0]), node.output[0]
    pos = imp.add(ops.Unary("relu", v.ir), hint + "_pos")
    neg = imp.add(ops.Unary("relu", imp.add(ops.Unary("neg", v.ir), hint + "_n")), hint + "_negpart")
    scaled = imp.add(ops.ScalarMul(scalar_param(imp, hint + "_alpha", -alpha), neg), hint + "_scaled")
    set_value(imp, node, imp.add(ops.Elementwise("add", pos, scaled), hint), v.nhwc)


def _hard_sigmoid(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))  # type: ignore[arg-type]
    v, hint = imp.val(node.input[0]), node.output[0]
    y = imp.add(ops.ScalarMul(scalar_param(imp, hint + "_alpha", alpha), v.ir), hint + "_ax")
    y = imp.add(ops.Elementwise("add", y, scalar_param(imp, hint + "_beta", beta)), hint + "_axb")
    set_value(imp, node, clip_ir(imp, y, 0.0, 1.0, hint), v.nhwc)


def _softmax(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Softmax/LogSoftmax keep the order of each row, so on the way to the output they stand for
    the class decision of every row: the argmax along ``axis`` (opsets before 13: of the rows of
    the input flattened from ``axis`` on). Their values (a division by a computed sum) are not
    computed — a power-of-two fixed-point program has no divider."""
    shape = imp.onnx_shape(node.input[0])
    default = -1 if imp.opset >= 13 else 1
    axis = int(attrs.get("axis", default)) % len(shape)  # type: ignore[arg-type]
    imp.monotone_of[node.output[0]] = (node.input[0], node.op_type.lower())
    if math.prod(shape) != shape[axis]:
        imp.class_axis[node.input[0]] = (axis, imp.opset < 13)


def argmax_rows(
    imp: Importer, x: str, hint: str, last: bool = False, tables: np.ndarray | None = None
) -> str:
    """The argmax of every row of the 2-D (R, n) IR value x, as a real (R, 1) column of indices
    (or the IR integer when R = 1 and not ``last``): a sum over the rows r (a structured ``$``,
    not unrolled) of e_r · t[argmax(x[r])], where ``Argmax`` takes the first maximum (of the
    reversed row when ``last``), t is a constant column of the indices 0 … n−1 (reversed:
    n−1 … 0) that turns the integer into a real value, and e_r the r-th unit column. With
    ``tables`` (R, n), row r's value is tables[r, argmax(x[r])] instead."""
    rows, n = imp.b.types[x].shape
    if last:
        x = imp.add(ops.MatMul(x, imp.param(hint + "_rev", np.eye(n)[::-1])), hint + "_rev")
    elif rows == 1 and tables is None:
        return imp.add(ops.Argmax(x), hint)
    order = np.arange(n)[::-1] if last else np.arange(n)
    table = imp.param(hint + "_idx", order.reshape(n, 1)) if tables is None else ""
    if rows == 1 and tables is None:
        k = imp.add(ops.Argmax(x), hint + "_k")
        return imp.reshape(imp.add(ops.Index(table, k), hint + "_v"), (1, 1), hint)
    units = imp.param(hint + "_unit", np.eye(rows).reshape(rows, rows, 1))
    r = imp.b.fresh(c_identifier(hint) + "_r")
    imp.b.declare(r, INT)
    imp.b.open_block()
    k = imp.add(ops.Argmax(imp.add(ops.Index(x, r), hint + "_row")), hint + "_k")
    if tables is not None:
        table = imp.add(ops.Index(imp.param(hint + "_tables", tables.reshape(rows, n, 1)), r), hint + "_t")
    value = imp.reshape(imp.add(ops.Index(table, k), hint + "_v"), (1, 1), hint + "_v")
    term = imp.add(ops.MatMul(imp.add(ops.Index(units, r), hint + "_e"), value), hint + "_term")
    body = imp.b.close_block(term)
    return imp.add(ops.Sum(r, 0, rows, body), hint)


def argmax_axis(
    imp: Importer, name: str, axis: int, keepdims: bool, last: bool, hint: str, flatten: bool = False
) -> str:
    """ONNX ArgMax of tensor ``name`` along ``axis`` (``flatten``: of the rows of the tensor
    flattened from ``axis`` on, as Softmax before opset 13), in ONNX's output shape."""
    shape = imp.onnx_shape(name)
    x = imp.plain(name)
    if flatten:
        rows = imp.reshape(x, (math.prod(shape[:axis]), math.prod(shape[axis:])), hint + "_rows")
        out_shape = tuple(shape[:axis]) + ((1,) if keepdims else ())
    else:
        others = tuple(a for a in range(len(shape)) if a != axis)
        moved = imp.permute(x, (*others, axis), hint + "_last")
        rows = imp.reshape(moved, (math.prod(shape[a] for a in others), shape[axis]), hint + "_rows")
        out_shape = tuple(1 if a == axis else d for a, d in enumerate(shape) if keepdims or a != axis)
    result = argmax_rows(imp, rows, hint, last)
    if imp.b.types[result].is_int:
        return result
    return imp.reshape(result, out_shape or (1,), hint + "_shape")


def _argmax(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    name = imp.scores_of(node.input[0])[0]
    shape = imp.onnx_shape(name)
    axis = int(attrs.get("axis", 0)) % len(shape)  # type: ignore[arg-type]
    last = bool(attrs.get("select_last_index", 0))
    keep = bool(attrs.get("keepdims", 1))
    if name in imp.class_axis and imp.class_axis[name] != (axis, False) and shape[axis] > 1:
        raise node_error(
            node, f"axis must be the axis of the Softmax it reads ({imp.class_axis[name][0]}), not {axis}"
        )
    if math.prod(shape) == shape[axis] and not last:  # one row of scores: the class decision
        set_value(imp, node, imp.add(ops.Argmax(imp.plain(name)), "class"))
        return
    set_value(imp, node, argmax_axis(imp, name, axis, keep, last, node.output[0]))


# -- dense ----------------------------------------------------------------------------------------


def _matrix(
    imp: Importer, name: str, node: onnx.NodeProto, transpose: bool, hint: str, scale: float = 1.0
) -> str:
    c = imp.const(name)
    if c is not None:
        c = np.asarray(c, dtype=np.float64) * scale
        if c.ndim != 2:
            raise node_error(node, f"operands must be 2-D matrices, not shape {c.shape}")
        return imp.param(hint, c.T if transpose else c)
    x = imp.plain(name)
    if imp.b.types[x].rank != 2:
        raise node_error(node, f"operands must be 2-D matrices, not shape {imp.b.types[x].shape}")
    return imp.add(ops.Transpose(x), hint + "_T") if transpose else x


def _gemm(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    hint = node.output[0]
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))  # type: ignore[arg-type]
    a = _matrix(imp, node.input[0], node, bool(attrs.get("transA", 0)), hint + "_A")
    b_const = imp.const(node.input[1]) is not None
    trans_b = bool(attrs.get("transB", 0))
    b = _matrix(imp, node.input[1], node, trans_b, hint + "_W", alpha if b_const else 1.0)
    out = imp.add(ops.MatMul(a, b), hint + "_mm")
    if alpha != 1.0 and not b_const:
        out = imp.add(ops.ScalarMul(scalar_param(imp, hint + "_alpha", alpha), out), hint + "_alpha")
    if len(node.input) > 2 and node.input[2]:
        c = imp.const(node.input[2])
        if c is None:
            raise node_error(node, "C must be a constant, not a computed tensor")
        imp.vals[hint + "__mm"] = Val(out)
        out = _with_const(imp, node, hint + "__mm", np.asarray(c, np.float64) * beta, "Add", False, hint)
    set_value(imp, node, out)


def _matmul(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    hint = node.output[0]
    shape = imp.onnx_shape(node.input[0])
    b_const = imp.const(node.input[1])
    if imp.const(node.input[0]) is None and b_const is not None and (len(shape) != 2 or b_const.ndim != 2):
        set_value(imp, node, _matmul_const_b(imp, node, shape, np.asarray(b_const, np.float64), hint))
        return
    a = _matrix(imp, node.input[0], node, False, hint + "_A")
    b = _matrix(imp, node.input[1], node, False, hint + "_B")
    set_value(imp, node, imp.add(ops.MatMul(a, b), hint))


def _matmul_const_b(
    imp: Importer, node: onnx.NodeProto, a_shape: tuple[int, ...], b: np.ndarray, hint: str
) -> str:
    """numpy's matmul of a computed A of any rank by a constant B of any rank, in 2-D products:
    a 1-D operand gains (and then loses) a unit axis; one matrix B multiplies every row of A
    (a Linear layer along a sequence); a batch of matrices B (broadcast against A's batch axes)
    multiplies A's batch rows by all of them at once, keeps each batch's diagonal block (a 0/1
    mask) and sums the blocks' columns into place."""
    a_sh = (1, *a_shape) if len(a_shape) == 1 else a_shape
    b_vector = b.ndim == 1
    b = b.reshape(-1, 1) if b_vector else b
    m, k, n = a_sh[-2], a_sh[-1], b.shape[-1]
    if b.shape[-2] != k:
        raise node_error(node, f"inner dimensions must agree, not {a_shape} and {b.shape}")
    try:
        batch = tuple(np.broadcast_shapes(a_sh[:-2], b.shape[:-2]))
    except ValueError:
        raise node_error(node, f"batch axes must broadcast, not {a_shape} and {b.shape}") from None
    x = imp.plain(node.input[0])
    if math.prod(b.shape[:-2]) == 1:  # one matrix for every row of A
        rows = imp.reshape(x, (math.prod(a_sh[:-1]), k), hint + "_rows")
        y = imp.add(ops.MatMul(rows, imp.param(hint + "_B", b.reshape(k, n))), hint + "_mm")
    else:
        nb = math.prod(batch)
        a_batch = (1,) * (len(batch) - len(a_sh[:-2])) + tuple(a_sh[:-2])
        xa = imp.reshape(x, (math.prod(a_batch), m * k), hint + "_batches")
        if a_batch != batch:  # A's batches repeated along the broadcast axes: a 0/1 selection
            idx = np.broadcast_to(np.arange(math.prod(a_batch)).reshape(a_batch), batch).reshape(-1)
            pick = np.zeros((nb, math.prod(a_batch)))
            pick[np.arange(nb), idx] = 1.0
            xa = imp.add(ops.MatMul(imp.param(hint + "_bcast", pick), xa), hint + "_bcast")
        rows = imp.reshape(xa, (nb * m, k), hint + "_rows")
        stacked = np.broadcast_to(b, (*batch, k, n)).reshape(nb, k, n).transpose(1, 0, 2).reshape(k, nb * n)
        every = imp.add(ops.MatMul(rows, imp.param(hint + "_B", stacked)), hint + "_all")
        mask = np.kron(np.eye(nb), np.ones((m, n)))
        own = imp.add(ops.Elementwise("mul", every, imp.param(hint + "_diag", mask)), hint + "_own")
        y = imp.add(ops.MatMul(own, imp.param(hint + "_sum", np.tile(np.eye(n), (nb, 1)))), hint + "_mm")
    out = [*batch, m, n]
    if len(a_shape) == 1:
        out.pop(-2)
    if (
        len(b.shape) == 2
        and b.shape[1] == 1
        and n == 1
        and len(a_shape) >= 1
        and node_b_was_vector(imp, node)
    ):
        out.pop(-1)
    return imp.reshape(y, tuple(out) or (1,), hint)


def node_b_was_vector(imp: Importer, node: onnx.NodeProto) -> bool:
    c = imp.const(node.input[1])
    return c is not None and np.ndim(c) == 1


# -- shapes ---------------------------------------------------------------------------------------


def _reshape_to(imp: Importer, node: onnx.NodeProto, shape: tuple[int, ...]) -> None:
    x = imp.plain(node.input[0])
    set_value(imp, node, imp.reshape(x, tuple(int(d) for d in shape), node.output[0]))


def _reshape(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    spec = imp.const(node.input[1])
    if spec is None:
        raise node_error(node, "target shape must be known at import, not computed from data")
    shape = imp.onnx_shape(node.input[0])
    _reshape_to(imp, node, reshape_target(shape, spec, bool(attrs.get("allowzero", 0))))


def _flatten(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    shape = imp.onnx_shape(node.input[0])
    axis = int(attrs.get("axis", 1)) % (len(shape) + 1)  # type: ignore[arg-type]
    _reshape_to(imp, node, (math.prod(shape[:axis]), math.prod(shape[axis:])))


def _squeeze(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    shape = imp.onnx_shape(node.input[0])
    c = imp.const(node.input[1]) if len(node.input) > 1 and node.input[1] else attrs.get("axes")
    axes = [int(a) % len(shape) for a in np.asarray(c).reshape(-1)] if c is not None else None
    keep = [d for i, d in enumerate(shape) if (d != 1 if axes is None else i not in axes)]
    _reshape_to(imp, node, tuple(keep))


def _unsqueeze(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    c = imp.const(node.input[1]) if len(node.input) > 1 and node.input[1] else attrs.get("axes")
    axes = [int(a) for a in np.asarray(c).reshape(-1)]
    _reshape_to(imp, node, unsqueeze_shape(imp.onnx_shape(node.input[0]), axes))


def _transpose(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    v = imp.val(node.input[0])
    rank = imp.b.types[v.ir].rank
    perm = tuple(int_list(attrs, "perm", list(range(rank - 1, -1, -1))))
    layout = NCHW_TO_NHWC if v.nhwc else tuple(range(rank))  # IR axis i holds ONNX axis layout[i]
    ir_perm = tuple(layout.index(p) for p in perm)
    if rank == 2 and ir_perm == (1, 0):
        set_value(imp, node, imp.add(ops.Transpose(v.ir), node.output[0]))
    else:
        set_value(imp, node, imp.permute(v.ir, ir_perm, node.output[0]))


def _concat(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Concatenation as Σ_i x_i · E_i, with x_i viewed as rows × C_i (the concatenated axis last,
    in the layout the inputs are held in) and E_i the 0/1 matrix placing its C_i columns. With one
    row (vectors, flattened features: where C_i is large) the placement is a sparse E_iᵀ |*| x_iᵀ,
    so that it costs C_i stored ones, not C_i × total dense entries (25,600 for a 160-wide join)."""
    names = [i for i in node.input if i]
    shapes = [imp.onnx_shape(n) for n in names]
    rank = len(shapes[0])
    axis = int(attrs["axis"]) % rank  # type: ignore[arg-type]
    computed = [n for n in names if imp.const(n) is None]
    nhwc = rank == 4 and any(imp.val(n).nhwc for n in computed)
    layout = NCHW_TO_NHWC if nhwc else tuple(range(rank))  # IR axis i holds ONNX axis layout[i]
    ir_axis = layout.index(axis)
    last = tuple(a for a in range(rank) if a != ir_axis) + (ir_axis,)
    widths = [s[axis] for s in shapes]
    total = sum(widths)
    hint = node.output[0]
    acc: str | None = None
    const_part: np.ndarray | None = None
    start = 0
    for name, width in zip(names, widths, strict=True):
        place = np.zeros((width, total))
        place[np.arange(width), start + np.arange(width)] = 1.0
        start += width
        c = imp.const(name)
        if c is not None:
            rows = np.transpose(np.asarray(c, np.float64), [layout[a] for a in last]).reshape(-1, width)
            const_part = rows @ place if const_part is None else const_part + rows @ place
            continue
        x = imp.nhwc(name, "Concat") if nhwc else imp.plain(name)
        x = imp.permute(x, last, hint + "_last")
        rows = math.prod(imp.b.types[x].shape[:-1])
        if rows == 1:  # a column (total × 1): the sparse placement of a column (width × 1)
            column = imp.reshape(x, (width, 1), hint + "_col")
            placed = imp.param(hint + "_place", place.T, sparse=True)
            term = imp.add(ops.SparseMatMul(placed, column), hint + "_part")
        else:
            x = imp.reshape(x, (rows, width), hint + "_rows")
            term = imp.add(ops.MatMul(x, imp.param(hint + "_place", place)), hint + "_part")
        acc = term if acc is None else imp.add(ops.Elementwise("add", acc, term), hint + "_sum")
    if acc is None:  # pragma: no cover - an all-constant Concat is folded before conversion
        raise node_error(node, "at least one input must be computed")
    if const_part is not None and np.any(const_part):
        const_part = const_part.reshape(imp.b.types[acc].shape)  # one row: held as a column
        acc = imp.add(ops.Elementwise("add", acc, imp.param(hint + "_const", const_part)), hint + "_c")
    out_onnx = (*shapes[0][:axis], total, *shapes[0][axis + 1 :])
    out_ir = tuple(out_onnx[layout[a]] for a in range(rank))
    acc = imp.reshape(acc, tuple(out_ir[a] for a in last), hint + "_grid")
    back = tuple(last.index(a) for a in range(rank))
    set_value(imp, node, imp.permute(acc, back, hint), nhwc)


def identity(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Identity, a float Cast, and Dropout in inference — or in training with ratio 0 — whose mask
    output (all true then) is a constant."""
    if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
        training = imp.const(node.input[2])
        given = imp.const(node.input[1]) if node.input[1] else None
        if training is None or (node.input[1] and given is None):
            raise node_error(node, "training_mode and ratio must be constants, not computed tensors")
        ratio = (
            float(np.asarray(given).reshape(-1)[0]) if given is not None else float(attrs.get("ratio", 0.5))
        )  # type: ignore[arg-type]
        if bool(np.asarray(training).reshape(-1)[0]) and ratio != 0.0:
            raise node_error(
                node,
                f"training_mode must be false or the ratio 0 (no random drops), not true with ratio {ratio}",
            )
    if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
        imp.consts[node.output[1]] = np.ones(imp.onnx_shape(node.input[0]), dtype=bool)
    elif len(node.output) > 1 and any(node.output[1:]):
        raise node_error(node, "only the first output is supported")
    if node.input[0] in imp.monotone_of:
        imp.monotone_of[node.output[0]] = (node.input[0], "identity")
    else:
        imp.vals[node.output[0]] = imp.val(node.input[0])


def _cast(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    from onnx import TensorProto

    if int(attrs["to"]) not in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16):  # type: ignore[arg-type]
        raise node_error(node, "a computed tensor may only be cast to a float type")
    identity(imp, node, attrs)


def _linear_classifier(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """ai.onnx.ml LinearClassifier (scikit-learn's linear models): scores = x · Wᵀ + b, then a
    monotone post-transform; the class is the argmax when the labels are 0 … K−1."""
    labels = list(attrs.get("classlabels_ints", []))  # type: ignore[call-overload]
    coef = np.asarray(attrs["coefficients"], np.float64)
    intercepts = np.asarray(attrs.get("intercepts", np.zeros(len(labels))), np.float64)
    k = len(labels)
    if k < 2 or labels != list(range(k)) or coef.size % k or len(intercepts) != k:
        raise node_error(
            node, f"classes must be the integers 0 … K−1 with one row of coefficients each, not {labels}"
        )
    post = str(attrs.get("post_transform", "NONE")).lower()
    if post not in ("none", "softmax", "logistic", "softmax_zero"):
        raise node_error(node, f"post_transform must be NONE, SOFTMAX or LOGISTIC, not {post.upper()}")
    x = imp.plain(node.input[0])
    if imp.b.types[x].rank != 2:
        raise node_error(node, f"input must be (1, features), not {imp.b.types[x].shape}")
    hint = node.output[1] if len(node.output) > 1 else node.output[0]
    w = imp.param(hint + "_W", coef.reshape(k, -1).T)
    scores = imp.add(
        ops.BiasAdd(imp.add(ops.MatMul(x, w), hint + "_mm"), imp.param(hint + "_b", intercepts)), hint
    )
    raw = hint + "__raw"
    imp.vals[raw] = Val(scores)
    if len(node.output) > 1 and node.output[1]:
        imp.monotone_of[node.output[1]] = (raw, post)
    imp.monotone_of[node.output[0]] = (raw, "argmax")  # the label: the class of the scores


def _normalizer(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    norm = str(attrs.get("norm", "MAX")).lower()
    if node.input[0] not in imp.monotone_of:
        raise node_error(node, "input must be a classifier's scores on their way to the output")
    imp.monotone_of[node.output[0]] = (node.input[0], norm)


CONVERTERS: dict[str, Callable[[Importer, onnx.NodeProto, Attrs], None]] = {
    "Add": _binary, "Sub": _binary, "Mul": _binary, "Div": _binary,
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"), "Exp": _unary("exp"),
    "Neg": _unary("neg"), "Clip": _clip, "LeakyRelu": _leaky_relu, "HardSigmoid": _hard_sigmoid,
    "Softmax": _softmax, "LogSoftmax": _softmax, "ArgMax": _argmax, "Gemm": _gemm, "MatMul": _matmul,
    "Flatten": _flatten, "Reshape": _reshape, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze,
    "Transpose": _transpose, "Concat": _concat, "Identity": identity, "Dropout": identity, "Cast": _cast,
    "LinearClassifier": _linear_classifier, "Normalizer": _normalizer,
}  # fmt: skip
