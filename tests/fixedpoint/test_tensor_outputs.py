"""Tensor outputs end to end (issue 12, defect 3): ``hlsfix.compile`` explores by a tensor metric,
the golden model's outputs track float's, the backends reproduce them, and a tensor-valued ``?:``
is refused by the accelerator with a CompileError (the C and HLS backends run it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.errors import CompileError, HlsfixError
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.frontend.seedot import parse_program
from tests.random_programs.backends import check
from tests.tools import tools_required

REGRESSION = (
    "let X = (6, 1) in [-2, 2] in\n"
    "let W1 = (8, 6) in [-1, 1] in\nlet b1 = (8, 1) in [-1, 1] in\n"
    "let W2 = (3, 8) in [-1, 1] in\n"
    "W2 * tanh(W1 * X + b1)\n"  # a 3-value regression output
)
AUTOENCODER = (
    "let X = (6, 1) in [-2, 2] in\n"
    "let E = (2, 6) in [-1, 1] in\nlet D = (6, 2) in [-1, 1] in\n"
    "D * relu(E * X)\n"
)


def model(text: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    shapes = {"W1": (8, 6), "b1": (8, 1), "W2": (3, 8), "E": (2, 6), "D": (6, 2)}
    weights = {k: rng.uniform(-1, 1, size=v) for k, v in shapes.items() if f"let {k} =" in text}
    graph = parse_program(text, weights, name="reg")
    return graph, rng.uniform(-2, 2, size=(300, 6, 1))


@pytest.mark.parametrize("metric", ["sqnr", "max_rel_err"])
@pytest.mark.parametrize("text", [REGRESSION, AUTOENCODER], ids=["regression", "autoencoder"])
def test_compile_explores_a_tensor_output_by_its_metric(text: str, metric: str) -> None:
    graph, x = model(text)
    cm = hlsfix.compile(graph, x, metric=metric)  # type: ignore[arg-type]
    assert cm.metric == metric and not cm.output_is_class
    q = cm.quality(x)
    assert q["sqnr_db"] > 50.0 and q["max_rel_err"] < 0.05
    assert cm.predict_real(x).shape == (len(x), graph.output_type.size)
    cm8 = hlsfix.compile(graph, x, bits="8", metric=metric)  # type: ignore[arg-type]
    assert cm8.quality(x)["sqnr_db"] < q["sqnr_db"]  # 8 bits: coarser, still scored


def test_the_default_metric_of_a_tensor_output_is_sqnr_and_class_metrics_are_refused() -> None:
    graph, x = model(REGRESSION)
    assert hlsfix.compile(graph, x).metric == "sqnr"
    with pytest.raises(CompileError, match="metric of a model with a tensor output must be one of sqnr"):
        hlsfix.compile(graph, x, metric="red_disagree")
    with pytest.raises(CompileError, match="metric sqnr needs a model with a tensor output"):
        hlsfix.compile("mlp", metric="sqnr")  # type: ignore[arg-type]


@pytest.mark.parametrize("min_sqnr", [38.0, 45.0])
def test_mixed_widths_of_a_tensor_output_keep_the_sqnr_floor(min_sqnr: float) -> None:
    """The mixed search demotes to 8 bits while the training rows' SQNR stays at the floor: a low
    floor buys more bytes than a high one, and both lie between the 8- and 16-bit programs."""
    graph, x = model(REGRESSION)
    c16, c8 = hlsfix.compile(graph, x), hlsfix.compile(graph, x, bits="8")
    cm = hlsfix.compile(graph, x, bits="mixed", min_sqnr=min_sqnr)
    assert cm.quality(x)["sqnr_db"] >= min_sqnr
    assert c8.program.const_bytes() <= cm.program.const_bytes() < c16.program.const_bytes()
    assert c8.quality(x)["sqnr_db"] < min_sqnr  # so the floor is what stopped the demotion
    if min_sqnr == 38.0:  # the 8-bit program rounds (round_out): 36 dB
        higher = hlsfix.compile(graph, x, bits="mixed", min_sqnr=45.0)
        assert cm.program.const_bytes() < higher.program.const_bytes()
    by_rel = hlsfix.compile(graph, x, bits="mixed", metric="max_rel_err", max_rel_err=0.2)
    assert by_rel.quality(x)["max_rel_err"] <= 0.2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bits": "mixed", "budget_pp": 1.0}, "budget_pp applies to a model with a class output"),
        ({"bits": "mixed", "max_rel_err": 0.1}, "max_rel_err needs metric max_rel_err, not sqnr"),
        ({"bits": "16", "min_sqnr": 40.0}, "--min-sqnr applies to --bits mixed only"),
    ],
)
def test_mixed_bounds_that_do_not_fit_the_output_are_refused(kwargs: dict, message: str) -> None:
    graph, x = model(REGRESSION)
    with pytest.raises(HlsfixError, match=message):
        hlsfix.compile(graph, x, **kwargs)


def test_a_tensor_bound_on_a_class_output_is_refused() -> None:
    with pytest.raises(CompileError, match="min_sqnr needs a model with a tensor output"):
        hlsfix.compile("mlp", bits="mixed", min_sqnr=40.0)


def test_a_compiled_tensor_output_is_bit_exact_in_c_and_hls(tmp_path: Path) -> None:
    graph, x = model(REGRESSION)
    cm = hlsfix.compile(graph, x)
    x_q = quantize_input(cm.program, x[:40])
    for backend in ("host", "hls"):
        v = check(cm.program, x_q, tmp_path, backend)
        if v.outcome == "skipped" and not tools_required():
            continue
        assert v.outcome == "ok", v.message


def test_the_accelerator_refuses_a_tensor_conditional_with_a_compile_error() -> None:
    from hlsfix.rtl.microcode import compile_image

    text = "let X = (4, 1) in [-1, 1] in\nlet W = (3, 4) in [-1, 1] in\nX[0:+1] >= 0 ? W * X : -(W * X)\n"
    graph = parse_program(text, {"W": np.full((3, 4), 0.5)})
    cm = hlsfix.compile(graph, np.random.default_rng(1).uniform(-1, 1, size=(50, 4, 1)))
    with pytest.raises(HlsfixError, match="conditionals .* of integers, not of tensors"):
        compile_image(cm.program, 1)


def test_hlsfix_compile_writes_regression_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line on a regression model: exploration by sqnr, report.json's accuracy holds
    SQNR and worst relative error against float, and RMSE of float and fixed against the targets."""
    import json

    from hlsfix.cli import main

    graph, x = model(REGRESSION)
    rng = np.random.default_rng(3)
    weights = {k: graph.weights[k] for k in ("W1", "b1", "W2")}
    (tmp_path / "reg.sd").write_text(REGRESSION)
    np.savez(tmp_path / "w.npz", **weights)
    y = hlsfix.compile(graph, x).predict_float(x).reshape(len(x), -1) + rng.normal(0, 0.01, size=(len(x), 3))
    np.savez(tmp_path / "d.npz", X_train=x[:200], y_train=y[:200], X_test=x[200:], y_test=y[200:])
    argv = ["compile", str(tmp_path / "reg.sd"), "--weights", str(tmp_path / "w.npz")]
    assert main([*argv, "--data", str(tmp_path / "d.npz"), "-o", str(tmp_path / "out")]) == 0
    assert "fixed vs float: SQNR" in capsys.readouterr().out
    acc = json.loads((tmp_path / "out" / "report.json").read_text())["accuracy"]
    assert acc["n"] == 100 and acc["sqnr_db"] > 50 and acc["max_rel_err"] < 0.05
    assert abs(acc["rmse_fixed"] - acc["rmse_float"]) < 0.01
    md = (tmp_path / "out" / "report.md").read_text()
    label = "signal-to-quantisation noise, fixed vs float on the test split (100 inputs)"
    assert f"{label}**: {acc['sqnr_db']:.4g} dB" in md


def test_an_8_bit_tensor_output_program_keeps_its_partial_sums_at_8_bits() -> None:
    """explore.widen_sums judges by the scores argmax/sgn reads; a tensor output's SQNR rises with
    any widening, so W1·X (a partial sum: only added to b1) stays 8-bit here."""
    from hlsfix.fixedpoint.scales import partial_sums

    graph, x = model(REGRESSION)
    assert partial_sums(graph)
    cm8 = hlsfix.compile(graph, x, bits="8")
    assert {b.fmt.bits for b in cm8.program.buffers if b.kind == "temp"} == {8}
