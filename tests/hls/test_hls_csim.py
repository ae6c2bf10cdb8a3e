"""The generated HLS C++, compiled with g++ as a C simulation (sanitizers on), is bit-exact with
the golden model on the whole test split of every zoo model, and its check can fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.program import Buffer, KernelProgram
from hlsfix.hls.build import build_hls
from hlsfix.hls.cost import choose_unroll
from hlsfix.hls.csim import CsimResult, compile_csim, run_csim
from hlsfix.hls.emit import emit_hls, write_sources
from hlsfix.hls.pragmas import INTERFACES
from tests.hls.models import compiled
from tests.mcu.test_c_backend import (
    F8,
    SYNTHETIC_BUFFERS,
    SYNTHETIC_KERNELS,
    synthetic_inputs,
    synthetic_program,
)
from tests.tools import require_tool

PART = "xc7a35ticsg324-1L"
CONFIGS = ("16", "mixed", "8")


def golden_of(cm: hlsfix.CompiledModel) -> tuple[np.ndarray, np.ndarray]:
    assert cm.test is not None
    x_q = quantize_input(cm.program, cm.test[0])
    return x_q, run_golden(cm.program, x_q).output.reshape(len(x_q), -1)


def csim(program: KernelProgram, x_q: np.ndarray, out_dir: Path, interface: str = "ap_memory") -> CsimResult:
    require_tool("g++")
    expected = run_golden(program, x_q).output.reshape(len(x_q), -1)
    sources = emit_hls(
        program, choose_unroll(program, PART), interface, x_q, expected, part=PART, clock_ns=10
    )
    write_sources(sources, out_dir)
    result = run_csim(compile_csim(out_dir, sanitize=True))
    assert result.checked == len(x_q)
    assert np.array_equal(result.outputs, expected), f"{int(np.sum(result.outputs != expected))} mismatches"
    return result


@pytest.mark.parametrize("bits", CONFIGS)
@pytest.mark.parametrize("name", hlsfix.ZOO_NAMES)
def test_csim_equals_golden_on_the_whole_test_split(name: str, bits: str, tmp_path: Path) -> None:
    require_tool("g++")
    cm = compiled(name, bits)
    x_q, expected = golden_of(cm)
    section = build_hls(cm, tmp_path, PART, 10.0, "ap_memory", sanitize=True)
    assert section["bit_exact"] is True
    assert section["checked_inputs"] == len(x_q) == len(cm.test[0])
    # The testbench printed every output: compare them here too, independently of its verdict.
    result = run_csim(tmp_path / "csim")
    assert result.returncode == 0 and result.mismatches == 0
    assert np.array_equal(result.outputs, expected)


@pytest.mark.parametrize("name", ["bonsai", "fastgrnn"])
def test_csim_with_clipped_linear_activations(name: str, tmp_path: Path) -> None:
    cm = compiled(name, "16", "linear")
    assert any(isinstance(k, kp.HardSigmoidTanh) for k in cm.program.walk())
    csim(cm.program, golden_of(cm)[0], tmp_path)


@pytest.mark.parametrize("interface", INTERFACES)
def test_every_interface_is_bit_exact(interface: str, tmp_path: Path) -> None:
    cm = compiled("mlp", "16")
    csim(cm.program, golden_of(cm)[0][:50], tmp_path, interface)
    assert f"INTERFACE {interface} port=x" in (tmp_path / "model_top.cpp").read_text()


def test_a_corrupted_constant_is_caught(tmp_path: Path) -> None:
    """Change one weight in the generated constants header: the testbench must report the
    mismatch and fail (the golden model's expected outputs stay those of the true program)."""
    require_tool("g++")
    cm = compiled("mlp", "16")
    assert build_hls(cm, tmp_path, PART, 10.0, "ap_memory")["bit_exact"] is True
    header = tmp_path / "model_constants.h"
    decl = "static const int16_t k_W2[320] = {\n    "
    head, found, rest = header.read_text().partition(decl)
    assert found
    first, _, tail = rest.partition(",")
    header.write_text(f"{head}{decl}{int(first) ^ -0x8000},{tail}")  # flip the sign bit
    result = run_csim(compile_csim(tmp_path, sanitize=True))
    assert result.returncode != 0
    assert result.mismatches > 0 and not result.bit_exact
    assert "mismatch at input" in result.stdout


# ---- kernels the zoo does not exercise: a hand-built program over random inputs ------------

# the C backend's hand-built programs (splices with fewer ranges than dimensions included), and a
# Fill the HLS kernels saturate
BUFFERS = (*SYNTHETIC_BUFFERS, Buffer("f", (3,), F8, "temp"))
KERNELS: dict[str, tuple[kp.Kernel, ...]] = {**SYNTHETIC_KERNELS, "f": (kp.Fill("f", 300),)}


@pytest.mark.parametrize("out", sorted(KERNELS))
def test_kernels_outside_the_zoo(out: str, tmp_path: Path) -> None:
    csim(synthetic_program(out, BUFFERS, KERNELS), synthetic_inputs(), tmp_path)
