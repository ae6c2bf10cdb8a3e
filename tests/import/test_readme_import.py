"""The README's "Bring your model" examples run as written (PyTorch → ONNX → hlsfix, scikit-learn
→ ONNX → hlsfix, Keras → TFLite → hlsfix, info and the SeeDot export). They need torch,
scikit-learn and skl2onnx, or TensorFlow, which are development extras: without them the test is
skipped. TensorFlow may live in another environment: ``HLSFIX_TF_PYTHON=/path/to/python`` runs the
Keras block there."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
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
    blocks = [b for b in _blocks() if "tensorflow" not in b and ".tflite" not in b]
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    for code in blocks:
        exec(compile(code, str(README), "exec"), scope)
    fixed, floating = (float(v) for v in capsys.readouterr().out.splitlines()[0].split())
    assert fixed >= floating - 0.02 and floating > 0.9
    assert scope["cm"].accuracy(*scope["cm"].test) > 0.9  # the scikit-learn MLP at 8 bits
    assert (tmp_path / "net-sd" / "model.sd").is_file() and (tmp_path / "net-sd" / "weights.npz").is_file()


@pytest.mark.slow
def test_the_keras_tflite_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hlsfix.flows.int8 import CompiledInt8Model
    from hlsfix.zoo.imported import ZOO_DIR

    keras, use = [b for b in _blocks() if "tensorflow" in b or ".tflite" in b]
    assert "tensorflow as tf" in keras and "net.tflite" in use
    monkeypatch.chdir(tmp_path)
    with np.load(ZOO_DIR / "keras-cnn" / "data.npz") as d:  # what the PyTorch block writes
        np.savez("digits.npz", **{k: d[k] for k in d.files})
    tf_python = os.environ.get("HLSFIX_TF_PYTHON")
    try:
        import tensorflow  # noqa: F401

        exec(compile(keras, str(README), "exec"), {})
    except ImportError:
        if not tf_python:
            pytest.skip("tensorflow is not installed (HLSFIX_TF_PYTHON may name a Python that has it)")
        subprocess.run([tf_python, "-c", keras], check=True, capture_output=True, timeout=600)
    scope: dict = {}
    exec(compile(use, str(README), "exec"), scope)
    cm = scope["cm"]
    accuracy = cm.accuracy(*cm.test)
    assert accuracy > 0.8, accuracy
    assert isinstance(scope["cm8"], CompiledInt8Model)
