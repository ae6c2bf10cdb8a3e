"""The onnx package's backend node tests of every covered operator through the float reference:
no case may give a wrong number or crash (a case the importer cannot take is refused with a
one-line ModelError), and the cases that pass today keep passing (the counts are a floor).
``benchmarks/bench_onnx_import.py --node-tests`` prints the table."""

from __future__ import annotations

import pytest

pytest.importorskip("onnx")

from hlsfix.frontend.onnx_oracle import run_node_tests, summary  # noqa: E402

# Cases passed per operator when this test was written (of the cases onnx 1.23 ships).
PASSED_AT_LEAST = {
    "Add": 8, "ArgMax": 16, "AveragePool": 20, "BatchNormalization": 2, "Clip": 12, "Concat": 12,
    "Conv": 6, "Div": 10, "Dropout": 8, "Exp": 2, "Flatten": 9, "Gemm": 11, "GlobalAveragePool": 2,
    "HardSigmoid": 3, "Identity": 1, "LeakyRelu": 3, "LogSoftmax": 7, "MatMul": 7, "MaxPool": 19,
    "Mul": 9, "Neg": 2, "Pad": 6, "ReduceMean": 8, "Relu": 1, "Reshape": 9, "Sigmoid": 2, "Softmax": 7,
    "Squeeze": 2, "Sub": 9, "Tanh": 2, "Transpose": 7, "Unsqueeze": 7,
}  # fmt: skip


@pytest.fixture(scope="module")
def results():
    return run_node_tests()


def test_no_case_is_wrong_or_crashes(results) -> None:
    bad = [(r.name, r.outcome, r.detail) for r in results if r.outcome in ("wrong", "crash")]
    assert not bad


def test_refusals_are_one_line(results) -> None:
    for r in results:
        if r.outcome == "refused":  # naming the node and its op, then the reason
            assert r.detail and "\n" not in r.detail, r.name
            assert r.detail.startswith("node '") and f"({r.op}): " in r.detail, r.detail


def test_passing_cases_do_not_regress(results) -> None:
    table = summary(results)
    for op, floor in PASSED_AT_LEAST.items():
        assert table[op]["pass"] >= floor, f"{op}: {table[op]['pass']} < {floor}"
