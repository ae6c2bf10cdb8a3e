"""The command line: output, reports, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hlsfix.cli import main
from hlsfix.ir.interp import run_float
from hlsfix.zoo import load_model


def test_info_reports_macs_and_sparsity(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "protonn"]) == 0
    out = capsys.readouterr().out
    g = load_model("protonn").graph
    nnz = int(np.count_nonzero(g.weights["W"]))
    # ProtoNN per inference: the sparse projection (nnz), then for each of 20 prototypes D^T D
    # (16), the scalar product with gamma (1) and Z[j] * s (10).
    assert f"MACs per inference: {nnz + 20 * (16 + 1 + 10)}" in out
    assert f"sparse: {nnz}/1024 non-zero" in out
    assert "output: class index" in out


def test_eval_prints_accuracy_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "mlp"]) == 0
    m = load_model("mlp")
    expected = np.mean(run_float(m.graph, m.data.x_test) == m.data.y_test)
    assert f"accuracy: {expected:.4f}" in capsys.readouterr().out.splitlines()


def test_eval_with_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = load_model("mlp")
    f = tmp_path / "d.npz"
    np.savez(
        f,
        X_train=m.data.x_train[:5],
        y_train=m.data.y_train[:5],
        X_test=m.data.x_test[:10],
        y_test=np.zeros(10, dtype=np.int64),
    )
    assert main(["eval", "mlp", "--data", str(f)]) == 0
    expected = np.mean(run_float(m.graph, m.data.x_test[:10]) == 0)
    assert f"accuracy: {expected:.4f}" in capsys.readouterr().out


def test_compile_writes_program_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["compile", "bonsai-binary", "--bits", "16", "-q", "-o", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"program.json", "constants.npz", "report.md", "report.json"} <= names
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == "bonsai-binary" and report["bits"] == "16"
    assert set(report["accuracy"]) >= {"float", "fixed", "split", "n"}
    assert abs(report["accuracy"]["float"] - report["accuracy"]["fixed"]) <= 0.01
    assert "## Kernels" in (out / "report.md").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging left


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["info", "nosuch"], "model must be a zoo name"),
        (["info", "missing.sd"], "or an existing .sd file"),
        (["compile", "protonn", "--data", "/no/such.npz", "-o", "OUT"], "data file must exist"),
    ],
)
def test_user_errors_are_one_line_with_status_2(
    argv: list[str], fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hlsfix: error: ") and fragment in err
    assert not (tmp_path / "OUT").exists()


def test_sd_syntax_error_names_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sd = tmp_path / "m.sd"
    sd.write_text("let X = (2, 1) in [0, 1] in\nlet W = (2, 2) in [-1, 1] in\nW * * X\n")
    np.savez(tmp_path / "m.npz", W=np.eye(2))
    assert main(["info", str(sd)]) == 2
    err = capsys.readouterr().err
    assert f"{sd}:3:5:" in err
