"""Issue 16: rounding the user can see and switch off (``rounding="auto"|"off"``: API, command
line, ``--config`` and the resolved hlsfix.toml; the count in report.json and the report)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tomllib

import hlsfix
from hlsfix.cli import main
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.lower import quantize


def _round_out(p: kp.KernelProgram) -> int:
    return sum(1 for k in p.walk() if getattr(k, "round_out", False))


def _biases_as_quantised(cm: hlsfix.CompiledModel) -> dict[str, bool]:
    """Per parameter stored as a constant: is it exactly its weights quantised at its format, that
    format the one the search chose for it (a constant that took a rounding offset, or was widened
    to 16 bits for one, is not)?"""
    p, g = cm.program, cm.graph
    return {
        prm.name: p.buffer(prm.name).fmt.bits == cm.candidate.policy.bits_of(prm.name)[0]
        and np.array_equal(
            p.constants[prm.name], quantize(g.weights[prm.name], p.buffer(prm.name).fmt).reshape(-1)
        )
        for prm in g.params
        if prm.name in p.constants
    }


def test_rounding_off_at_8_bits_leaves_no_kernel_rounding_and_every_constant_as_quantised() -> None:
    auto = hlsfix.compile("protonn", bits="8")
    off = hlsfix.compile("protonn", bits="8", rounding="off")
    assert _round_out(auto.program) > 0  # the default rounds somewhere, so "off" changes something
    assert _round_out(off.program) == 0
    assert all(_biases_as_quantised(off).values())
    assert (auto.options.rounding, off.options.rounding) == ("auto", "off")


def test_rounding_off_in_a_mixed_program_keeps_the_bias_as_quantised() -> None:
    """Mixed programs round only by folding the offset into an 8-bit add's constant; off: none."""
    auto = hlsfix.compile("protonn", bits="mixed")
    off = hlsfix.compile("protonn", bits="mixed", rounding="off")
    assert not all(_biases_as_quantised(auto).values())
    assert all(_biases_as_quantised(off).values())


@pytest.mark.parametrize("bits", ["16", "32"])
def test_rounding_is_refused_where_programs_never_round(bits: str) -> None:
    with pytest.raises(HlsfixError, match="--rounding applies to --bits 8 and mixed"):
        hlsfix.compile("mlp", bits=bits, rounding="off")
    assert hlsfix.compile("mlp", bits=bits).options.rounding is None  # not written to hlsfix.toml


def test_the_report_counts_the_rounding_kernels_and_the_config_rebuilds_with_rounding_off(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compile", "protonn", "--bits", "8", "-q", "-o", str(a)]) == 0
    program = json.loads((a / "program.json").read_text())
    flagged = sum(1 for k in json.dumps(program).split('"round_out": true')[1:])
    rounding = json.loads((a / "report.json").read_text())["choice"]["rounding"]
    assert rounding["mode"] == "auto" and rounding["round_out_kernels"] == flagged > 0
    assert f"auto ({flagged} kernels round their final shift" in (a / "report.md").read_text()
    assert tomllib.loads((a / "hlsfix.toml").read_text())["compile"]["rounding"] == "auto"

    config = tmp_path / "off.toml"
    config.write_text('[model]\nmodel = "protonn"\n[compile]\nbits = "8"\nrounding = "off"\n')
    assert main(["compile", "--config", str(config), "-q", "-o", str(b)]) == 0
    assert '"round_out": true' not in (b / "program.json").read_text()
    off = json.loads((b / "report.json").read_text())["choice"]["rounding"]
    assert off == {"mode": "off", "round_out_kernels": 0, "folded_adds": 0}
    assert tomllib.loads((b / "hlsfix.toml").read_text())["compile"]["rounding"] == "off"
