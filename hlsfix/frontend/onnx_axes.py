"""ONNX window ops the 2-D IR ops do not take directly, one axis at a time in ops every backend has:
pooling of any rank (3-D pooling on (N, C, D, H, W)) and dilated max pooling, and Pad of any axes
in every mode (edge, reflect, wrap; constant padding of other axes than H and W; negative pads).

Pooling windows are boxes, so max and average pooling are separable: pooling along each spatial
axis in turn is the pooling of the box (an average of averages over equal counts is the average;
the count of valid elements of a box is the product of its counts per axis). Along one axis of
length L, with the axis last and the tensor viewed as (rows, L):

- average: a product by a constant (L × L_out) matrix holding 1/count at each valid tap;
- max: a product by a constant 0/1 (L × L_out·k) matrix gathering the k taps of every window
  next to each other (a tap in the padding repeats a valid tap of the same window), then a
  ``MaxPool`` of kernel (1, k) and stride (1, k);
- Pad: a product by a constant 0/1 (L × L_out) matrix taking each output position's source
  (none in constant padding: pad_v(x) = pad_0(x − v) + v).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.frontend.onnx_importer import Importer, Val
from hlsfix.frontend.onnx_ops import (
    Attrs,
    argmax_rows,
    int_list,
    node_error,
    scalar_param,
    set_value,
    shifted,
)
from hlsfix.ir import ops

if TYPE_CHECKING:
    import onnx


def along_axis(imp: Importer, x: str, axis: int, matrix: np.ndarray, hint: str, k: int = 0) -> str:
    """x (an IR value in ONNX layout) times ``matrix`` (L × M) along ``axis``; with k > 0, the
    maximum of each group of k consecutive columns of the product (M = L_out·k)."""
    shape = imp.b.types[x].shape
    others = tuple(a for a in range(len(shape)) if a != axis)
    moved = imp.permute(x, (*others, axis), hint + "_last")
    rows = math.prod(shape[a] for a in others)
    flat = imp.reshape(moved, (rows, shape[axis]), hint + "_rows")
    y = imp.add(ops.MatMul(flat, imp.param(hint + "_m", matrix)), hint + "_mm")
    width = matrix.shape[1]
    if k:
        grid = imp.reshape(y, (1, rows, width, 1), hint + "_taps")
        y = imp.add(ops.MaxPool(grid, (1, k), (0, 0, 0, 0), (1, k)), hint + "_max")
        width //= k
    out = imp.reshape(y, (*(shape[a] for a in others), width), hint + "_grid")
    back = tuple((*others, axis).index(a) for a in range(len(shape)))
    return imp.permute(out, back, hint)


def _axis_windows(attrs: Attrs, node: onnx.NodeProto, sizes: tuple[int, ...]) -> list[tuple]:
    """Per spatial axis: (L, k, stride, dilation, explicit pad before, after, ceil extra after)."""
    n = len(sizes)
    kernel = int_list(attrs, "kernel_shape", [])
    strides = int_list(attrs, "strides", [1] * n)
    dil = int_list(attrs, "dilations", [1] * n)
    if not len(kernel) == len(strides) == len(dil) == n:
        raise node_error(node, f"kernel, strides and dilations must have {n} entries, not {kernel}")
    auto = str(attrs.get("auto_pad", "NOTSET"))
    given = int_list(attrs, "pads", [0] * (2 * n))
    out = []
    for a, (size, k, s, d) in enumerate(zip(sizes, kernel, strides, dil, strict=True)):
        span = (k - 1) * d + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            total = max((math.ceil(size / s) - 1) * s + span - size, 0)
            small = total // 2
            lo, hi = (small, total - small) if auto == "SAME_UPPER" else (total - small, small)
        elif auto == "VALID":
            lo, hi = 0, 0
        else:
            lo, hi = given[a], given[n + a]
        length = (size + lo + hi - span) // s + 1
        if attrs.get("ceil_mode", 0):
            length = math.ceil((size + lo + hi - span) / s) + 1
            if (length - 1) * s >= size + lo:  # the last window must start inside the input
                length -= 1
        if length < 1:
            raise node_error(node, f"the window ({span}) must fit the padded axis of length {size + lo + hi}")
        out.append((size, k, s, d, lo, hi, length))
    return out


def _pool_matrix(window: tuple, node: onnx.NodeProto, maximum: bool, include_pad: bool) -> np.ndarray:
    size, k, s, d, lo, hi, length = window
    m = np.zeros((size, length * k if maximum else length))
    for o in range(length):
        taps = [o * s - lo + j * d for j in range(k)]
        valid = [p for p in taps if 0 <= p < size]
        if not valid:
            raise node_error(node, f"every window must hold an input element, not only padding (window {o})")
        if maximum:
            for j, p in enumerate(taps):
                m[p if 0 <= p < size else valid[0], o * k + j] = 1.0
        else:
            count = sum(1 for p in taps if -lo <= p < size + hi) if include_pad else len(valid)
            for p in valid:
                m[p, o] += 1.0 / count
    return m


def maxpool_indices(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """MaxPool's Indices output: for each window, the flat index (over N, C and the spatial axes,
    padding not counted; ``storage_order`` 1: the spatial axes column-major) of its first maximum.
    The windows' taps are gathered by a constant 0/1 matrix into rows (a tap in the padding
    repeats the first valid tap, and so its index), and each row's argmax picks the index from
    that window's constant table (``argmax_rows``)."""
    shape = imp.onnx_shape(node.input[0])
    spatial = tuple(shape[2:])
    windows = _axis_windows(attrs, node, spatial)
    per_axis = []  # per axis: (output position, tap) → input position
    for size, k, s, d, lo, _, length in windows:
        taps = np.array([[o * s - lo + j * d for j in range(k)] for o in range(length)])
        ok = (taps >= 0) & (taps < size)
        per_axis.append((taps, ok))
    outs = tuple(w[-1] for w in windows)
    kernel = tuple(w[1] for w in windows)
    n_taps, n_out, n_in = math.prod(kernel), math.prod(outs), math.prod(spatial)
    flat = np.zeros((n_out, n_taps), dtype=np.int64)
    order = "F" if int(attrs.get("storage_order", 0)) and len(spatial) == 2 else "C"  # type: ignore[arg-type]
    for o, out_pos in enumerate(np.ndindex(*outs)):
        cells = []
        for tap in np.ndindex(*kernel):
            pos = [per_axis[a][0][out_pos[a], tap[a]] for a in range(len(spatial))]
            valid = all(per_axis[a][1][out_pos[a], tap[a]] for a in range(len(spatial)))
            cells.append(tuple(pos) if valid else None)
        first = next((c for c in cells if c is not None), None)
        if first is None:
            raise node_error(node, f"every window must hold an input element, not only padding (window {o})")
        flat[o] = [np.ravel_multi_index(c if c is not None else first, spatial) for c in cells]
    gather = np.zeros((n_in, n_out * n_taps))
    gather[flat.reshape(-1), np.arange(n_out * n_taps)] = 1.0
    if order == "F":  # the index as ONNX reports it: the spatial axes column-major
        flat = np.ravel_multi_index(np.unravel_index(flat, spatial), spatial, order="F")
    planes = shape[0] * shape[1]
    tables = (np.arange(planes)[:, None, None] * n_in + flat[None]).reshape(planes * n_out, n_taps)
    hint = node.output[1]
    x = imp.reshape(imp.plain(node.input[0]), (planes, n_in), hint + "_planes")
    taps = imp.add(ops.MatMul(x, imp.param(hint + "_taps", gather)), hint + "_taps")
    rows = imp.reshape(taps, (planes * n_out, n_taps), hint + "_rows")
    index = argmax_rows(imp, rows, hint, tables=tables.astype(np.float64))
    imp.vals[node.output[1]] = Val(imp.reshape(index, (*shape[:2], *outs), hint))


def pool_nd(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> None:
    """MaxPool / AveragePool of any rank ≥ 3 (also dilated max pooling), one spatial axis at a time."""
    shape = imp.onnx_shape(node.input[0])
    maximum = node.op_type == "MaxPool"
    include = bool(attrs.get("count_include_pad", 0))
    x, hint = imp.plain(node.input[0]), node.output[0]
    for a, window in enumerate(_axis_windows(attrs, node, tuple(shape[2:]))):
        m = _pool_matrix(window, node, maximum, include)
        x = along_axis(imp, x, a + 2, m, f"{hint}_ax{a}", window[1] if maximum else 0)
    set_value(imp, node, x)


def needs_pool_nd(imp: Importer, node: onnx.NodeProto, attrs: Attrs) -> bool:
    if node.op_type not in ("MaxPool", "AveragePool"):
        return False
    rank = len(imp.onnx_shape(node.input[0]))
    dilated = node.op_type == "MaxPool" and any(d != 1 for d in int_list(attrs, "dilations", []))
    return rank >= 5 or dilated


def pad_axes(imp: Importer, node: onnx.NodeProto, pads: list[int], mode: str, value: float) -> None:
    """Pad in any mode along any axes (``pads``: ONNX's begin…, end… for every axis)."""
    shape = imp.onnx_shape(node.input[0])
    rank = len(shape)
    x, hint = imp.plain(node.input[0]), node.output[0]
    numpy_mode = {"edge": "edge", "reflect": "reflect", "wrap": "wrap", "constant": "constant"}.get(mode)
    if numpy_mode is None:
        raise node_error(node, f"mode must be constant, edge, reflect or wrap, not {mode}")
    if mode == "constant" and value != 0.0:
        x = shifted(imp, x, value, hint)
    for a in range(rank):
        lo, hi = pads[a], pads[rank + a]
        if lo == 0 and hi == 0:
            continue
        size = shape[a]
        if mode == "reflect" and max(lo, hi) >= size:
            raise node_error(node, f"reflect padding must be shorter than the axis {size}, not {lo}, {hi}")
        source = np.arange(size)
        kw = {"constant_values": -1} if mode == "constant" else {}
        padded = np.pad(source, (max(lo, 0), max(hi, 0)), mode=numpy_mode, **kw)  # type: ignore[call-overload]
        padded = padded[max(-lo, 0) : len(padded) - max(-hi, 0)]
        if len(padded) < 1:
            raise node_error(node, f"padding must leave every axis non-empty, not axis {a} of {size}")
        m = np.zeros((size, len(padded)))
        for j, p in enumerate(padded):
            if p >= 0:
                m[p, j] = 1.0
        x = along_axis(imp, x, a, m, f"{hint}_ax{a}")
    if mode == "constant" and value != 0.0:
        x = imp.add(ops.Elementwise("add", x, scalar_param(imp, hint + "_v", value)), hint)
    set_value(imp, node, x)
