"""The README's "Bring your model" examples run as written (PyTorch → ONNX → hlsfix, scikit-learn
→ ONNX → hlsfix, info and the SeeDot export). They need torch, scikit-learn and skl2onnx, which are
development extras: without them the test is skipped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Bring your model") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.slow
def test_bring_your_model_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    for module in ("torch", "sklearn", "skl2onnx", "onnx"):
        pytest.importorskip(module)
    blocks = _blocks()
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    for code in blocks:
        exec(compile(code, str(README), "exec"), scope)
    fixed, floating = (float(v) for v in capsys.readouterr().out.splitlines()[0].split())
    assert fixed >= floating - 0.02 and floating > 0.9
    assert scope["cm"].accuracy(*scope["cm"].test) > 0.9  # the scikit-learn MLP at 8 bits
    assert (tmp_path / "net-sd" / "model.sd").is_file() and (tmp_path / "net-sd" / "weights.npz").is_file()
