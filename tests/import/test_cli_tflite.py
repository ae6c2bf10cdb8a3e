"""The command line takes a float .tflite like an .onnx: info shows the imported graph, export-sd
writes a SeeDot program that reads back, compile writes its reports; ``--input-range`` sets the
input's range and a bad one is refused before anything is read; a user's mistake is one line,
exit status 2, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hlsfix.cli import main
from hlsfix.frontend.seedot import load_program
from hlsfix.ir.interp import run_float
from hlsfix.zoo import ZOO_DIR, load_model

UNSUPPORTED = Path(__file__).parent / "data" / "tflite_unsupported" / "abs.tflite"


@pytest.fixture
def tflite_and_data(tmp_path: Path) -> tuple[Path, Path]:
    shutil.copy(ZOO_DIR / "keras-cnn" / "model.tflite", tmp_path / "net.tflite")
    with np.load(ZOO_DIR / "keras-cnn" / "data.npz") as d:
        np.savez(tmp_path / "digits.npz", X_train=d["X_train"], X_test=d["X_test"])  # no labels
    return tmp_path / "net.tflite", tmp_path / "digits.npz"


def test_info_shows_the_imported_graph(tflite_and_data, capsys) -> None:
    path, data = tflite_and_data
    assert main(["info", str(path), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "imported from float TFLite: ADD 1, AVERAGE_POOL_2D 1, CONV_2D 3, DEPTHWISE_CONV_2D 1" in out
    assert "input: X shape (1, 8, 8, 1) range [0.0, 1.0]" in out and "MACs per inference: 9728" in out


def test_export_sd_writes_a_program_that_reads_back(tflite_and_data, tmp_path: Path) -> None:
    path, data = tflite_and_data
    out = tmp_path / "sd"
    assert main(["export-sd", str(path), "--data", str(data), "-o", str(out)]) == 0
    m = load_model(str(path), data=data)
    assert m.data is not None
    back = load_program(out / "model.sd", out / "weights.npz")
    assert np.array_equal(run_float(back, m.data.x_test), run_float(m.graph, m.data.x_test))


def test_compile_with_an_input_range(tflite_and_data, tmp_path: Path, capsys) -> None:
    path, data = tflite_and_data
    assert main(["info", str(path), "--data", str(data), "--input-range=-0.5,1.5"]) == 0
    assert "range [-0.5, 1.5]" in capsys.readouterr().out
    out = tmp_path / "c"
    assert (
        main(["compile", str(path), "--data", str(data), "--input-range", "0,2", "-o", str(out), "-q"]) == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert report["accuracy"]["fixed"] >= report["accuracy"]["float"] - 0.02


@pytest.mark.parametrize("bad", ["0,nan", "1,0", "inf,2", "0,1,2", "x"])
def test_a_bad_input_range_is_one_line_and_writes_nothing(tflite_and_data, tmp_path, capsys, bad) -> None:
    path, data = tflite_and_data
    out = tmp_path / "o"
    assert main(["compile", str(path), "--data", str(data), f"--input-range={bad}", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"hlsfix: error: --input-range must be LO,HI with finite numbers LO < HI, not {bad!r}"
    assert not out.exists()


def test_missing_data_and_unsupported_operator_are_one_line(tflite_and_data, tmp_path: Path, capsys) -> None:
    path, data = tflite_and_data
    assert main(["compile", str(path), "-o", str(tmp_path / "o1")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("hlsfix: error: net.tflite: data must be given (--data FILE.npz") and "\n" not in err
    )
    x = np.zeros((4, 6), np.float32)
    np.savez(tmp_path / "six.npz", X_train=x, X_test=x)
    assert (
        main(["compile", str(UNSUPPORTED), "--data", str(tmp_path / "six.npz"), "-o", str(tmp_path / "o2")])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("hlsfix: error: operator ABS#") and err.endswith("not ABS") and "\n" not in err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_an_int8_file_stays_on_the_int8_path(capsys) -> None:
    from hlsfix.zoo.int8 import int8_model_path

    assert main(["info", str(int8_model_path("keras_cnn_int8"))]) == 0
    assert "int8 TFLite" in capsys.readouterr().out
