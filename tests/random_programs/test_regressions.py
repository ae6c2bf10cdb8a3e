"""Regression tests of issue 12's defect classes 1, 2, 4 and 5 (each failed on the code before its fix).

The programs are the kind the random-program tester shrank its failures to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hlsfix.errors import ModelError
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.seedot import parse_program
from hlsfix.ir.interp import run_float
from tests.random_programs.backends import check
from tests.tools import tools_required


def build(text: str, weights: dict[str, np.ndarray], calib: np.ndarray, bits: int = 16) -> KernelProgram:
    graph = parse_program(text, weights)
    prof = profile(graph, calib)
    return lower(graph, assign_formats(graph, prof, FormatPolicy(bits=bits)), prof, None, str(bits))


def assert_backends_exact(
    program: KernelProgram, x: np.ndarray, work: Path, backends: tuple[str, ...]
) -> None:
    x_q = quantize_input(program, x)
    for backend in backends:
        v = check(program, x_q, work, backend)
        if v.outcome == "skipped" and not tools_required():
            continue
        assert v.outcome == "ok", f"{backend}: {v.outcome} {v.mismatches}/{v.inputs}\n{v.message}"


# ---- 1: conditionals whose lowered threshold does not fit the operand's type --------------

W4 = {
    "W": np.array([[0.5, -0.25, 1.0, 0.75], [-0.5, 0.25, 0.125, -1.0]]),
    "V": np.array([[0.25, -0.5, 0.5], [1.0, 0.5, -0.25]]),
}
HEAD = "let X = (4, 1) in [-1, 1] in\nlet W = (2, 4) in [-1, 1] in\nlet V = (2, 3) in [-1, 1] in\n"


def edge_rows(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, size=(n, 4, 1))
    x[0], x[1], x[2] = -1.0, 1.0, 0.0
    return x


THRESHOLDS = ("2.0", "-2.0", "1e4", "-1e4", "1.0", "-1.0", "0.5")


@pytest.mark.parametrize("bits", [16, 8])
def test_integer_and_tensor_conditionals_at_any_threshold(bits: int, tmp_path: Path) -> None:
    """X's format holds [-1, 1]: ±2.0 lower to qmax + 1 and qmin of its type, ±1e4 beyond them."""
    lets, terms = [], []
    for i, t in enumerate(THRESHOLDS):
        lets.append(f"let k{i} = X[0:+1] >= {t} ? 1 : 0 in")  # an integer condition: a splice start
        lets.append(f"let h{i} = X[0:+1] >= {t} ? relu(W * X) : 0.5 * (W * X) in")  # a tensor condition
        terms += [f"h{i}", f"V * X[k{i}:+3]"]
    text = HEAD + "\n".join(lets) + "\n" + " + ".join(terms) + "\n"
    x = edge_rows()
    program = build(text, W4, x, bits)
    if bits == 16:  # the golden model takes float's branches (8 bits: too coarse to compare)
        out = run_golden(program, quantize_input(program, x)).output
        ref = run_float(parse_program(text, W4), x).reshape(len(x), -1)
        assert np.allclose(out * 2.0 ** -program.buffer(program.output).fmt.frac, ref, atol=0.05)
    assert_backends_exact(program, x, tmp_path, ("host", "avr", "hls"))


# ---- 2: grouped convolution in the C kernels -----------------------------------------------


@pytest.mark.parametrize(("groups", "cout"), [(2, 1), (3, 2)])
def test_grouped_conv2d(groups: int, cout: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(groups * 10 + cout)
    c = 2 * groups
    text = (
        f"let X = (1, 4, 5, {c}) in [-1, 1] in\n"
        f"let F = ({groups}, 2, 2, 2, {cout}) in [-1, 1] in\n"
        "conv2d(X, F, {s 1 2}, {p 1 0 1 1}, {d 1 1}, {g " + str(groups) + "})\n"
    )
    weights = {"F": rng.uniform(-1, 1, size=(groups, 2, 2, 2, cout))}
    x = rng.uniform(-1, 1, size=(30, 1, 4, 5, c))
    program = build(text, weights, x)
    assert_backends_exact(program, x, tmp_path, ("host", "avr", "hls"))


# ---- 4: maxpool whose padding is as large as its kernel ------------------------------------


@pytest.mark.parametrize("pads", ["2 0 0 0", "0 2 0 0", "0 0 2 0", "0 0 0 3"])
def test_maxpool_padding_as_large_as_the_kernel_is_refused_with_its_location(pads: str) -> None:
    text = f"let X = (1, 4, 4, 1) in [0, 1] in\n\nmaxpool(X, {{k 2 2}}, {{p {pads}}}, {{s 1 1}})\n"
    with pytest.raises(ModelError, match=r"paddings of maxpool must be smaller than its 2×2 kernel") as e:
        parse_program(text, {}, filename="m.sd")
    assert str(e.value).startswith("m.sd:3:1: ")


def test_maxpool_padding_below_the_kernel_is_accepted() -> None:
    parse_program("let X = (1, 4, 4, 1) in [0, 1] in\nmaxpool(X, {k 2 2}, {p 1 1 1 1}, {s 1 1})\n", {})


# ---- 5: the declared input range is honoured ------------------------------------------------


def test_inputs_in_the_declared_range_beyond_the_calibration_data_do_not_saturate() -> None:
    text = "let X = (4, 1) in [0, 8] in\nlet W = (3, 4) in [-1, 1] in\nargmax(W * X)\n"
    rng = np.random.default_rng(5)
    weights = {"W": rng.uniform(-1, 1, size=(3, 4))}
    calib = rng.uniform(0.9, 1.1, size=(200, 4, 1))  # the middle of nothing: far below 8
    program = build(text, weights, calib)
    fmt = program.input_buffer.fmt
    assert fmt.qmax * 2.0**-fmt.frac >= 8.0 * (1 - 2**-14)
    test = rng.uniform(0, 8, size=(500, 4, 1))
    test[0] = 8.0
    x_q = quantize_input(program, test)
    assert np.all(np.abs(x_q * 2.0**-fmt.frac - test.reshape(len(test), -1)) <= 2.0 ** -(fmt.frac + 1))
    agree = np.mean(run_golden(program, x_q).output == run_float(parse_program(text, weights), test))
    assert agree >= 0.95  # internal values keep their calibrated formats: a little saturation


def test_a_declared_range_must_be_finite() -> None:
    with pytest.raises(ModelError, match=r"1:5: range of X must be finite, not \[0.0, inf\]"):
        parse_program("let X = (4, 1) in [0, 1e999] in\nX\n", {})


def test_sparse_matrix_with_empty_last_rows_at_8_bits(tmp_path: Path) -> None:
    """Found by the long campaign (seed 140): at 8 bits the AVR/host emitter's int16-accumulator
    proof summed each sparse row with ``np.add.reduceat``, which fails on a row past the last
    stored value (an empty trailing row) -- the C backends died before any code was written."""
    text = "let X = (4, 1) in [-4, 4] in\nlet P = (3, 4) in [-1, 1] in\nP |*| tanh(X)\n"
    p = np.zeros((3, 4))
    p[0, 1], p[0, 3] = 0.75, -0.5  # rows 1 and 2 hold nothing
    calib = np.random.default_rng(5).uniform(-4, 4, size=(40, 4, 1))
    program = build(text, {"P": p}, calib, bits=8)
    assert_backends_exact(program, calib, tmp_path, ("host", "avr"))


def test_a_program_without_intermediate_tensors_compiles_warning_free(tmp_path: Path) -> None:
    """``argmax(X)`` keeps no temporary: model.c must not define an arena nothing uses (a
    -Werror=unused-variable failure before)."""
    calib = np.random.default_rng(6).uniform(-1, 1, size=(30, 4, 1))
    program = build("let X = (4, 1) in [-1, 1] in\nargmax(X)\n", {}, calib)
    assert_backends_exact(program, calib, tmp_path, ("host", "avr"))


def test_a_register_field_that_reaches_fewer_registers_gives_valid_verilog(tmp_path: Path) -> None:
    """Found by the campaign at 8 lanes (seed 84), at every lane count: the Select writes register
    0 and the loop over i register 1; the loop over j, unrolled, leaves register 2 that no word
    names, so the late stages' word keeps one bit of the register field and no register write
    reaches register 2. Written through all the registers, that case was a bare ``(* full_case
    *)`` in Yosys' Verilog, which Icarus refused."""
    text = (
        "let X = (7, 1) in [-4, 4] in\nlet P1 = (2, 2, 7) in [-1, 1] in\n"
        "let P5 = (1, 2, 2) in [0, 1] in\nlet P7 = (2, 2, 1) in [-0.5, 0.5] in\n"
        "let k = (X[0:+1]) >= 10000.0 ? 1 : 1 in\nlet v = exp(-0.5 * relu(P1[k] * X)) in\n"
        "$(i = [0:1]) (P5[i] * ($(j = [0:2]) (P7[j] <*> v)))\n"
    )
    rng = np.random.default_rng(84)
    weights = {
        "P1": rng.uniform(-1, 1, (2, 2, 7)),
        "P5": rng.uniform(0, 1, (1, 2, 2)),
        "P7": rng.uniform(-0.5, 0.5, (2, 2, 1)),
    }
    calib = rng.uniform(-4, 4, size=(12, 7, 1))
    program = build(text, weights, calib)
    assert_backends_exact(program, calib[:4], tmp_path, ("rtl1",))


def test_a_last_kernel_of_one_beat_is_drained_before_the_output(tmp_path: Path) -> None:
    """Found by the campaign at 8 lanes (seed 171): the last kernel, a 6-term dot product split
    across the lanes (one beat), starts after its index register's arithmetic has emptied the
    pipeline. The pipeline's busy flag missed a beat in S2 (it counted S2's register only as
    the input of the next stage's), so in that one cycle DONE saw the pipeline empty and
    streamed the output word before the product was written: zero for every input."""
    text = (
        "let X = (7, 1) in [0, 2] in\nlet P2 = (2, 6, 7) in [0, 2] in\nlet P8 = (6, 1) in [-0.3, 1] in\n"
        "let P10 = (2, 1, 6) in [-0.1, 0.1] in\nlet v = P8 <*> (P2[0] * X) in\n"
        "let k = (v[0:+1]) >= 0.0 ? 0 : 1 in\nlet k2 = k * 0 + k in\nP10[k2] * v\n"
    )
    rng = np.random.default_rng(171)
    weights = {
        "P2": rng.uniform(0, 2, (2, 6, 7)),
        "P8": rng.uniform(-0.3, 1, (6, 1)),
        "P10": rng.uniform(-0.1, 0.1, (2, 1, 6)),
    }
    calib = rng.uniform(0, 2, size=(12, 7, 1))
    program = build(text, weights, calib)
    assert_backends_exact(program, calib[:4], tmp_path, ("rtl8",))
