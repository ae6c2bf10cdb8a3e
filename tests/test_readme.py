"""The README's Python example runs as written: compile → predict → build (Uno) → simulate (accelerator)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tools import require_tool

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_example() -> str:
    text = README.read_text()
    section = text[text.index("### From Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for tool in ("avr-gcc", "simavr", "iverilog"):
        require_tool(tool)
    pytest.importorskip("cocotb_tools")
    code = _python_example()
    assert "cm.build(" in code and "cm.simulate(" in code and "hlsfix.compile(" in code
    scope: dict = {"OUT": tmp_path}
    exec(compile(code, str(README), "exec"), scope)
    uno, sim = scope["uno"], scope["sim"]
    assert uno.bit_exact is True and uno.cycles > 0 and uno.resources["flash_bytes"] > 0
    assert (
        sim.bit_exact is True and sim.report["rtl"]["lanes"] == 2 and sim.report["rtl"]["checked_inputs"] == 5
    )
    assert (tmp_path / "mlp-uno" / "report.html").is_file() and (
        tmp_path / "mlp-sim" / "hlsfix.toml"
    ).is_file()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("fixed-point accuracy: 0.97")
    assert printed[1].startswith("True ") and printed[2].startswith("True ")
