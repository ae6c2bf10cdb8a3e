"""The .tflite flatbuffer as plain data (the ``tflite`` package): tensors with their shapes, types,
quantisation (per tensor or per channel) and constant data; operators with their builtin options."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hlsfix.errors import ModelError

FLOAT32, FLOAT16, INT8, INT32, INT64 = 0, 1, 9, 2, 4  # tflite TensorType codes


@dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: int
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    data: np.ndarray | None
    quantized_dimension: int = 0  # the axis of per-channel scales

    @property
    def scale(self) -> float:
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass(frozen=True)
class OpInfo:
    name: str  # builtin operator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: object | None


def _op_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


def _options(op: object, name: str) -> object | None:
    import tflite

    table = op.BuiltinOptions()  # type: ignore[attr-defined]
    cls = {
        "CONV_2D": tflite.Conv2DOptions,
        "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
        "FULLY_CONNECTED": tflite.FullyConnectedOptions,
        "AVERAGE_POOL_2D": tflite.Pool2DOptions,
        "MAX_POOL_2D": tflite.Pool2DOptions,
        "SOFTMAX": tflite.SoftmaxOptions,
        "ADD": tflite.AddOptions,
        "MUL": tflite.MulOptions,
        "CONCATENATION": tflite.ConcatenationOptions,
        "MEAN": tflite.ReducerOptions,
        "SUB": tflite.SubOptions,
        "DIV": tflite.DivOptions,
        "LEAKY_RELU": tflite.LeakyReluOptions,
    }.get(name)
    if table is None or cls is None:
        return None
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def read_tflite(data: bytes) -> tuple[list[TensorInfo], list[OpInfo], list[int], list[int]]:
    """Tensors, operators, input and output tensor indices of the model's first subgraph."""
    import struct

    try:
        return _read_tflite(data)
    except (IndexError, ValueError, TypeError, AttributeError, struct.error) as e:  # flatbuffers on garbage
        raise ModelError(f"file must be a TFLite flatbuffer, not something else ({type(e).__name__})") from e


def _read_tflite(data: bytes) -> tuple[list[TensorInfo], list[OpInfo], list[int], list[int]]:
    try:
        import tflite
    except ImportError:
        raise ModelError(
            "the tflite package must be installed to read .tflite files: pip install 'hlsfix[tflite]'"
        ) from None

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError("file must be a TFLite flatbuffer (identifier TFL3), not something else")
    model = tflite.Model.GetRootAs(data, 0)
    if model.SubgraphsLength() != 1:
        raise ModelError(f"a .tflite model must have one subgraph, not {model.SubgraphsLength()}")
    sg = model.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        q = t.Quantization()
        scales = tuple(float(s) for s in q.ScaleAsNumpy()) if q is not None and q.ScaleLength() else ()
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q is not None and q.ZeroPointLength() else ()
        buf = model.Buffers(t.Buffer())
        data_arr = None
        if buf is not None and buf.DataLength():
            raw = buf.DataAsNumpy().tobytes()
            dt = {
                INT8: np.int8,
                INT32: np.int32,
                INT64: np.int64,
                FLOAT32: np.float32,
                FLOAT16: np.float16,
            }.get(t.Type())
            if dt is not None:
                data_arr = np.frombuffer(raw, dtype=dt).copy()
        shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        if data_arr is not None and shape:
            data_arr = data_arr.reshape(shape)
        name = t.Name().decode() if t.Name() else f"t{i}"
        qdim = int(q.QuantizedDimension()) if q is not None else 0
        tensors.append(TensorInfo(i, name, shape, t.Type(), scales, zps, data_arr, qdim))
    names = _op_names()
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        oc = model.OperatorCodes(op.OpcodeIndex())
        name = names.get(max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()), "CUSTOM")
        ins = tuple(int(v) for v in op.InputsAsNumpy()) if op.InputsLength() else ()
        outs = tuple(int(v) for v in op.OutputsAsNumpy())
        ops.append(OpInfo(name, ins, outs, _options(op, name)))
    inputs = [int(sg.Inputs(i)) for i in range(sg.InputsLength())]
    outputs = [int(sg.Outputs(i)) for i in range(sg.OutputsLength())]
    return tensors, ops, inputs, outputs
