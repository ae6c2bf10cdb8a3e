"""``info`` and ``eval``: what a model is, and how accurate its float reference is, as lines of text."""

from __future__ import annotations

import numpy as np

from hlsfix.errors import DataError
from hlsfix.zoo import Model


def model_info(m: Model) -> list[str]:
    """The model's interface, parameters, sparsity, MACs per inference and op counts."""
    g = m.graph
    st = g.stats()
    out = g.output_type
    lines = [
        f"model: {g.name}  ({m.source})",
        f"input: {g.input.name} shape {g.input.shape} range {list(g.input.declared_range)}",
        f"output: {'class index' if out.is_int else 'tensor ' + out.shape_str}"
        + (f"  ({m.meta['output_kind']})" if "output_kind" in m.meta else ""),
        f"parameters: {st.parameters} values, {st.nonzeros} non-zero",
    ]
    for p in g.params:
        sparse = ""
        if p.sparse:
            nnz, size = int(np.count_nonzero(g.weights[p.name])), g.weights[p.name].size
            sparse = f"  sparse: {nnz}/{size} non-zero ({1 - nnz / size:.0%} zeros)"
        lines.append(f"  {p.name:<8} {str(p.shape):<14} range {list(p.declared_range)}{sparse}")
    lines.append(f"MACs per inference: {st.macs}")
    lines.append("ops: " + ", ".join(f"{name} {n}" for name, n in st.op_counts))
    if "onnx" in m.meta or "tflite" in m.meta:  # an imported model: the graph it became, node by node
        from hlsfix.ir.describe import describe, format_info

        if "onnx" in m.meta:
            onnx = m.meta["onnx"]
            lines.append(
                f"imported from ONNX (opset {onnx['opset']}): "
                + ", ".join(f"{k} {n}" for k, n in onnx["onnx_ops"])
            )
        else:
            tfl = m.meta["tflite"]
            kind = "int8 TFLite, as its dequantised float graph" if tfl["dequantized"] else "float TFLite"
            lines.append(f"imported from {kind}: " + ", ".join(f"{k} {n}" for k, n in tfl["operators"]))
        text = format_info(describe(g))
        lines += text[text.index("graph:") : text.index("\nparameters:")].splitlines()
    if m.meta.get("float_test_accuracy") is not None:
        lines.append(f"recorded float test accuracy: {m.meta['float_test_accuracy']:.4f}")
    return lines


def float_accuracy(m: Model) -> tuple[float, int]:
    """The float reference's accuracy on the model's test split, and the split's size."""
    from hlsfix.ir.interp import run_float

    if m.data is None:
        raise DataError("evaluation data must be given with --data FILE.npz (X_test, y_test), not be missing")
    pred = run_float(m.graph, m.data.x_test)
    return float(np.mean(pred == m.data.y_test)), len(m.data.y_test)


def float_evaluation(m: Model) -> list[str]:
    """``eval``'s lines: the float reference's accuracy on the test split for a class output; for a
    tensor output, how close its values come to the targets (SQNR, max relative error — the
    metrics the fixed-point search keeps for tensor outputs)."""
    from hlsfix.fixedpoint.tensor_metric import max_rel_err, sqnr_db
    from hlsfix.ir.interp import run_float

    if m.graph.output_type.is_int:
        accuracy, n = float_accuracy(m)
        return [f"accuracy: {accuracy:.4f}", f"inputs: {n}"]
    if m.data is None:
        raise DataError("evaluation data must be given with --data FILE.npz (X_test, y_test), not be missing")
    n = len(m.data.x_test)
    got = np.asarray(run_float(m.graph, m.data.x_test), dtype=np.float64).reshape(n, -1)
    want = np.asarray(m.data.y_test, dtype=np.float64).reshape(n, -1)
    return [
        f"SQNR against the targets: {sqnr_db(got, want):.1f} dB",
        f"max relative error: {max_rel_err(got, want):.3g}",
        f"inputs: {n}",
    ]
