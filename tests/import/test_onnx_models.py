"""Whole imported models: the float reference against onnxruntime, the SeeDot export read back,
loading with and without data, compiling an .onnx path, and what ``info`` shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import hlsfix  # noqa: E402
from hlsfix.errors import DataError  # noqa: E402
from hlsfix.frontend.export_sd import export_sd  # noqa: E402
from hlsfix.frontend.onnx_oracle import compare_with_onnxruntime  # noqa: E402
from hlsfix.frontend.seedot import load_program  # noqa: E402
from hlsfix.ir.describe import describe, format_info  # noqa: E402
from hlsfix.ir.interp import run_float  # noqa: E402
from hlsfix.zoo.imported import ONNX_NAMES  # noqa: E402

ZOO = Path(hlsfix.__file__).parent / "zoo"


@pytest.mark.parametrize("name", ONNX_NAMES)
def test_float_reference_agrees_with_onnxruntime(name: str) -> None:
    m = hlsfix.load_model(name)
    assert m.data is not None
    random = np.random.default_rng(3).uniform(-0.5, 1.5, size=(64, m.graph.input.size))
    for x in (m.data.x_test, random):
        a = compare_with_onnxruntime(m.source, x)
        assert a.class_agreement == 1.0
        assert a.max_abs_error < 1e-4  # float32 rounding of onnxruntime against float64
    accuracy = np.mean(run_float(m.graph, m.data.x_test) == m.data.y_test)
    assert round(float(accuracy), 4) == m.meta["float_test_accuracy"]


@pytest.mark.parametrize("name", ONNX_NAMES)
def test_sd_export_reads_back_to_the_same_graph(name: str, tmp_path: Path) -> None:
    m = hlsfix.load_model(name)
    assert m.data is not None
    files = export_sd(m.graph, tmp_path)
    back = load_program(files.program, files.weights, name=name)
    assert [type(n.op) for n in back.walk()] == [type(n.op) for n in m.graph.walk()]
    assert [back.types[n.out] for n in back.walk()] == [m.graph.types[n.out] for n in m.graph.walk()]
    assert [p.shape for p in back.params] == [p.shape for p in m.graph.params]
    assert np.array_equal(run_float(back, m.data.x_test), run_float(m.graph, m.data.x_test))


def test_an_onnx_file_without_data_is_one_data_error(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    shutil.copy(ZOO / "sklearn-logreg" / "model.onnx", path)
    with pytest.raises(DataError) as e:
        hlsfix.load_model(str(path))
    assert "X_train" in str(e.value) and "--data" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(DataError):
        hlsfix.compile(str(path))


def test_data_without_labels_uses_the_float_decisions(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    shutil.copy(ZOO / "sklearn-logreg" / "model.onnx", path)
    with np.load(ZOO / "sklearn-logreg" / "data.npz") as d:
        x_train, x_test = d["X_train"], d["X_test"]
    np.savez(tmp_path / "unlabelled.npz", X_train=x_train * 0.5, X_test=x_test)
    m = hlsfix.load_model(str(path), data=tmp_path / "unlabelled.npz")
    assert m.data is not None and "own decisions" in m.meta["labels"]
    assert np.array_equal(m.data.y_train, run_float(m.graph, x_train * 0.5))
    assert m.graph.input.declared_range == (0.0, 0.5)  # from the data
    np.savez(tmp_path / "bad.npz", X_train=x_train)
    with pytest.raises(DataError, match="X_test"):
        hlsfix.load_model(str(path), data=tmp_path / "bad.npz")


def test_compile_takes_an_onnx_path_and_calibration_data(tmp_path: Path) -> None:
    path = tmp_path / "logreg.onnx"
    shutil.copy(ZOO / "sklearn-logreg" / "model.onnx", path)
    with np.load(ZOO / "sklearn-logreg" / "data.npz") as d:
        x, y, xt, yt = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    cm = hlsfix.compile(str(path), x, y, bits="16")
    assert cm.name == "logreg"
    assert cm.accuracy(xt, yt) >= np.mean(cm.predict_float(xt) == yt) - 0.01


def test_info_shows_ops_shapes_parameters_and_macs() -> None:
    info = describe(hlsfix.load_model("torch-dscnn").graph)
    assert info.output == "class" and info.input_shape == (1, 1, 8, 8)
    assert [n.op for n in info.nodes].count("Conv2d") == 5
    assert [n.shape for n in info.nodes if n.op == "MatMul"] == [(1, 16), (1, 10)]  # pooling, classifier
    assert info.parameters == sum(p.count for p in info.params)
    # conv 3x3 1->8 on 8x8, depthwise 3x3 + pointwise 8->16 and 16->16 on 4x4, pool 16x16, fc 16x10
    assert info.macs == 64 * 9 * 8 + 16 * 9 * 8 + 16 * 8 * 16 + 16 * 9 * 16 + 16 * 16 * 16 + 16 * 16 + 160
    text = format_info(info)
    assert "MACs" in text and "Conv2d" in text and "relu" in text


def test_a_torch_dynamo_export_imports_and_agrees() -> None:
    """PyTorch's default exporter since 2.9 (torch.export, opset 20: ReduceMean for the pooling,
    no shape chains). The file: the DS-CNN of examples/train_onnx_torch.py, untrained (seed 0) with
    random batch-norm statistics, exported by ``torch.onnx.export(m, (x,), dynamo=True)``."""
    path = Path(__file__).parent / "data" / "torch_dynamo_dscnn.onnx"
    x = np.random.default_rng(0).uniform(0, 1, size=(32, 64))
    a = compare_with_onnxruntime(path, x)
    assert a.class_agreement == 1.0 and a.max_abs_error < 1e-4
