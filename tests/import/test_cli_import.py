"""The command line takes .onnx models like .sd ones: info shows the imported graph, export-sd
writes a SeeDot program that compiles, and a user's mistake is one line, exit status 2, nothing
written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hlsfix.cli import main
from hlsfix.frontend.seedot import load_program
from hlsfix.ir.interp import run_float
from hlsfix.zoo import ZOO_DIR, load_model

from .onnx_helpers import helper, model

pytest.importorskip("onnx")


@pytest.fixture
def onnx_and_data(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(ZOO_DIR / "torch-dscnn" / "model.onnx", tmp_path / "net.onnx")
    with np.load(ZOO_DIR / "torch-dscnn" / "data.npz") as d:
        np.savez(tmp_path / "digits.npz", X_train=d["X_train"], X_test=d["X_test"])  # no labels
    return tmp_path / "net.onnx", tmp_path / "digits.npz"


def test_info_shows_the_imported_graph(onnx_and_data, capsys) -> None:
    path, data = onnx_and_data
    assert main(["info", str(path), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "imported from ONNX (opset 13)" in out and "MACs per inference: 14624" in out
    assert "= Conv2d(" in out and ": (1, 4, 4, 16)" in out


def test_export_sd_writes_a_program_that_reads_back(onnx_and_data, tmp_path: Path, capsys) -> None:
    path, data = onnx_and_data
    out = tmp_path / "sd"
    assert main(["export-sd", str(path), "--data", str(data), "-o", str(out)]) == 0
    m = load_model(str(path), data=data)
    back = load_program(out / "model.sd", out / "weights.npz")
    assert np.array_equal(run_float(back, m.data.x_test), run_float(m.graph, m.data.x_test))
    exported = load_model(str(out / "model.sd"))  # data.npz beside it, labels from the float model
    assert exported.data is not None and np.array_equal(exported.data.y_test, m.data.y_test)


def test_missing_data_and_unsupported_operator_are_one_line(onnx_and_data, tmp_path: Path, capsys) -> None:
    path, data = onnx_and_data
    assert main(["compile", str(path), "-o", str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hlsfix: error: net.onnx: data must be given (--data FILE.npz") and "\n" not in err
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Erf", ["a"], ["y"], name="gelu_erf")]
    (tmp_path / "erf.onnx").write_bytes(model(nodes, (1, 64), (1, 64)).SerializeToString())
    assert main(["compile", str(tmp_path / "erf.onnx"), "--data", str(data), "-o", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err.strip()
    assert "node 'gelu_erf'" in err and err.endswith("not Erf") and "\n" not in err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
