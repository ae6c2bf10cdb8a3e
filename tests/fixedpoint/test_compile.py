"""``hlsfix.compile`` on every zoo model: accuracy against the float model, mixed-width savings,
the report, and one clear error for each kind of bad request."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hlsfix
from hlsfix.errors import CompileError, DataError, HlsfixError
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.program import KernelProgram, walk_kernels
from hlsfix.frontend.seedot import parse_program
from hlsfix.ir.interp import run_float


@pytest.fixture(scope="module", params=hlsfix.ZOO_NAMES)
def zoo(request):
    name = request.param
    model = hlsfix.load_model(name)
    d = model.data
    assert d is not None
    float_test = float(np.mean(run_float(model.graph, d.x_test) == d.y_test))
    float_train = float(np.mean(run_float(model.graph, d.x_train) == d.y_train))
    return {
        "name": name,
        "model": model,
        "float_test": float_test,
        "float_train": float_train,
        "c16": hlsfix.compile(name, bits="16"),
        "mixed": hlsfix.compile(name, bits="mixed"),
    }


def test_16_bit_test_accuracy_within_1pp_of_float(zoo):
    cm = zoo["c16"]
    x, y = cm.test
    assert cm.program.bits == "16"
    assert all(b.fmt.bits == 16 for b in cm.program.buffers if b.kind != "const" or b.fmt.frac != 0)
    acc = cm.accuracy(x, y)
    assert acc >= zoo["float_test"] - 0.01, (acc, zoo["float_test"])
    # predict is the golden model on the quantised input, independently re-run here
    direct = run_golden(cm.program, quantize_input(cm.program, x)).output
    assert np.array_equal(cm.predict(x), direct)


def test_mixed_saves_weights_within_the_budget(zoo):
    c16, mixed = zoo["c16"], zoo["mixed"]
    d = zoo["model"].data
    w16, wmix = c16.program.const_bytes(), mixed.program.const_bytes()
    assert mixed.program.bits == "mixed"
    assert wmix <= w16
    if w16 > 1024:
        assert wmix <= 0.7 * w16, (wmix, w16)
    # the budget (1 pp by default) is on training accuracy against float training accuracy
    train = mixed.accuracy(d.x_train, d.y_train)
    assert train >= zoo["float_train"] - 0.01 - 1e-12, (train, zoo["float_train"])
    # const bytes are what the buffers say: recount from the constants themselves
    recount = sum(
        mixed.program.constants[b.name].size * b.fmt.bits // 8
        for b in mixed.program.buffers
        if b.kind == "const"
    )
    assert recount == wmix


def test_saturations_cover_every_kernel(zoo):
    cm = zoo["c16"]
    x, _ = cm.test
    res = cm.golden(x)
    assert len(res.saturations) == len(list(walk_kernels(cm.program.kernels)))


def test_program_round_trips_through_save(zoo, tmp_path):
    cm = zoo["c16"]
    cm.program.save(tmp_path)
    q = KernelProgram.load(tmp_path)
    x, _ = cm.test
    a = run_golden(cm.program, quantize_input(cm.program, x))
    b = run_golden(q, quantize_input(q, x))
    assert np.array_equal(a.output, b.output)
    assert a.saturations == b.saturations


def test_program_format_names_rounding_and_load_refuses_other_formats(tmp_path):
    """A program whose kernels round is written as format /3, so that a reader without round_out
    refuses it by name instead of misreading it; one without keeps /2. An unknown format is one
    ModelError naming what it is, not a KeyError halfway through decoding."""
    rounding = hlsfix.compile("protonn", bits="8").program
    assert any(getattr(k, "round_out", False) for k in rounding.walk())
    plain = hlsfix.compile("protonn", bits="16").program
    assert json.loads(rounding.to_json())["format"] == "hlsfix-kernel-program/3"
    assert json.loads(plain.to_json())["format"] == "hlsfix-kernel-program/2"
    rounding.save(tmp_path)
    assert KernelProgram.load(tmp_path) == rounding
    doc = json.loads((tmp_path / "program.json").read_text())
    doc["format"] = "hlsfix-kernel-program/9"
    (tmp_path / "program.json").write_text(json.dumps(doc))
    with pytest.raises(HlsfixError, match="not 'hlsfix-kernel-program/9'"):
        KernelProgram.load(tmp_path)


# ---------------------------------------------------------------------------------------------
# 8-bit report


@pytest.fixture(scope="module")
def report8(tmp_path_factory):
    cm = hlsfix.compile("mlp", bits="8")
    out = tmp_path_factory.mktemp("mlp8")
    returned = cm.save(out).report
    return cm, out, returned


def test_8_bit_report(report8):
    cm, out, returned = report8
    report = json.loads((out / "report.json").read_text())
    assert report == json.loads(json.dumps(returned))
    assert report["model"] == "mlp"
    assert report["bits"] == "8"
    x, y = cm.test
    acc = report["accuracy"]
    assert acc["n"] == len(y) and acc["split"] == "test"
    assert acc["fixed"] == pytest.approx(float(np.mean(cm.predict(x) == y)))
    assert acc["float"] == pytest.approx(float(np.mean(run_float(cm.graph, x) == y)))
    # per-kernel saturations: one row per kernel, counts equal to the golden model's on the test set
    sats = run_golden(cm.program, quantize_input(cm.program, x)).saturations
    kernels = report["kernels"]
    assert len(kernels) == len(sats)
    assert [k["saturations"] for k in kernels] == list(sats)
    assert all("kernel" in k for k in kernels)
    md = (out / "report.md").read_text()
    assert "accuracy on the test split" in md and f"fixed {acc['fixed']:.4f}" in md
    assert (out / "program.json").exists() and (out / "constants.npz").exists()


# ---------------------------------------------------------------------------------------------
# Bad requests: one clear error each


@pytest.fixture(scope="module")
def mlp():
    return hlsfix.load_model("mlp")


def test_calibration_of_the_wrong_shape(mlp):
    with pytest.raises(DataError, match="calibration data: input rows must have 64 values"):
        hlsfix.compile(mlp.graph, np.zeros((10, 63)))


def test_calibration_empty(mlp):
    with pytest.raises(DataError, match="calibration data must hold at least one row"):
        hlsfix.compile(mlp.graph, np.zeros((0, 64)))


def test_calibration_with_nan(mlp):
    x = mlp.data.x_train[:20].copy()
    x[3, 5] = np.nan
    with pytest.raises(DataError, match="must be finite"):
        hlsfix.compile(mlp.graph, x)


def test_labels_of_the_wrong_length(mlp):
    x = mlp.data.x_train[:20]
    with pytest.raises(DataError, match=r"labels must be one per calibration row \(20\)"):
        hlsfix.compile(mlp.graph, x, np.zeros(19, dtype=np.int64))


def test_no_calibration_for_a_graph(mlp):
    with pytest.raises(DataError, match="calibration data must be given"):
        hlsfix.compile(mlp.graph)


def test_unknown_metric():
    with pytest.raises(
        HlsfixError, match="--metric must be one of acc, disagree, red_disagree, sqnr, max_rel_err, not 'f1'"
    ):
        hlsfix.compile("mlp", metric="f1")  # type: ignore[arg-type]


def test_unknown_bits():
    with pytest.raises(HlsfixError, match="--bits must be one of 8, 16, 32, mixed, not '12'"):
        hlsfix.compile("mlp", bits="12")  # type: ignore[arg-type]


def test_negative_budget():
    with pytest.raises(HlsfixError, match="--budget-pp must be a finite number ≥ 0, not -1.0"):
        hlsfix.compile("mlp", bits="mixed", budget_pp=-1.0)


def test_range_that_cannot_be_represented():
    text = "let X = (2, 1) in [-1, 1] in let W = (2, 2) in [-1e13, 1e13] in argmax(W * X)"
    graph = parse_program(text, {"W": np.array([[1e12, -1e12], [3.0, 4.0]])})
    x = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    with pytest.raises(CompileError, match="below 2\\^40"):
        hlsfix.compile(graph, x)


@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_computed_range_that_cannot_be_represented():
    text = "let X = (2, 1) in [-1, 1] in let W = (2, 2) in [-10, 10] in argmax(exp(W * (W * (W * X))) )"
    graph = parse_program(text, {"W": np.array([[10.0, 10.0], [9.0, -10.0]])})
    x = np.random.default_rng(0).uniform(0.5, 1, (20, 2))
    with pytest.raises(CompileError, match="must be finite and below 2\\^40"):
        hlsfix.compile(graph, x)


def test_weight_budget_that_cannot_be_met():
    with pytest.raises(CompileError, match="weights must fit the budget of 10 bytes"):
        hlsfix.compile("mlp", bits="mixed", weight_budget=10)


def test_a_model_with_a_tensor_output_compiles_by_sqnr():
    """Issue 12, defect 3: a tensor output used to be refused; it is explored by a tensor metric."""
    text = "let X = (2, 1) in [-1, 1] in let W = (2, 2) in [-1, 1] in W * X"
    graph = parse_program(text, {"W": np.eye(2)})
    cm = hlsfix.compile(graph, np.random.default_rng(0).uniform(-1, 1, size=(20, 2)))
    assert cm.metric == "sqnr" and cm.quality(np.full((1, 2), 0.5))["max_rel_err"] < 1e-3
