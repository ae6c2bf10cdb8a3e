"""ONNX node → IR ops, one converter per operator, all in the ops the SeeDot language has.

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
from hlsfix.frontend.onnx import NCHW_TO_NHWC, Importer, Val
from hlsfix.frontend.onnx_fold import batchnorm_scale_shift, reshape_target, unsqueeze_shape
from hlsfix.ir import ops

if TYPE_CHECKING:
    import onnx

Attrs = dict[str, object]


def _fail(node: onnx.NodeProto, what: str) -> ModelError:
    return ModelError(f"node {node.name or node.output[0]!r} ({node.op_type}): {what}")


def _set(imp: Importer, node: onnx.NodeProto, ir: str, nhwc: bool = False) -> None:
    imp.vals[node.output[0]] = Val(ir, nhwc)


def _ints(attrs: Attrs, key: str, default: list[int]) -> list[int]:
    return [int(v) for v in attrs.get(key, default)]  # type: ignore[union-attr]


# -- elementwise ---------------------------------------------------------------------------------


def _scalar_param(imp: Importer, hint: str, value: float) -> str:
    return imp.param(hint, np.array([value]))


def _const_operand(imp: Importer, x_name: str, c: np.ndarray, node: onnx.NodeProto) -> tuple[str, np.ndarray]:
    """x's IR value and the constant broadcast to x's shape in x's IR layout."""
    shape = imp.onnx_shape(x_name)
    c = np.asarray(c, dtype=np.float64)
    if np.broadcast_shapes(shape, c.shape) != shape:
        raise _fail(node, f"a constant must broadcast to the tensor's shape {shape}, not widen it: {c.shape}")
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
            raise _fail(node, "divisor must be a constant, not a computed tensor")
        kind, c = "Mul", 1.0 / np.asarray(c, dtype=np.float64)
    out = _with_const(imp, node, x_name, c, kind, const_left, node.output[0])
    _set(imp, node, out, imp.val(x_name).nhwc)


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
            return imp.add(ops.ScalarMul(_scalar_param(imp, hint + "_k", float(full.flat[0])), x), hint)
        return imp.add(ops.Elementwise("mul", x, imp.param(hint + "_k", full)), hint)
    if uniform:
        s = _scalar_param(imp, hint + "_c", float(full.flat[0]))
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
        raise _fail(node, "divisor must be a constant, not a computed tensor")
    sa, sb = imp.onnx_shape(a_name), imp.onnx_shape(b_name)
    va, vb = imp.val(a_name), imp.val(b_name)
    kind = {"Add": "add", "Sub": "sub", "Mul": "mul"}[node.op_type]
    if sa == sb:
        if va.nhwc == vb.nhwc:
            a, b, nhwc = va.ir, vb.ir, va.nhwc
        else:
            a, b, nhwc = imp.nhwc(a_name, node.op_type), imp.nhwc(b_name, node.op_type), True
        _set(imp, node, imp.add(ops.Elementwise(kind, a, b), node.output[0]), nhwc)  # type: ignore[arg-type]
        return
    if math.prod(sb) == 1 or math.prod(sa) == 1:
        big, small = (va, vb) if math.prod(sb) == 1 else (vb, va)
        if np.broadcast_shapes(sa, sb) != imp.onnx_shape(a_name if big is va else b_name):
            raise _fail(node, f"operands must broadcast to one of their shapes, not {sa} and {sb}")
        if kind == "mul":
            out = imp.add(ops.ScalarMul(small.ir, big.ir), node.output[0])
        else:
            out = imp.add(ops.Elementwise(kind, va.ir, vb.ir), node.output[0])  # type: ignore[arg-type]
        _set(imp, node, out, big.nhwc)
        return
    raise _fail(node, f"computed operands must have equal shapes (or one element), not {sa} and {sb}")


def _unary(fn: ops.UnaryFn) -> Callable[[Importer, onnx.NodeProto, Attrs], None]:
    def run(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
        v = imp.val(node.input[0])
        _set(imp, node, imp.add(ops.Unary(fn, v.ir), node.output[0]), v.nhwc)

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
        over = imp.add(ops.Unary("relu", _shifted(imp, x, hi, hint)), hint + "_hi")  # type: ignore[arg-type]
        return imp.add(ops.Elementwise("sub", x, over), hint)
    base = imp.add(ops.Unary("relu", _shifted(imp, x, lo, hint)), hint + "_lo")
    if hi is not None:
        over = imp.add(ops.Unary("relu", _shifted(imp, x, hi, hint)), hint + "_hi")
        base = imp.add(ops.Elementwise("sub", base, over), hint + "_span")
    if lo == 0.0:
        return base
    return imp.add(ops.Elementwise("add", base, _scalar_param(imp, hint + "_lo", lo)), hint)


def _shifted(imp: Importer, x: str, c: float, hint: str) -> str:
    if c == 0.0:
        return x
    return imp.add(ops.Elementwise("sub", x, _scalar_param(imp, hint + "_c", c)), hint + "_shift")


def _clip(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    def bound(i: int, key: str) -> float | None:
        if len(node.input) > i and node.input[i]:
            c = imp.const(node.input[i])
            if c is None:
                raise _fail(node, "bounds must be constants, not computed tensors")
            return float(np.asarray(c).reshape(-1)[0])
        return float(attrs[key]) if key in attrs else None  # type: ignore[arg-type]

    v = imp.val(node.input[0])
    lo, hi = bound(1, "min"), bound(2, "max")
    if lo is not None and hi is not None and lo > hi:  # ONNX: every value becomes max
        lo = hi
    _set(imp, node, clip_ir(imp, v.ir, lo, hi, node.output[0]), v.nhwc)


def _leaky_relu(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    alpha = float(attrs.get("alpha", 0.01))  # type: ignore[arg-type]
    v, hint = imp.val(node.input[0]), node.output[0]
    pos = imp.add(ops.Unary("relu", v.ir), hint + "_pos")
    neg = imp.add(ops.Unary("relu", imp.add(ops.Unary("neg", v.ir), hint + "_n")), hint + "_negpart")
    scaled = imp.add(ops.ScalarMul(_scalar_param(imp, hint + "_alpha", -alpha), neg), hint + "_scaled")
    _set(imp, node, imp.add(ops.Elementwise("add", pos, scaled), hint), v.nhwc)


def _hard_sigmoid(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))  # type: ignore[arg-type]
    v, hint = imp.val(node.input[0]), node.output[0]
    y = imp.add(ops.ScalarMul(_scalar_param(imp, hint + "_alpha", alpha), v.ir), hint + "_ax")
    y = imp.add(ops.Elementwise("add", y, _scalar_param(imp, hint + "_beta", beta)), hint + "_axb")
    _set(imp, node, clip_ir(imp, y, 0.0, 1.0, hint), v.nhwc)


def _softmax(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    shape = imp.onnx_shape(node.input[0])
    axis = int(attrs.get("axis", -1)) % len(shape)  # type: ignore[arg-type]
    if math.prod(shape) != shape[axis]:
        raise _fail(node, f"input must be one row of scores (the class decision), not shape {shape}")
    imp.monotone_of[node.output[0]] = (node.input[0], node.op_type.lower())


def _argmax(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    name = imp.scores_of(node.input[0])[0]
    shape = imp.onnx_shape(name)
    axis = int(attrs.get("axis", 0)) % len(shape)  # type: ignore[arg-type]
    if math.prod(shape) != shape[axis] or attrs.get("select_last_index", 0):
        raise _fail(node, f"input must be one row of scores (first maximum), not shape {shape}")
    _set(imp, node, imp.add(ops.Argmax(imp.plain(name)), "class"))


# -- dense ----------------------------------------------------------------------------------------


def _matrix(
    imp: Importer, name: str, node: onnx.NodeProto, transpose: bool, hint: str, scale: float = 1.0
) -> str:
    c = imp.const(name)
    if c is not None:
        c = np.asarray(c, dtype=np.float64) * scale
        if c.ndim != 2:
            raise _fail(node, f"operands must be 2-D matrices, not shape {c.shape}")
        return imp.param(hint, c.T if transpose else c)
    x = imp.plain(name)
    if imp.b.types[x].rank != 2:
        raise _fail(node, f"operands must be 2-D matrices, not shape {imp.b.types[x].shape}")
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
        out = imp.add(ops.ScalarMul(_scalar_param(imp, hint + "_alpha", alpha), out), hint + "_alpha")
    if len(node.input) > 2 and node.input[2]:
        c = imp.const(node.input[2])
        if c is None:
            raise _fail(node, "C must be a constant, not a computed tensor")
        imp.vals[hint + "__mm"] = Val(out)
        out = _with_const(imp, node, hint + "__mm", np.asarray(c, np.float64) * beta, "Add", False, hint)
    _set(imp, node, out)


def _matmul(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    hint = node.output[0]
    a = _matrix(imp, node.input[0], node, False, hint + "_A")
    b = _matrix(imp, node.input[1], node, False, hint + "_B")
    _set(imp, node, imp.add(ops.MatMul(a, b), hint))


# -- convolution and pooling ----------------------------------------------------------------------


def _window(attrs: Attrs, node: onnx.NodeProto, in_hw: tuple[int, int], kernel: tuple[int, int]):
    """(pads top/bottom/left/right, strides, dilations) with auto_pad resolved."""
    strides = tuple(_ints(attrs, "strides", [1, 1]))
    dil = tuple(_ints(attrs, "dilations", [1, 1]))
    if len(strides) != 2 or len(dil) != 2:
        raise _fail(node, "only 2-D windows (4-D NCHW tensors) are supported")
    auto = str(attrs.get("auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads4 = []
        for size, k, s, d in zip(in_hw, kernel, strides, dil, strict=True):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small = total // 2
            pads4.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
        pads = (pads4[0][0], pads4[0][1], pads4[1][0], pads4[1][1])
    elif auto == "VALID":
        pads = (0, 0, 0, 0)
    else:
        p = _ints(attrs, "pads", [0, 0, 0, 0])
        pads = (p[0], p[2], p[1], p[3])
    return pads, strides, dil


def _conv(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    w = imp.const(node.input[1])
    if w is None or w.ndim != 4:
        raise _fail(node, "weights must be a constant 4-D tensor (2-D convolution)")
    x = imp.nhwc(node.input[0], "Conv")
    _, h, wd, c = imp.b.types[x].shape
    m, cin_g, kh, kw = w.shape
    groups = int(attrs.get("group", 1))  # type: ignore[arg-type]
    pads, strides, dil = _window(attrs, node, (h, wd), (kh, kw))
    filters = np.asarray(w, np.float64).reshape(groups, m // groups, cin_g, kh, kw).transpose(0, 3, 4, 2, 1)
    hint = node.output[0]
    f = imp.param(hint + "_w", filters)
    out = imp.add(ops.Conv2d(x, f, strides, pads, dil, groups), hint + "_conv")  # type: ignore[arg-type]
    if len(node.input) > 2 and node.input[2]:
        bias = imp.const(node.input[2])
        if bias is None:
            raise _fail(node, "bias must be a constant, not a computed tensor")
        out = imp.add(ops.BiasAdd(out, imp.param(hint + "_b", bias)), hint)
    _set(imp, node, out, True)


def _depthwise(imp: Importer, x: str, taps: np.ndarray, pads, strides, hint: str, dil=(1, 1)) -> str:
    """A per-channel convolution of NHWC x by the same (kh, kw) taps on every channel."""
    c = imp.b.types[x].shape[3]
    filters = np.broadcast_to(taps[None, :, :, None, None], (c, *taps.shape, 1, 1))
    f = imp.param(hint + "_taps", filters)
    return imp.add(ops.Conv2d(x, f, tuple(strides), tuple(pads), tuple(dil), c), hint)  # type: ignore[arg-type]


def _pool_geometry(attrs: Attrs, node: onnx.NodeProto, h: int, w: int, dilated: bool = False):
    kernel = tuple(_ints(attrs, "kernel_shape", []))
    if len(kernel) != 2:
        raise _fail(node, f"kernel must be 2-D, not {list(kernel)}")
    if not dilated and _ints(attrs, "dilations", [1, 1]) != [1, 1]:
        raise _fail(node, "dilations of a max-pooling window must be 1")
    pads, strides, dil = _window(attrs, node, (h, w), kernel)  # type: ignore[arg-type]
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dil, strict=True))
    if attrs.get("ceil_mode", 0):
        pads = list(pads)
        for d, (size, k, s) in enumerate(zip((h, w), span, strides, strict=True)):
            lo, hi = pads[2 * d], pads[2 * d + 1]
            out = math.ceil((size + lo + hi - k) / s) + 1
            if (out - 1) * s >= size + lo:  # the last window must start inside the input
                out -= 1
            pads[2 * d + 1] = max(hi, (out - 1) * s + k - size - lo)
        pads = tuple(pads)
    return kernel, pads, strides, dil


def _maxpool(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise _fail(node, "the Indices output is not supported")
    x = imp.nhwc(node.input[0], "MaxPool")
    _, h, w, _ = imp.b.types[x].shape
    kernel, pads, strides, _ = _pool_geometry(attrs, node, h, w)
    _set(imp, node, imp.add(ops.MaxPool(x, kernel, pads, strides), node.output[0]), True)  # type: ignore[arg-type]


def _avgpool(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    x = imp.nhwc(node.input[0], "AveragePool")
    _, h, w, c = imp.b.types[x].shape
    kernel, pads, strides, dil = _pool_geometry(attrs, node, h, w, dilated=True)
    (kh, kw), (dh, dw) = kernel, dil
    hint = node.output[0]
    include = bool(attrs.get("count_include_pad", 0))
    # How many elements each window averages: the real ones, and the explicit padding when
    # count_include_pad (the extra end padding of ceil_mode never counts).
    p = _window(attrs, node, (h, w), kernel)[0]
    mask = np.pad(np.ones((h, w)), ((p[0], p[1]), (p[2], p[3])), constant_values=1.0 if include else 0.0)
    mask = np.pad(mask, ((0, pads[1] - p[1]), (0, pads[3] - p[3])))
    sh, sw = strides
    ho, wo = (mask.shape[0] - (kh - 1) * dh - 1) // sh + 1, (mask.shape[1] - (kw - 1) * dw - 1) // sw + 1
    counts = np.array(
        [
            [
                mask[i * sh : i * sh + (kh - 1) * dh + 1 : dh, j * sw : j * sw + (kw - 1) * dw + 1 : dw].sum()
                for j in range(wo)
            ]
            for i in range(ho)
        ]
    )
    if np.all(counts == kh * kw):
        out = _depthwise(imp, x, np.full((kh, kw), 1.0 / (kh * kw)), pads, strides, hint, dil)
    else:
        total = _depthwise(imp, x, np.ones((kh, kw)), pads, strides, hint + "_sum", dil)
        scale = np.broadcast_to((1.0 / counts)[None, :, :, None], (1, ho, wo, c))
        out = imp.add(ops.Elementwise("mul", total, imp.param(hint + "_div", scale)), hint)
    _set(imp, node, out, True)


def _global_avgpool(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """The mean over H·W: a (1, H·W) row of 1/(H·W) times the (H·W, C) pixels of NHWC x."""
    x = imp.nhwc(node.input[0], "GlobalAveragePool")
    n, h, w, c = imp.b.types[x].shape
    if n != 1:
        raise _fail(node, f"the batch must be 1, not {n}")
    hint = node.output[0]
    pixels = imp.reshape(x, (h * w, c), hint + "_pixels")
    mean = imp.add(ops.MatMul(imp.param(hint + "_mean", np.full((1, h * w), 1.0 / (h * w))), pixels), hint)
    _set(imp, node, imp.reshape(mean, (1, 1, 1, c), hint + "_nhwc"), True)


def _reduce_mean(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """The mean over some axes: over H and W of NHWC data as global average pooling, otherwise
    the reduced axes moved last and a product by a constant column of 1/K."""
    shape = imp.onnx_shape(node.input[0])
    rank = len(shape)
    c = imp.const(node.input[1]) if len(node.input) > 1 and node.input[1] else attrs.get("axes")
    axes = sorted({int(a) % rank for a in np.asarray(c).reshape(-1)}) if c is not None else list(range(rank))
    if not axes:  # empty axes: all of them, unless noop_with_empty_axes
        if attrs.get("noop_with_empty_axes", 0):
            _identity(imp, node, attrs)
            return
        axes = list(range(rank))
    keep = bool(attrs.get("keepdims", 1))
    out_shape = tuple(1 if a in axes else d for a, d in enumerate(shape) if keep or a not in axes)
    hint = node.output[0]
    if rank == 4 and axes == [2, 3]:
        _global_avgpool(imp, node, attrs)
        if not keep:
            _set(imp, node, imp.reshape(imp.plain(node.output[0]), out_shape, hint + "_flat"))
        return
    kept = [a for a in range(rank) if a not in axes]
    x = imp.permute(imp.plain(node.input[0]), (*kept, *axes), hint + "_last")
    k = math.prod(shape[a] for a in axes)
    x = imp.reshape(x, (math.prod(shape[a] for a in kept), k), hint + "_rows")
    mean = imp.add(ops.MatMul(x, imp.param(hint + "_mean", np.full((k, 1), 1.0 / k))), hint)
    _set(imp, node, imp.reshape(mean, out_shape, hint + "_shape"))


def _batchnorm(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    stats = [imp.const(i) for i in node.input[1:5]]
    if any(s is None for s in stats) or (len(node.output) > 1 and any(node.output[1:])):
        raise _fail(node, "statistics must be constants (inference mode), not computed")
    scale, shift = batchnorm_scale_shift(*stats, float(attrs.get("epsilon", 1e-5)))  # type: ignore[arg-type]
    shape = imp.onnx_shape(node.input[0])
    v = imp.val(node.input[0])
    if len(shape) == 4:
        x, nhwc = imp.nhwc(node.input[0], "BatchNormalization"), True
    elif len(shape) == 2:
        x, nhwc = v.ir, False
    else:
        raise _fail(node, f"input must be (N, C) or (N, C, H, W), not {shape}")
    ir_shape = imp.b.types[x].shape
    hint = node.output[0]
    k = imp.param(hint + "_scale", np.broadcast_to(scale, ir_shape))
    y = imp.add(ops.Elementwise("mul", x, k), hint + "_mul")
    _set(imp, node, imp.add(ops.BiasAdd(y, imp.param(hint + "_shift", shift)), hint), nhwc)


def _pad(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Constant padding of H and W: a 1×1 depthwise convolution by 1 with that padding (pads of
    zeros), shifted by the value: pad_v(x) = pad_0(x − v) + v."""
    pads = imp.const(node.input[1]) if len(node.input) > 1 else np.asarray(attrs.get("pads"))
    value = imp.const(node.input[2]) if len(node.input) > 2 and node.input[2] else attrs.get("value", 0.0)
    if str(attrs.get("mode", "constant")) != "constant":
        raise _fail(node, f"mode must be constant, not {attrs.get('mode')}")
    if pads is None or value is None:
        raise _fail(node, "pads and the value must be constants")
    rank = len(imp.onnx_shape(node.input[0]))
    given = [int(v) for v in np.asarray(pads).reshape(-1)]
    axes = list(range(rank))
    if len(node.input) > 3 and node.input[3]:
        c = imp.const(node.input[3])
        if c is None:
            raise _fail(node, "axes must be a constant")
        axes = [int(a) % rank for a in np.asarray(c).reshape(-1)]
    p = [0] * (2 * rank)
    for k, ax in enumerate(axes):
        p[ax], p[rank + ax] = given[k], given[len(axes) + k]
    if rank != 4 or any(p[i] for i in (0, 1, 4, 5)) or min(p) < 0:
        raise _fail(node, f"padding must be non-negative and of the H and W axes of NCHW only, not {p}")
    v = float(np.asarray(value).reshape(-1)[0])
    x, hint = imp.nhwc(node.input[0], "Pad"), node.output[0]
    if v != 0.0:
        x = _shifted(imp, x, v, hint)
    out = _depthwise(imp, x, np.ones((1, 1)), (p[2], p[6], p[3], p[7]), (1, 1), hint + ("_0" if v else ""))
    if v != 0.0:
        out = imp.add(ops.Elementwise("add", out, _scalar_param(imp, hint + "_v", v)), hint)
    _set(imp, node, out, True)


# -- shapes ---------------------------------------------------------------------------------------


def _reshape_to(imp: Importer, node: onnx.NodeProto, shape: tuple[int, ...]) -> None:
    x = imp.plain(node.input[0])
    _set(imp, node, imp.reshape(x, tuple(int(d) for d in shape), node.output[0]))


def _reshape(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    spec = imp.const(node.input[1])
    if spec is None:
        raise _fail(node, "target shape must be known at import, not computed from data")
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
    perm = tuple(_ints(attrs, "perm", list(range(rank - 1, -1, -1))))
    layout = NCHW_TO_NHWC if v.nhwc else tuple(range(rank))  # IR axis i holds ONNX axis layout[i]
    ir_perm = tuple(layout.index(p) for p in perm)
    if rank == 2 and ir_perm == (1, 0):
        _set(imp, node, imp.add(ops.Transpose(v.ir), node.output[0]))
    else:
        _set(imp, node, imp.permute(v.ir, ir_perm, node.output[0]))


def _concat(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Concatenation as Σ_i x_i · E_i, with x_i viewed as rows × C_i (the concatenated axis last,
    in the layout the inputs are held in) and E_i the 0/1 matrix placing its C_i columns."""
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
        x = imp.reshape(x, (math.prod(imp.b.types[x].shape[:-1]), width), hint + "_rows")
        term = imp.add(ops.MatMul(x, imp.param(hint + "_place", place)), hint + "_part")
        acc = term if acc is None else imp.add(ops.Elementwise("add", acc, term), hint + "_sum")
    if acc is None:  # pragma: no cover - an all-constant Concat is folded before conversion
        raise _fail(node, "at least one input must be computed")
    if const_part is not None and np.any(const_part):
        acc = imp.add(ops.Elementwise("add", acc, imp.param(hint + "_const", const_part)), hint + "_c")
    out_onnx = (*shapes[0][:axis], total, *shapes[0][axis + 1 :])
    out_ir = tuple(out_onnx[layout[a]] for a in range(rank))
    acc = imp.reshape(acc, tuple(out_ir[a] for a in last), hint + "_grid")
    back = tuple(last.index(a) for a in range(rank))
    _set(imp, node, imp.permute(acc, back, hint), nhwc)


def _identity(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    if len(node.output) > 1 and any(node.output[1:]):
        raise _fail(node, "the mask output is not supported")
    if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
        training = imp.const(node.input[2])
        if training is None or bool(np.asarray(training).reshape(-1)[0]):
            raise _fail(node, "training_mode must be false (inference), not true or computed")
    if node.input[0] in imp.monotone_of:
        imp.monotone_of[node.output[0]] = (node.input[0], "identity")
    else:
        imp.vals[node.output[0]] = imp.val(node.input[0])


def _cast(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    from onnx import TensorProto

    if int(attrs["to"]) not in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16):  # type: ignore[arg-type]
        raise _fail(node, "a computed tensor may only be cast to a float type")
    _identity(imp, node, attrs)


def _linear_classifier(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """ai.onnx.ml LinearClassifier (scikit-learn's linear models): scores = x · Wᵀ + b, then a
    monotone post-transform; the class is the argmax when the labels are 0 … K−1."""
    labels = list(attrs.get("classlabels_ints", []))  # type: ignore[call-overload]
    coef = np.asarray(attrs["coefficients"], np.float64)
    intercepts = np.asarray(attrs.get("intercepts", np.zeros(len(labels))), np.float64)
    k = len(labels)
    if k < 2 or labels != list(range(k)) or coef.size % k or len(intercepts) != k:
        raise _fail(
            node, f"classes must be the integers 0 … K−1 with one row of coefficients each, not {labels}"
        )
    post = str(attrs.get("post_transform", "NONE")).lower()
    if post not in ("none", "softmax", "logistic", "softmax_zero"):
        raise _fail(node, f"post_transform must be NONE, SOFTMAX or LOGISTIC, not {post.upper()}")
    x = imp.plain(node.input[0])
    if imp.b.types[x].rank != 2:
        raise _fail(node, f"input must be (1, features), not {imp.b.types[x].shape}")
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
        raise _fail(node, "input must be a classifier's scores on their way to the output")
    imp.monotone_of[node.output[0]] = (node.input[0], norm)


CONVERTERS: dict[str, Callable[[Importer, onnx.NodeProto, Attrs], None]] = {
    "Add": _binary, "Sub": _binary, "Mul": _binary, "Div": _binary,
    "Relu": _unary("relu"), "Sigmoid": _unary("sigmoid"), "Tanh": _unary("tanh"), "Exp": _unary("exp"),
    "Neg": _unary("neg"), "Clip": _clip, "LeakyRelu": _leaky_relu, "HardSigmoid": _hard_sigmoid,
    "Softmax": _softmax, "LogSoftmax": _softmax, "ArgMax": _argmax,
    "Gemm": _gemm, "MatMul": _matmul, "Conv": _conv, "MaxPool": _maxpool, "AveragePool": _avgpool,
    "GlobalAveragePool": _global_avgpool, "ReduceMean": _reduce_mean, "BatchNormalization": _batchnorm,
    "Pad": _pad,
    "Flatten": _flatten, "Reshape": _reshape, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze,
    "Transpose": _transpose, "Concat": _concat, "Identity": _identity, "Dropout": _identity, "Cast": _cast,
    "LinearClassifier": _linear_classifier, "Normalizer": _normalizer,
}  # fmt: skip


WINDOWED = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool")


def _one_d(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """A 1-D window op on (N, C, L) as the 2-D op on (N, C, 1, L): kernel (1, k), pads (0, b, 0, e)."""
    from onnx import helper

    n, c, length = imp.onnx_shape(node.input[0])
    x = imp.reshape(imp.plain(node.input[0]), (n, c, 1, length), node.output[0] + "_2d")
    name2, out2 = node.input[0] + "__2d", node.output[0] + "__2d"
    imp.vals[name2] = Val(x)
    inputs = [name2]
    for extra in node.input[1:]:
        w = imp.const(extra)
        if extra and w is not None and w.ndim == 3:  # Conv weights (M, C/g, k)
            imp.consts[extra + "__2d"] = w.reshape(w.shape[0], w.shape[1], 1, w.shape[2])
            extra = extra + "__2d"
        inputs.append(extra)
    two_d: Attrs = {}
    for key, value in attrs.items():
        if key in ("kernel_shape", "strides", "dilations"):
            value = [1, *value]  # type: ignore[misc]
        elif key == "pads":
            value = [0, value[0], 0, value[1]]  # type: ignore[index]
        two_d[key] = value
    CONVERTERS[node.op_type](imp, helper.make_node(node.op_type, inputs, [out2], node.name, **two_d), two_d)
    y = imp.plain(out2)  # (N, M, 1, L_out)
    _, m, _, lo = imp.b.types[y].shape
    _set(imp, node, imp.reshape(y, (n, m, lo), node.output[0]))


def convert(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    fn = CONVERTERS.get(node.op_type)
    if fn is None:
        raise _fail(node, "inputs must be constants known at import for this operator, not computed")
    if node.op_type in WINDOWED and len(imp.onnx_shape(node.input[0])) == 3:
        fn = _one_d
    fn(imp, node, attrs)
