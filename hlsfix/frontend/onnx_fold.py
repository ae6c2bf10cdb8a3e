"""Import-time folding for the ONNX frontend: nodes whose inputs are all constants are evaluated
here in numpy (PyTorch's Shape → Gather → Concat → Reshape chains, weight transposes, casts), and
BatchNormalization is folded into the Conv or Gemm that feeds it.

Nothing here builds IR: a folded value is a numpy array the frontend later turns into a parameter
or reads as a shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Attrs = Mapping[str, object]


def _axes(attrs: Attrs, inputs: Sequence[np.ndarray | None], index: int) -> list[int] | None:
    """Axes given as an attribute (older opsets) or as the input ``index`` (opset 13 on)."""
    if len(inputs) > index and inputs[index] is not None:
        return [int(a) for a in np.asarray(inputs[index]).reshape(-1)]
    value = attrs.get("axes")
    return None if value is None else [int(a) for a in value]  # type: ignore[union-attr]


def _squeeze(x: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    axes = _axes(attrs, inputs, 1)
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(a % x.ndim for a in axes))


def unsqueeze_shape(shape: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    rank = len(shape) + len(axes)
    positions = sorted(a % rank for a in axes)
    out = list(shape)
    for a in positions:
        out.insert(a, 1)
    return tuple(out)


def reshape_target(shape: Sequence[int], spec: np.ndarray, allowzero: bool = False) -> tuple[int, ...]:
    """ONNX Reshape's target: 0 copies the input's dimension (unless allowzero), −1 is inferred."""
    size = int(np.prod(shape))
    dims = [int(d) for d in np.asarray(spec).reshape(-1)]
    out = [shape[i] if d == 0 and not allowzero else d for i, d in enumerate(dims)]
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        out[out.index(-1)] = size // known if known else 0
    return tuple(out)


def _slice(x: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    if len(inputs) > 1:
        starts = np.asarray(inputs[1]).reshape(-1)
        ends = np.asarray(inputs[2]).reshape(-1)
        axes = np.asarray(inputs[3]).reshape(-1) if len(inputs) > 3 and inputs[3] is not None else None
        steps = np.asarray(inputs[4]).reshape(-1) if len(inputs) > 4 and inputs[4] is not None else None
    else:
        starts = np.asarray(attrs["starts"])
        ends = np.asarray(attrs["ends"])
        axes = np.asarray(attrs["axes"]) if "axes" in attrs else None
        steps = None
    axes = np.arange(len(starts)) if axes is None else axes
    steps = np.ones(len(starts), dtype=np.int64) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        big = np.iinfo(np.int64).max // 2
        e = None if (st > 0 and e >= big) or (st < 0 and e <= -big) else int(e)
        index[int(a) % x.ndim] = slice(int(s), e, int(st))
    return x[tuple(index)]


def _cast(x: np.ndarray, attrs: Attrs, _: Sequence[np.ndarray | None]) -> np.ndarray:
    from onnx import helper

    return x.astype(helper.tensor_dtype_to_np_dtype(int(attrs["to"])))  # type: ignore[arg-type]


def _gather(x: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    return np.take(x, np.asarray(inputs[1]), axis=int(attrs.get("axis", 0)))  # type: ignore[arg-type]


def _concat(_: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    return np.concatenate([np.asarray(i) for i in inputs], axis=int(attrs["axis"]))  # type: ignore[arg-type]


def _reshape(x: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    return x.reshape(reshape_target(x.shape, np.asarray(inputs[1]), bool(attrs.get("allowzero", 0))))


def _unsqueeze(x: np.ndarray, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    return x.reshape(unsqueeze_shape(x.shape, _axes(attrs, inputs, 1) or []))


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
    def run(x: np.ndarray, _: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray:
        y = np.asarray(inputs[1])
        out = fn(x, y)
        return out.astype(np.result_type(x, y)) if x.dtype.kind in "iu" else out

    return run


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a // b if a.dtype.kind in "iu" and b.dtype.kind in "iu" else a / b


def _flatten(x: np.ndarray, attrs: Attrs, _: Sequence[np.ndarray | None]) -> np.ndarray:
    axis = int(attrs.get("axis", 1)) % max(x.ndim, 1)  # type: ignore[arg-type]
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def _constant_of_shape(x: np.ndarray, attrs: Attrs, _: Sequence[np.ndarray | None]) -> np.ndarray:
    value = attrs.get("value")
    fill = np.zeros(1, dtype=np.float32) if value is None else np.asarray(value).reshape(-1)
    return np.full(tuple(int(d) for d in x.reshape(-1)), fill[0], dtype=fill.dtype)


FOLDERS: Mapping[str, Callable[[np.ndarray, Attrs, Sequence[np.ndarray | None]], np.ndarray]] = {
    "Identity": lambda x, a, i: x,
    "Cast": _cast,
    "Gather": _gather,
    "Concat": _concat,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Slice": _slice,
    "Flatten": _flatten,
    "Transpose": lambda x, a, i: np.transpose(x, a.get("perm")),  # type: ignore[arg-type]
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "Neg": lambda x, a, i: -x,
    "Sqrt": lambda x, a, i: np.sqrt(x),
    "ConstantOfShape": _constant_of_shape,
}


def fold(op_type: str, attrs: Attrs, inputs: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """The value of a node whose inputs are all constants, or None when it cannot be folded."""
    fn = FOLDERS.get(op_type)
    if fn is None or not inputs or inputs[0] is None:
        return None
    return np.asarray(fn(np.asarray(inputs[0]), attrs, inputs))


def batchnorm_scale_shift(
    gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """BatchNormalization (inference) as y = x · scale + shift per channel, in float64."""
    scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
    shift = np.asarray(beta, np.float64) - np.asarray(mean, np.float64) * scale
    return scale, shift
