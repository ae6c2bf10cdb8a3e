"""`hlsfix build --backend hls`: the HLS project and its report, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hlsfix.cli import main
from tests.tools import require_tool


def test_build_backend_hls_writes_a_checked_project(tmp_path: Path) -> None:
    require_tool("g++")
    out = tmp_path / "out"
    argv = ["build", "bonsai-binary", "--board", "arty-a7", "--backend", "hls", "--interface", "axis", "-q"]
    assert main([*argv, "-o", str(out)]) == 0
    hls = json.loads((out / "report.json").read_text())["hls"]
    assert hls["bit_exact"] is True and hls["checked_inputs"] == 143  # the whole breast-cancer test split
    assert hls["interface"] == "axis"
    for name in ("model_top.cpp", "hlsfix_hls_kernels.h", "tb.cpp", "run_hls.tcl"):
        assert (out / "hls" / name).is_file()
    assert "set_part {xc7a35ticsg324-1L}" in (out / "hls" / "run_hls.tcl").read_text()


def test_build_backend_hls_needs_an_fpga_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["build", "mlp", "--board", "arduino-uno", "--backend", "hls", "-o", str(tmp_path / "o")]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--backend applies to an FPGA board, not arduino-uno" in err
    assert not (tmp_path / "o").exists()
