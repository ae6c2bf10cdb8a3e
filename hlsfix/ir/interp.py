"""The float reference: runs a Graph on a whole data set in one call, in numpy (float64).

Every value carries a leading batch axis of length N (data-dependent) or 1 (constants, parameters);
numpy broadcasting does the rest. Integer scalars are int64 arrays of shape (N,) or (1,).
``Recorder`` hooks let the fixed-point profiler observe every value, loop iterations included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from hlsfix.errors import DataError
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph
from hlsfix.ir.types import Block

Recorder = Callable[[str, np.ndarray], None]


def batch_input(graph: Graph, x: np.ndarray) -> np.ndarray:
    """Check a data set (N × input size, or N × input shape) and give it the input's shape."""
    x = np.asarray(x)
    spec = graph.input
    if x.ndim == 0 or x.shape[0] == 0:
        raise DataError(f"input data must hold at least one row, not shape {x.shape}")
    if x.dtype.kind not in "fiu":
        raise DataError(f"input data must be numeric, not {x.dtype}")
    if x.shape[1:] != spec.shape and int(np.prod(x.shape[1:])) != spec.size:
        raise DataError(
            f"input rows must have {spec.size} values (shape {spec.shape}), not shape {x.shape[1:]}"
        )
    x = x.reshape((x.shape[0], *spec.shape)).astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise DataError(
            f"input data must be finite, not hold {int(np.count_nonzero(~np.isfinite(x)))} NaN/Inf"
        )
    return x


def _scalar(v: np.ndarray) -> np.ndarray:
    """A one-element tensor per batch row, shaped to broadcast against any tensor."""
    return v.reshape(v.shape[0])


def _bcast(s: np.ndarray, ndim: int) -> np.ndarray:
    return s.reshape((s.shape[0],) + (1,) * (ndim - 1))


def take_rows(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``x[i]`` per batch row: x has batch axis 1 or N, index shape (1,) or (N,)."""
    if x.shape[0] == 1:
        return x[0][index]
    if index.shape[0] == 1:
        return x[:, index[0]]
    return x[np.arange(x.shape[0]), index]


def splice_rows(x: np.ndarray, starts: list[np.ndarray], sizes: tuple[int, ...]) -> np.ndarray:
    if all(s.shape[0] == 1 for s in starts):
        window = tuple(slice(int(s[0]), int(s[0]) + n) for s, n in zip(starts, sizes, strict=True))
        return x[(slice(None), *window)]
    n_rows = max(max(s.shape[0] for s in starts), x.shape[0])
    rows = []
    for r in range(n_rows):
        src = x[r if x.shape[0] > 1 else 0]
        window = tuple(
            slice(int(s[r if s.shape[0] > 1 else 0]), int(s[r if s.shape[0] > 1 else 0]) + n)
            for s, n in zip(starts, sizes, strict=True)
        )
        rows.append(src[window])
    return np.stack(rows)


def reshape_rows(x: np.ndarray, shape: tuple[int, ...], order: tuple[int, ...]) -> np.ndarray:
    perm = (0, *(o for o in order))
    return np.transpose(x, perm).reshape((x.shape[0], *shape))


ConvTap = tuple[int, int, int, np.ndarray]  # group, filter row, filter column, input patch


def conv_taps(
    x: np.ndarray,
    filter_shape: tuple[int, ...],
    pads: tuple[int, int, int, int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
) -> tuple[tuple[int, int], list[ConvTap]]:
    """The output size of an NHWC convolution of x (B, n, H, W, C) and, for every group and filter
    tap, the (B, n, HO, WO, CIN/G) slice of the zero-padded input that tap multiplies. Shared by
    the float reference and the golden model so both read the same windows."""
    g, hf, wf, cin_g, _ = filter_shape
    (pt, pb, pl, pr), (sh, sw), (dh, dw) = pads, strides, dilations
    h, w = x.shape[2], x.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr), (0, 0)))
    ho = (h + pt + pb - dh * (hf - 1) - 1) // sh + 1
    wo = (w + pl + pr - dw * (wf - 1) - 1) // sw + 1
    taps = [
        (
            gi,
            i,
            j,
            xp[
                :,
                :,
                i * dh : i * dh + sh * (ho - 1) + 1 : sh,
                j * dw : j * dw + sw * (wo - 1) + 1 : sw,
                gi * cin_g : (gi + 1) * cin_g,
            ],
        )
        for gi in range(g)
        for i in range(hf)
        for j in range(wf)
    ]
    return (ho, wo), taps


def conv2d_rows(x: np.ndarray, f: np.ndarray, op: ops.Conv2d) -> np.ndarray:
    """NHWC convolution of x (B, n, H, W, C) by f (1, G, HF, WF, CIN/G, COUT): group g reads input
    channels [g·CIN/G, (g+1)·CIN/G) and writes output channels [g·COUT, (g+1)·COUT)."""
    g, cout = f.shape[1], f.shape[-1]
    (ho, wo), taps = conv_taps(x, f.shape[1:], op.pads, op.strides, op.dilations)
    out = np.zeros((x.shape[0], x.shape[1], ho, wo, g * cout), dtype=np.result_type(x, f))
    for gi, i, j, patch in taps:
        out[..., gi * cout : (gi + 1) * cout] += patch @ f[0, gi, i, j]
    return out


def maxpool_rows(x: np.ndarray, op: ops.MaxPool, pad_value: float = -np.inf) -> np.ndarray:
    (pt, pb, pl, pr), (kh, kw), (sh, sw) = op.pads, op.kernel, op.strides
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    h, w = xp.shape[2], xp.shape[3]
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = None
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw, :]
            out = window if out is None else np.maximum(out, window)
    assert out is not None
    return out


def argmax_rows(x: np.ndarray) -> np.ndarray:
    return np.argmax(x.reshape(x.shape[0], -1), axis=1).astype(np.int64)


_UNARY: Mapping[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda v: np.maximum(v, 0.0),
    "relu6": lambda v: np.clip(v, 0.0, 6.0),
    "exp": np.exp,
    "tanh": np.tanh,
    "sigmoid": lambda v: 0.5 * (1.0 + np.tanh(0.5 * v)),
    "neg": np.negative,
}


def partial_sum_name(op: ops.Sum) -> str:
    """The profile key under which a sum's partial totals are recorded (index names are unique)."""
    return f"{op.index}$partial"


class Interpreter:
    def __init__(self, graph: Graph, recorder: Recorder | None = None) -> None:
        self.graph = graph
        self.record = recorder

    def run(self, x: np.ndarray) -> np.ndarray:
        env: dict[str, np.ndarray] = {self.graph.input.name: batch_input(self.graph, x)}
        for p in self.graph.params:
            env[p.name] = self.graph.weights[p.name][None]
        if self.record:
            self.record(self.graph.input.name, env[self.graph.input.name])
        out = self.block(self.graph.body, env)
        n = env[self.graph.input.name].shape[0]
        return np.broadcast_to(out, (n, *out.shape[1:])).copy()

    def block(self, block: Block, env: dict[str, np.ndarray]) -> np.ndarray:
        for node in block.nodes:
            value = self.node(node.op, env)
            env[node.out] = value
            if self.record:
                self.record(node.out, value)
        return env[block.result]

    def node(self, op: ops.Op, env: dict[str, np.ndarray]) -> np.ndarray:  # noqa: C901 - one case per op
        v = env.__getitem__
        if isinstance(op, ops.RealConst):
            return np.array([op.value])
        if isinstance(op, ops.IntConst):
            return np.array([op.value], dtype=np.int64)
        if isinstance(op, ops.Init):
            return np.full((1, *op.shape), op.value)
        if isinstance(op, ops.MatMul | ops.SparseMatMul):
            a, b = (v(op.a), v(op.b)) if isinstance(op, ops.MatMul) else (v(op.matrix), v(op.vector))
            return np.matmul(a, b)
        if isinstance(op, ops.ScalarMul):
            x = v(op.x)
            return _bcast(_scalar(v(op.scalar)), x.ndim) * x
        if isinstance(op, ops.Elementwise):
            a, b = v(op.a), v(op.b)
            if a.shape[1:] != b.shape[1:]:  # a one-element operand broadcast over the other,
                if int(np.prod(b.shape[1:])) == 1:  # the right one first, as ops.Elementwise.infer
                    b = _bcast(_scalar(b), a.ndim)
                else:
                    a = _bcast(_scalar(a), b.ndim)
            return {"add": np.add, "sub": np.subtract, "mul": np.multiply}[op.kind](a, b)
        if isinstance(op, ops.BiasAdd):
            x, b = v(op.x), v(op.bias)
            b = b.reshape((b.shape[0],) + (1,) * (x.ndim - 2) + (x.shape[-1],))
            return x - b if op.subtract else x + b
        if isinstance(op, ops.Unary):
            return _UNARY[op.fn](v(op.x))
        if isinstance(op, ops.Transpose):
            return np.swapaxes(v(op.x), 1, 2)
        if isinstance(op, ops.Reshape):
            return reshape_rows(v(op.x), op.shape, op.order)
        if isinstance(op, ops.Index):
            return take_rows(v(op.x), v(op.index))
        if isinstance(op, ops.Splice):
            return splice_rows(v(op.x), [v(s) for s in op.starts], op.sizes)
        if isinstance(op, ops.Conv2d):
            return conv2d_rows(v(op.x), v(op.filters), op)
        if isinstance(op, ops.MaxPool):
            return maxpool_rows(v(op.x), op)
        if isinstance(op, ops.Argmax):
            return argmax_rows(v(op.x))
        if isinstance(op, ops.Sgn):
            return (_scalar(v(op.x)) > 0).astype(np.int64)
        if isinstance(op, ops.IntBinary):
            fn = {"+": np.add, "-": np.subtract, "*": np.multiply}[op.op]
            return fn(v(op.a), v(op.b))
        if isinstance(op, ops.Cond):
            take_a = _scalar(v(op.x)) >= op.threshold
            a, b = v(op.a), v(op.b)
            return np.where(_bcast(take_a, max(a.ndim, b.ndim)), a, b)
        if isinstance(op, ops.Sum):
            total: np.ndarray | None = None
            for i in range(op.start, op.stop):
                env[op.index] = np.array([i], dtype=np.int64)
                term = self.block(op.body, env)
                total = term if total is None else total + term
                if self.record:  # the accumulator holds every partial sum, not just the last
                    self.record(partial_sum_name(op), total)
            assert total is not None
            return total
        if isinstance(op, ops.Loop):
            carried = v(op.init)
            for i in range(op.start, op.stop):
                env[op.index] = np.array([i], dtype=np.int64)
                env[op.carried] = carried
                if self.record:
                    self.record(op.carried, carried)
                carried = self.block(op.body, env)
            return carried
        raise AssertionError(f"no float meaning for {type(op).__name__}")  # pragma: no cover


def run_float(graph: Graph, x: np.ndarray, recorder: Recorder | None = None) -> np.ndarray:
    """The model's float output for every row of x: class indices for argmax/sgn models."""
    return Interpreter(graph, recorder).run(x)
