"""The ONNX frontend: an .onnx model (opset 11 or later) → ``ir.Graph``, the IR the SeeDot language
produces, with the same ops — so every backend, the golden model and ``export_sd`` take it as is.

How the import goes:

- Only the nodes the chosen output depends on are imported (a float tensor output is preferred:
  scikit-learn's label/ZipMap branches and PyTorch's shape bookkeeping fall away).
- Nodes whose inputs are all known constants are folded in numpy (``onnx_fold``): PyTorch's
  Shape → Gather → Concat → Reshape chains become a fixed shape. A BatchNormalization fed by a Conv
  or Gemm is folded into its weights.
- 4-D activations are held NHWC (the IR's convolution layout); each value remembers whether it is,
  and is permuted back to ONNX's NCHW only where an op needs it (Flatten, Reshape, Gemm …).
- Softmax and LogSoftmax are accepted only on the way to the output: they do not change the class,
  so the graph ends in ``argmax`` of their input (``classify=True``; over many rows, the argmax of
  each row along their axis) or in that input itself. Their values are not computed: that takes a
  division by a computed sum (and a log), which a power-of-two fixed-point program does not have.
- Integer-typed data are values: the graph computes them as reals, and ``OnnxImport.cast`` gives
  the output's ONNX type (integer Div truncated toward zero, so only at the output; wrap-around).
- Ops with no IR op of their own are written in existing ones: ArgMax along an axis as a ``$`` over
  rows (``onnx_ops.argmax_rows``), 3-D and dilated pooling and Pad's modes one axis at a time
  (``onnx_axes``).

The import's state lives in ``onnx_importer``; nodes are converted by ``onnx_ops`` (elementwise,
dense, shapes, scikit-learn's classifiers) and ``onnx_window`` (convolution, pooling, batch norm,
Pad, ReduceMean). An operator outside ``SUPPORTED`` is one ``ModelError`` naming the node, its op
type and the supported list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.errors import ModelError
from hlsfix.frontend.onnx_fold import batchnorm_scale_shift, fold
from hlsfix.frontend.onnx_importer import Importer, Val, attributes, c_identifier
from hlsfix.frontend.onnx_ops import argmax_axis
from hlsfix.frontend.onnx_window import convert
from hlsfix.ir import ops
from hlsfix.ir.graph import Graph
from hlsfix.ir.types import InputSpec, real

if TYPE_CHECKING:
    import onnx

INPUT_NAME = "X"  # as in SeeDot, so that an exported .sd reads back with the same input name
MIN_OPSET = 11
# Operators computed by the model (the list), and those only ever folded at import.
COMPUTED = (
    "Add", "ArgMax", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "Div", "Dropout",
    "Exp", "Flatten", "Gemm", "GlobalAveragePool", "HardSigmoid", "Identity", "LeakyRelu",
    "LogSoftmax", "MatMul", "MaxPool", "Mul", "Neg", "Pad", "ReduceMean", "Relu", "Reshape", "Sigmoid",
    "Softmax", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
)  # fmt: skip
FOLDED_ONLY = ("Constant", "ConstantOfShape", "Gather", "Shape", "Slice", "Sqrt")
ML_DOMAIN = "ai.onnx.ml"
ML_OPS = ("LinearClassifier", "Normalizer")  # scikit-learn's linear models through skl2onnx
SUPPORTED = tuple(sorted(set(COMPUTED) | set(FOLDED_ONLY) | {"Cast"})) + tuple(
    f"{ML_DOMAIN}.{o}" for o in ML_OPS
)


class ConstantOutput(ModelError):
    """The chosen output does not depend on the input (e.g. an inference Dropout's all-true mask):
    nothing to compile. ``value`` is the constant, folded at import."""

    def __init__(self, message: str, value: np.ndarray) -> None:
        super().__init__(message)
        self.value = value


@dataclass(frozen=True)
class OnnxImport:
    """The imported graph, and which ONNX tensor its result (or the argmax's operand) is."""

    graph: Graph
    output: str  # the ONNX output imported
    scores: str  # ONNX name of the tensor the graph returns, or whose argmax it returns
    post: tuple[str, ...]  # monotone steps from scores to output ("softmax", "logistic", "l1" …)
    opset: int
    onnx_ops: tuple[tuple[str, int], ...]  # op type → count among the imported nodes
    folded: int  # nodes folded at import (shape chains, BatchNorms, constants)
    output_dtype: str = "float32"  # numpy name of the ONNX output's element type

    def cast(self, values: np.ndarray) -> np.ndarray:
        """The float reference's output as the ONNX output's element type (``onnx_cast``)."""
        return onnx_cast(values, self.output_dtype)


def onnx_cast(values: np.ndarray, dtype: str) -> np.ndarray:
    """Real values as ONNX element type ``dtype``. For an integer type: each value snapped to the
    integer it equals up to float64 rounding (a quotient x · (1/c) may land 1 ulp below x / c),
    then truncated toward zero — ONNX's integer Div (C's), the only integer op whose exact result
    is not an integer — and wrapped into the type's range as ONNX's integer Add/Sub/Mul wrap (the
    same modulo 2^bits whether wrapped at each step or once at the end). Floats pass through.
    (Only the float reference is cast: the fixed-point program saturates, it never wraps.)"""
    v = np.asarray(values, dtype=np.float64)
    kind = np.dtype(dtype)
    if kind.kind not in "iu":
        return v
    near = np.round(v)
    v = np.trunc(np.where(np.abs(v - near) <= 1e-9 * np.maximum(1.0, np.abs(v)), near, v))
    if kind.itemsize < 8:  # wrap around as ONNX's integer arithmetic does (exact for +, −, ×)
        lo, span = int(np.iinfo(kind).min), 1 << (8 * kind.itemsize)
        v = np.mod(v.astype(np.int64) - lo, span) + lo
    return v.astype(dtype)


def _load(source: str | Path | bytes | onnx.ModelProto) -> onnx.ModelProto:
    try:
        import onnx
    except ImportError:
        raise ModelError(
            "reading an ONNX model needs the onnx package, not its absence: pip install 'hlsfix[onnx]'"
        ) from None

    if isinstance(source, onnx.ModelProto):
        return source
    try:
        if isinstance(source, bytes):
            return onnx.load_from_string(source)
        return onnx.load(str(source))
    except FileNotFoundError:
        raise ModelError(f"ONNX model file must exist, not be missing: {source}") from None
    except Exception as e:  # noqa: BLE001 - protobuf raises several kinds on a corrupt file
        raise ModelError(f"ONNX model must be a readable .onnx file, not {source} ({e})") from None


def _opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 0


def _fold_batchnorms(model: onnx.ModelProto, consts: dict[str, np.ndarray]) -> tuple[list, int]:
    """Nodes with each Conv/Gemm → BatchNormalization pair merged into the Conv/Gemm."""
    from onnx import helper

    nodes = list(model.graph.node)
    uses = Counter(i for n in nodes for i in n.input)
    uses.update(o.name for o in model.graph.output)
    producer = {o: n for n in nodes for o in n.output}
    drop: set[int] = set()
    replace: dict[int, onnx.NodeProto] = {}
    for bn in nodes:
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1:
            continue
        src = producer.get(bn.input[0])
        stats = [consts.get(i) for i in bn.input[1:5]]
        if src is None or uses[bn.input[0]] != 1 or any(s is None for s in stats):
            continue
        if src.op_type not in ("Conv", "Gemm") or consts.get(src.input[1]) is None:
            continue
        a = attributes(src)
        if src.op_type == "Gemm" and (a.get("transA", 0) or float(a.get("alpha", 1.0)) != 1.0):  # type: ignore[arg-type]
            continue
        scale, shift = batchnorm_scale_shift(*stats, float(attributes(bn).get("epsilon", 1e-5)))  # type: ignore[arg-type]
        w = consts[src.input[1]].astype(np.float64)
        bias = consts.get(src.input[2]) if len(src.input) > 2 else None
        beta = float(a.get("beta", 1.0)) if src.op_type == "Gemm" else 1.0  # type: ignore[arg-type]
        bias = np.zeros(len(scale)) if bias is None else np.broadcast_to(bias * beta, (len(scale),))
        if src.op_type == "Conv":
            w = w * scale.reshape(-1, *([1] * (w.ndim - 1)))
        else:
            w = w * (scale[:, None] if a.get("transB", 0) else scale[None, :])
        wname, bname = bn.output[0] + "__folded_w", bn.output[0] + "__folded_b"
        consts[wname], consts[bname] = w, bias * scale + shift
        attrs = {k: v for k, v in a.items() if k != "beta"}
        new = helper.make_node(src.op_type, [src.input[0], wname, bname], [bn.output[0]], src.name, **attrs)
        replace[id(src)] = new
        drop.add(id(bn))
    out = [replace.get(id(n), n) for n in nodes if id(n) not in drop]
    return out, len(drop)


def _needed(nodes: list, output: str) -> list:
    producer = {o: n for n in nodes for o in n.output}
    keep: set[int] = set()
    stack = [output]
    while stack:
        n = producer.get(stack.pop())
        if n is None or id(n) in keep:
            continue
        keep.add(id(n))
        stack.extend(i for i in n.input if i)
    return [n for n in nodes if id(n) in keep]


def _choose_output(model: onnx.ModelProto, wanted: str | None = None) -> tuple[str, str]:
    """The output imported (``wanted``, or the first float tensor output) and its numpy dtype."""
    from onnx import TensorProto, helper

    outs = [o for o in model.graph.output if o.type.HasField("tensor_type")]
    floats = [o for o in outs if o.type.tensor_type.elem_type in (TensorProto.FLOAT, TensorProto.DOUBLE)]
    chosen = (floats or outs or [None])[0]
    if wanted is not None:
        chosen = next((o for o in model.graph.output if o.name == wanted), None)
        if chosen is None:
            raise ModelError(f"output must be one of the model's outputs, not {wanted!r}")
    if chosen is None or not chosen.type.HasField("tensor_type"):
        node = next((n for n in model.graph.node for o in model.graph.output if o.name in n.output), None)
        where = f"node {node.name or node.output[0]!r} ({node.op_type}): " if node is not None else ""
        kind = chosen.type.WhichOneof("value") if chosen is not None else "map or sequence"
        raise ModelError(
            f"{where}the model's output must be a tensor, not of type {kind.replace('_type', '')}"
        )
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(chosen.type.tensor_type.elem_type)).name
    return chosen.name, dtype


def _input_spec(model: onnx.ModelProto, consts: Mapping[str, np.ndarray]) -> tuple[str, tuple[int, ...]]:
    inputs = [i for i in model.graph.input if i.name not in consts]
    if len(inputs) != 1:
        raise ModelError(
            f"ONNX model must have one data input, not {len(inputs)} ({', '.join(i.name for i in inputs)})"
        )
    dims = inputs[0].type.tensor_type.shape.dim
    if any(d.HasField("dim_value") and d.dim_value == 0 for d in dims):
        node = next((n for n in model.graph.node if inputs[0].name in n.input), None)
        where = f"node {node.name or node.output[0]!r} ({node.op_type}): " if node is not None else ""
        raise ModelError(
            f"{where}input {inputs[0].name!r} must have no zero-length dimension (an empty tensor), "
            f"not shape {[d.dim_value if d.HasField('dim_value') else '?' for d in dims]}"
        )
    shape = tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in dims)
    return inputs[0].name, shape or (1,)


def import_onnx(
    source: str | Path | bytes | onnx.ModelProto,
    *,
    name: str | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
    classify: bool = True,
    extra_consts: Mapping[str, np.ndarray] | None = None,
    output: str | None = None,
) -> OnnxImport:
    """Import an ONNX model. ``classify`` ends the graph in argmax (the class) unless the chosen
    output is a class already; ``extra_consts`` binds graph inputs to fixed values (node tests);
    ``output`` chooses the output imported (by default the first float tensor output)."""
    from onnx import TensorProto, numpy_helper

    model = _load(source)
    opset = _opset(model)
    if opset < MIN_OPSET:
        raise ModelError(f"ONNX model's opset must be {MIN_OPSET} or later, not {opset}")
    graph_name = name or c_identifier(Path(str(source)).stem if isinstance(source, str | Path) else "onnx")
    imp = Importer(model, graph_name, opset=opset)
    for init in model.graph.initializer:
        imp.consts[init.name] = numpy_helper.to_array(init)
    imp.consts.update(extra_consts or {})
    in_name, in_shape = _input_spec(model, imp.consts)
    imp.b.declare(INPUT_NAME, real(in_shape))
    imp.vals[in_name] = Val(INPUT_NAME)
    in_type = next(i for i in model.graph.input if i.name == in_name).type.tensor_type.elem_type
    if in_type not in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16):
        imp.int_typed.add(in_name)  # integer data are values: computed as reals, cast at the output
    output, output_dtype = _choose_output(model, output)
    nodes, n_bn = _fold_batchnorms(model, imp.consts)
    imp.folded += n_bn
    needed = _needed(nodes, output)
    imp.wanted = {i for n in needed for i in n.input} | {output}
    for node in needed:
        attrs = attributes(node)
        if node.op_type == "Constant":
            imp.consts[node.output[0]] = np.asarray(next(iter(attrs.values())))
            imp.folded += 1
            continue
        ml = node.domain == ML_DOMAIN and node.op_type in ML_OPS
        if not ml and (node.domain not in ("", "ai.onnx") or node.op_type not in SUPPORTED):
            op = f"{node.domain}.{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
            raise ModelError(
                f"node {node.name or node.output[0]!r}: operator must be one of {', '.join(SUPPORTED)}, "
                f"not {op}"
            )
        used = [i for i in node.input if i in imp.truncated]
        if used:
            raise ModelError(
                f"node {node.name or node.output[0]!r} ({node.op_type}): an integer Div's quotient "
                f"{used[0]!r} must be the model's output (truncated toward zero there), "
                "not feed further computation"
            )
        ins = [imp.const(i) for i in node.input]
        if node.op_type == "Shape" and node.input[0] in imp.vals:
            imp.consts[node.output[0]] = np.array(imp.onnx_shape(node.input[0]), dtype=np.int64)
            imp.folded += 1
            continue
        if all(v is not None for v in ins[:1]) and all(
            v is not None for i, v in zip(node.input, ins, strict=True) if i
        ):
            value = fold(node.op_type, attrs, ins)
            if value is not None:
                imp.consts[node.output[0]] = value
                imp.folded += 1
                continue
        try:
            convert(imp, node, attrs)
        except (ops.ShapeMismatch, ModelError) as e:
            text = e.message if isinstance(e, ModelError) else str(e)
            if text.startswith("node "):
                raise
            raise ModelError(f"node {node.name or node.output[0]!r} ({node.op_type}): {text}") from None
        imp.op_counts[node.op_type] += 1
        if node.op_type == "ArgMax" or (node.op_type != "Cast" and node.input[0] in imp.int_typed):
            imp.int_typed.add(node.output[0])
            if node.op_type == "Div":
                imp.truncated.add(node.output[0])
    scores, post = imp.scores_of(output)
    if scores in imp.consts:
        node = next((n for n in model.graph.node if scores in n.output), None)
        where = f"node {node.name or node.output[0]!r} ({node.op_type}): " if node is not None else ""
        raise ConstantOutput(
            f"{where}the model's output {output!r} must depend on its input, not be a constant",
            imp.consts[scores],
        )
    v = imp.vals[scores]
    result = v.ir if imp.b.types[v.ir].is_int else imp.plain(scores)
    if classify and not imp.b.types[result].is_int:
        if scores in imp.class_axis:  # a class decision per row
            axis, flat = imp.class_axis[scores]
            result = argmax_axis(imp, scores, axis, False, False, "class", flatten=flat)
        else:
            result = imp.add(ops.Argmax(result), "class")
    graph = imp.b.finish(
        graph_name, InputSpec(INPUT_NAME, in_shape, input_range), tuple(imp.params), result, imp.weights
    )
    counts = tuple(sorted(imp.op_counts.items()))
    return OnnxImport(graph, output, scores, post, opset, counts, imp.folded, output_dtype)


def load_onnx(path: str | Path, *, input_range: tuple[float, float] = (0.0, 1.0)) -> Graph:
    return import_onnx(path, input_range=input_range).graph
