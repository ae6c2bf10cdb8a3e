"""A model with a tensor output (a regression) on the Uno (issue 12, "tensor outputs end to end"):
the test firmware bit-exact with the golden model, the sketch built, and the plain-avr-gcc main.c
printing the golden model's integers for its built-in example when run in simavr."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.cli import main
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.program import KernelProgram
from tests.fixedpoint.test_tensor_outputs import REGRESSION, model
from tests.tools import require_tool, tools_required


def write_regression(d: Path) -> Path:
    graph, x = model(REGRESSION)
    (d / "reg.sd").write_text(REGRESSION)
    np.savez(d / "w.npz", **{k: graph.weights[k] for k in ("W1", "b1", "W2")})
    y = hlsfix.compile(graph, x).predict_float(x).reshape(len(x), -1)
    np.savez(d / "d.npz", X_train=x[:200], y_train=y[:200], X_test=x[200:], y_test=y[200:])
    return d / "reg.sd"


def first_uart_line(elf: Path) -> str:
    """Run ``elf`` in simavr for a few seconds of wall time; the first line it wrote on UART0."""
    proc = subprocess.run(
        ["timeout", "5", "simavr", "-m", "atmega328p", "-f", "16000000", str(elf)],
        capture_output=True,
        text=True,
        check=False,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stderr)  # simavr colours the UART's lines, on stderr
    lines = [line.rstrip(".") for line in text.splitlines()]
    return lines[0] if lines else ""


@pytest.mark.parametrize("bits", ["16", "8"])
def test_a_regression_model_builds_for_the_uno_bit_exact(bits: str, tmp_path: Path) -> None:
    for tool in ("avr-gcc", "avr-size", "gcc", "make", "simavr"):
        require_tool(tool)
    sd = write_regression(tmp_path)
    out = tmp_path / "out"
    argv = ["build", str(sd), "--weights", str(tmp_path / "w.npz"), "--data", str(tmp_path / "d.npz")]
    assert main([*argv, "--board", "arduino-uno", "--bits", bits, "-q", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    mcu = report["mcu"]
    assert mcu["bit_exact"] is True and mcu["checked_inputs"] == 20
    assert mcu["input_cycles"] > 0 and mcu["cycles_float"] > mcu["cycles"]
    if tools_required():
        assert mcu["sketch_flash_bytes"] > 0, mcu["sketch_note"]
    assert report["accuracy"]["sqnr_db"] > (25 if bits == "8" else 50)
    ino = (out / "sketch" / "m_reg" / "m_reg.ino").read_text()
    assert "hlsfix_predict_float(x, out)" in ino and "class" not in ino

    # main.c (plain avr-gcc, no Arduino core) prints the golden integers of its built-in example
    proc = subprocess.run(["make", "-C", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    program = KernelProgram.load(out)  # the program the build wrote and checked
    x0 = np.load(tmp_path / "d.npz")["X_test"][:1].astype(np.float32).astype(np.float64)
    want = run_golden(program, quantize_input(program, x0)).output.reshape(-1)
    assert first_uart_line(out / "m_reg.elf") == "output " + " ".join(str(int(v)) for v in want)
