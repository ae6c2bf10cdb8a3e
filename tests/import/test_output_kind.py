"""An imported model's output is its class or its values: decided from the data's labels (real-valued
targets → values, integer labels or none → class) or by ``--output-kind``. A regression model gets in
with its values checked against onnxruntime and its C bit-exact with the golden model; a Softmax
output asked for as values, and the option on a SeeDot model, are one line each."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.cli import main
from hlsfix.errors import DataError, HlsfixError, ModelError
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.tensor_metric import real_output, sqnr_db
from hlsfix.flows.options import ModelSpec, OptionError
from hlsfix.zoo import load_model

from .backend_checks import assert_host_c_equals_golden
from .onnx_helpers import helper, model, onnx, run_ort

RNG = np.random.default_rng(11)
W1 = (RNG.normal(size=(6, 4)) * 0.5).astype(np.float32)
B1 = (RNG.normal(size=4) * 0.1).astype(np.float32)
W2 = (RNG.normal(size=(4, 2)) * 0.5).astype(np.float32)


def regression(softmax: bool = False) -> onnx.ModelProto:
    """x (1×6) → MatMul, Add, Tanh, MatMul → y (1×2), optionally through a Softmax."""
    last = "s" if softmax else "y"
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Add", ["h", "B1"], ["hb"]),
        helper.make_node("Tanh", ["hb"], ["t"]),
        helper.make_node("MatMul", ["t", "W2"], [last]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["s"], ["y"], axis=1))
    return model(nodes, (1, 6), (1, 2), {"W1": W1, "B1": B1, "W2": W2})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("regression")
    onnx.save(regression(), d / "reg.onnx")
    onnx.save(regression(softmax=True), d / "soft.onnx")
    x = RNG.uniform(-1, 1, size=(240, 6)).astype(np.float32)
    y = run_ort(regression(), x).reshape(len(x), -1)  # targets: the framework's own outputs
    np.savez(d / "targets.npz", X_train=x[:160], y_train=y[:160], X_test=x[160:], y_test=y[160:])
    np.savez(d / "nolabels.npz", X_train=x[:160], X_test=x[160:])
    cls = np.argmax(y, axis=1)
    np.savez(d / "classes.npz", X_train=x[:160], y_train=cls[:160], X_test=x[160:], y_test=cls[160:])
    return {p.stem: p for p in d.iterdir()}


@pytest.mark.parametrize(
    ("data", "asked", "is_class"),
    [
        ("targets", None, False),
        ("classes", None, True),
        ("nolabels", None, True),
        ("nolabels", "values", False),
    ],
)
def test_the_output_kind_follows_the_labels_unless_asked(files, data, asked, is_class) -> None:
    m = load_model(str(files["reg"]), data=files[data], output_kind=asked)
    assert m.graph.output_type.is_int is is_class
    assert m.graph.output_type.shape == (() if is_class else (1, 2))
    assert m.meta["output_kind"].startswith("class" if is_class else "values")


def test_real_targets_for_a_class_output_are_a_data_error(files) -> None:
    with pytest.raises(DataError, match="y_train must be one class per row"):
        load_model(str(files["reg"]), data=files["targets"], output_kind="class")


def test_a_regression_model_compiles_to_its_values(files, tmp_path: Path) -> None:
    """16-bit values close to onnxruntime's (an independent runtime), and host C equal to the
    golden model's integers on every test row."""
    cm = hlsfix.compile(ModelSpec(str(files["reg"]), data=files["targets"]))
    assert not cm.program.output_is_class
    x = cm.test[0]
    want = run_ort(regression(), x).reshape(len(x), -1)
    x_q = quantize_input(cm.program, x)
    golden = run_golden(cm.program, x_q).output
    got = real_output(cm.program, golden)
    assert sqnr_db(got, want) > 50.0
    assert np.max(np.abs(got - want)) < 0.02
    assert_host_c_equals_golden(cm.program, x_q, golden, tmp_path)


def test_values_of_a_softmax_are_refused(files) -> None:
    with pytest.raises(ModelError, match="passes through softmax.*--output-kind class"):
        load_model(str(files["soft"]), data=files["nolabels"], output_kind="values")
    with pytest.raises(ModelError, match="passes through softmax"):  # real targets ask for values too
        load_model(str(files["soft"]), data=files["targets"])
    assert load_model(str(files["soft"]), data=files["nolabels"]).graph.output_type.is_int
    with pytest.raises(ModelError, match="model.tflite: .*passes through softmax"):  # TFLite alike
        load_model("keras-cnn", output_kind="values")


def test_the_option_is_checked(files, capsys) -> None:
    with pytest.raises(OptionError, match="--output-kind must be one of class, values, not 'probs'"):
        ModelSpec(str(files["reg"]), output_kind="probs")
    with pytest.raises(HlsfixError, match="applies to an imported .onnx/.tflite model"):
        load_model("mlp", output_kind="class")
    assert main(["info", "mlp", "--output-kind", "values"]) == 2
    assert "applies to an imported" in capsys.readouterr().err


def test_cli_eval_and_config_of_a_values_model(files, tmp_path: Path, capsys) -> None:
    """eval reports how close a tensor output comes to its targets (not a 0 % 'accuracy'); the
    option asked for is written into hlsfix.toml, and --config of it redoes the same program."""
    assert main(["eval", str(files["reg"]), "--data", str(files["nolabels"]), "--output-kind", "values"]) == 0
    out = capsys.readouterr().out
    assert "SQNR against the targets: inf dB" in out  # no labels: the float model's own values
    assert "accuracy" not in out
    first = tmp_path / "first"
    args = ["compile", str(files["reg"]), "--data", str(files["nolabels"]), "--output-kind", "values"]
    assert main([*args, "-o", str(first)]) == 0
    assert 'output_kind = "values"' in (first / "hlsfix.toml").read_text()
    again = tmp_path / "again"
    assert main(["compile", "--config", str(first / "hlsfix.toml"), "-o", str(again)]) == 0
    assert (again / "program.json").read_text() == (first / "program.json").read_text()
    assert json.loads((again / "program.json").read_text())["output"] != "class"
