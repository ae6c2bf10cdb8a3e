"""Bad .tflite input: one line, exit status 2, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from hlsfix.cli import main
from hlsfix.errors import ModelError
from hlsfix.frontend.tflite import load_tflite_int8
from hlsfix.zoo.int8 import int8_model_path


def _bad_files(tmp: Path) -> list[Path]:
    garbage = tmp / "garbage.tflite"
    garbage.write_bytes(bytes(range(256)) * 4)
    truncated = tmp / "truncated.tflite"
    truncated.write_bytes(int8_model_path("resnet_tiny").read_bytes()[:3000])
    return [garbage, truncated, tmp / "missing.tflite"]


def test_bad_files_are_model_errors(tmp_path: Path) -> None:
    for f in _bad_files(tmp_path):
        with pytest.raises(ModelError):
            load_tflite_int8(f)


def test_cli_prints_one_line_and_exits_2(tmp_path: Path, capsys) -> None:
    for f in _bad_files(tmp_path):
        out = tmp_path / f"out-{f.stem}"
        assert main(["compile", str(f), "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("hlsfix: error:") and "must" in err[0]
        assert not out.exists()
