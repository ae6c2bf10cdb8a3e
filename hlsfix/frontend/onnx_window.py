"""ONNX convolution, pooling, batch norm, Pad and ReduceMean → IR ops (NHWC ``Conv2d``, ``MaxPool``,
products by constants). 1-D forms on (N, C, L) run as the 2-D ones on (N, C, 1, L)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.frontend.onnx_fold import batchnorm_scale_shift
from hlsfix.frontend.onnx_importer import Importer, Val
from hlsfix.frontend.onnx_ops import Attrs, identity, int_list, node_error, scalar_param, set_value, shifted
from hlsfix.ir import ops

if TYPE_CHECKING:
    import onnx

# -- convolution and pooling ----------------------------------------------------------------------


def _window(attrs: Attrs, node: onnx.NodeProto, in_hw: tuple[int, int], kernel: tuple[int, int]):
    """(pads top/bottom/left/right, strides, dilations) with auto_pad resolved."""
    strides = tuple(int_list(attrs, "strides", [1, 1]))
    dil = tuple(int_list(attrs, "dilations", [1, 1]))
    if len(strides) != 2 or len(dil) != 2:
        raise node_error(node, "only 2-D windows (4-D NCHW tensors) are supported")
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
        p = int_list(attrs, "pads", [0, 0, 0, 0])
        pads = (p[0], p[2], p[1], p[3])
    return pads, strides, dil


def _conv(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    w = imp.const(node.input[1])
    if w is None or w.ndim != 4:
        raise node_error(node, "weights must be a constant 4-D tensor (2-D convolution)")
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
            raise node_error(node, "bias must be a constant, not a computed tensor")
        out = imp.add(ops.BiasAdd(out, imp.param(hint + "_b", bias)), hint)
    set_value(imp, node, out, True)


def _depthwise(imp: Importer, x: str, taps: np.ndarray, pads, strides, hint: str, dil=(1, 1)) -> str:
    """A per-channel convolution of NHWC x by the same (kh, kw) taps on every channel."""
    c = imp.b.types[x].shape[3]
    filters = np.broadcast_to(taps[None, :, :, None, None], (c, *taps.shape, 1, 1))
    f = imp.param(hint + "_taps", filters)
    return imp.add(ops.Conv2d(x, f, tuple(strides), tuple(pads), tuple(dil), c), hint)  # type: ignore[arg-type]


def _pool_geometry(attrs: Attrs, node: onnx.NodeProto, h: int, w: int, dilated: bool = False):
    kernel = tuple(int_list(attrs, "kernel_shape", []))
    if len(kernel) != 2:
        raise node_error(node, f"kernel must be 2-D, not {list(kernel)}")
    if not dilated and int_list(attrs, "dilations", [1, 1]) != [1, 1]:
        raise node_error(node, "dilations of a max-pooling window must be 1")
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
    x = imp.nhwc(node.input[0], "MaxPool")
    _, h, w, _ = imp.b.types[x].shape
    kernel, pads, strides, _ = _pool_geometry(attrs, node, h, w)
    set_value(imp, node, imp.add(ops.MaxPool(x, kernel, pads, strides), node.output[0]), True)  # type: ignore[arg-type]


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
    set_value(imp, node, out, True)


def _global_avgpool(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """The mean over H·W: a (1, H·W) row of 1/(H·W) times the (H·W, C) pixels of NHWC x."""
    x = imp.nhwc(node.input[0], "GlobalAveragePool")
    n, h, w, c = imp.b.types[x].shape
    if n != 1:
        raise node_error(node, f"the batch must be 1, not {n}")
    hint = node.output[0]
    pixels = imp.reshape(x, (h * w, c), hint + "_pixels")
    mean = imp.add(ops.MatMul(imp.param(hint + "_mean", np.full((1, h * w), 1.0 / (h * w))), pixels), hint)
    set_value(imp, node, imp.reshape(mean, (1, 1, 1, c), hint + "_nhwc"), True)


def _reduce_mean(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """The mean over some axes: over H and W of NHWC data as global average pooling, otherwise
    the reduced axes moved last and a product by a constant column of 1/K."""
    shape = imp.onnx_shape(node.input[0])
    rank = len(shape)
    c = imp.const(node.input[1]) if len(node.input) > 1 and node.input[1] else attrs.get("axes")
    axes = sorted({int(a) % rank for a in np.asarray(c).reshape(-1)}) if c is not None else list(range(rank))
    if not axes:  # empty axes: all of them, unless noop_with_empty_axes
        if attrs.get("noop_with_empty_axes", 0):
            identity(imp, node, attrs)
            return
        axes = list(range(rank))
    keep = bool(attrs.get("keepdims", 1))
    out_shape = tuple(1 if a in axes else d for a, d in enumerate(shape) if keep or a not in axes)
    hint = node.output[0]
    if rank == 4 and axes == [2, 3]:
        _global_avgpool(imp, node, attrs)
        if not keep:
            set_value(imp, node, imp.reshape(imp.plain(node.output[0]), out_shape, hint + "_flat"))
        return
    kept = [a for a in range(rank) if a not in axes]
    x = imp.permute(imp.plain(node.input[0]), (*kept, *axes), hint + "_last")
    k = math.prod(shape[a] for a in axes)
    x = imp.reshape(x, (math.prod(shape[a] for a in kept), k), hint + "_rows")
    mean = imp.add(ops.MatMul(x, imp.param(hint + "_mean", np.full((k, 1), 1.0 / k))), hint)
    set_value(imp, node, imp.reshape(mean, out_shape, hint + "_shape"))


def _batchnorm(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    if attrs.get("training_mode", 0):
        raise node_error(
            node, "training_mode must be 0 (inference: the given running statistics), not 1 (the batch's own)"
        )
    stats = [imp.const(i) for i in node.input[1:5]]
    if any(s is None for s in stats) or (len(node.output) > 1 and any(node.output[1:])):
        raise node_error(node, "statistics must be constants (inference mode), not computed")
    scale, shift = batchnorm_scale_shift(*stats, float(attrs.get("epsilon", 1e-5)))  # type: ignore[arg-type]
    shape = imp.onnx_shape(node.input[0])
    v = imp.val(node.input[0])
    if len(shape) == 4:
        x, nhwc = imp.nhwc(node.input[0], "BatchNormalization"), True
    elif len(shape) == 2:
        x, nhwc = v.ir, False
    else:
        raise node_error(node, f"input must be (N, C) or (N, C, H, W), not {shape}")
    ir_shape = imp.b.types[x].shape
    hint = node.output[0]
    k = imp.param(hint + "_scale", np.broadcast_to(scale, ir_shape))
    y = imp.add(ops.Elementwise("mul", x, k), hint + "_mul")
    set_value(imp, node, imp.add(ops.BiasAdd(y, imp.param(hint + "_shift", shift)), hint), nhwc)


def _pad(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    from hlsfix.frontend.onnx_axes import pad_axes

    """Constant padding of H and W: a 1×1 depthwise convolution by 1 with that padding (pads of
    zeros), shifted by the value: pad_v(x) = pad_0(x − v) + v. Other modes and axes: ``onnx_axes``."""
    pads = imp.const(node.input[1]) if len(node.input) > 1 else np.asarray(attrs.get("pads"))
    value = imp.const(node.input[2]) if len(node.input) > 2 and node.input[2] else attrs.get("value", 0.0)
    mode = str(attrs.get("mode", "constant"))
    if pads is None or value is None:
        raise node_error(node, "pads and the value must be constants")
    rank = len(imp.onnx_shape(node.input[0]))
    given = [int(v) for v in np.asarray(pads).reshape(-1)]
    axes = list(range(rank))
    if len(node.input) > 3 and node.input[3]:
        c = imp.const(node.input[3])
        if c is None:
            raise node_error(node, "axes must be a constant")
        axes = [int(a) % rank for a in np.asarray(c).reshape(-1)]
    p = [0] * (2 * rank)
    for k, ax in enumerate(axes):
        p[ax], p[rank + ax] = given[k], given[len(axes) + k]
    v = float(np.asarray(value).reshape(-1)[0])
    if mode != "constant" or rank != 4 or any(p[i] for i in (0, 1, 4, 5)) or min(p) < 0:
        pad_axes(imp, node, p, mode, v)  # any axes, any mode: one axis at a time
        return
    x, hint = imp.nhwc(node.input[0], "Pad"), node.output[0]
    if v != 0.0:
        x = shifted(imp, x, v, hint)
    out = _depthwise(imp, x, np.ones((1, 1)), (p[2], p[6], p[3], p[7]), (1, 1), hint + ("_0" if v else ""))
    if v != 0.0:
        out = imp.add(ops.Elementwise("add", out, scalar_param(imp, hint + "_v", v)), hint)
    set_value(imp, node, out, True)


CONVERTERS: dict[str, Callable[[Importer, onnx.NodeProto, Attrs], None]] = {
    "Conv": _conv, "MaxPool": _maxpool, "AveragePool": _avgpool, "GlobalAveragePool": _global_avgpool,
    "ReduceMean": _reduce_mean, "BatchNormalization": _batchnorm, "Pad": _pad,
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
    set_value(imp, node, imp.reshape(y, (n, m, lo), node.output[0]))


def convert(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """Convert one ONNX node (every converter of ``onnx_ops`` and this module)."""
    from hlsfix.frontend.onnx_axes import maxpool_indices, needs_pool_nd, pool_nd
    from hlsfix.frontend.onnx_ops import CONVERTERS as OTHERS

    if node.op_type == "MaxPool" and len(node.output) > 1 and node.output[1] in imp.wanted:
        maxpool_indices(imp, node, attrs)
    if needs_pool_nd(imp, node, attrs):
        pool_nd(imp, node, attrs)
        return
    if node.op_type in WINDOWED and len(imp.onnx_shape(node.input[0])) == 3:
        _one_d(imp, node, attrs)
        return
    fn = CONVERTERS.get(node.op_type) or OTHERS.get(node.op_type)
    if fn is None:
        raise node_error(node, "inputs must be constants known at import for this operator, not computed")
    fn(imp, node, attrs)
