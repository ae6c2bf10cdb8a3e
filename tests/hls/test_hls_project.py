"""The generated HLS project reads like hand-written HLS code (labelled loops, a reason next to
every pragma), its TCL script has the right commands, and the unroll cost model keeps to the
board's budget."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import numpy as np
import pytest

import hlsfix
from hlsfix.errors import HlsfixError
from hlsfix.hls import build as hls_build
from hlsfix.hls.build import build_hls, hls_part
from hlsfix.hls.cost import MAX_LANES, UnknownPart, choose_unroll, dsp_per_multiply
from hlsfix.hls.emit import KERNEL_HEADER, TEMPLATES_DIR, emit_hls, env
from hlsfix.hls.pragmas import UnsupportedInterface
from tests.hls.models import compiled

PART = "xc7a35ticsg324-1L"
LABEL = re.compile(r"^\s*[A-Za-z_]\w*:$")
SOURCES = ("model_top.cpp", KERNEL_HEADER)  # the code HLS synthesises


@pytest.fixture(scope="module")
def cnn_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cnn_hls")
    cm = compiled("cnn", "16")
    assert cm.test is not None
    cm = dataclasses.replace(cm, test=(cm.test[0][:20], cm.test[1][:20]))
    # Without g++ the project is still written (bit_exact is then None): the text checks need no compiler.
    return out, build_hls(cm, out, PART, 10.0, "s_axilite")


def emitted_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.parametrize("name", SOURCES)
def test_every_pragma_has_a_comment_giving_its_reason(cnn_project: tuple[Path, dict], name: str) -> None:
    lines = emitted_lines(cnn_project[0] / name)
    pragmas = [i for i, line in enumerate(lines) if line.lstrip().startswith("#pragma HLS")]
    assert pragmas
    for i in pragmas:
        above = lines[i - 1].strip()
        assert above.startswith("//") and len(above) > 10, f"{name}:{i + 1} has no reason: {lines[i]}"


@pytest.mark.parametrize("name", SOURCES)
def test_every_loop_is_labelled(cnn_project: tuple[Path, dict], name: str) -> None:
    lines = emitted_lines(cnn_project[0] / name)
    loops = [i for i, line in enumerate(lines) if re.match(r"^\s*for \(", line)]
    assert loops
    for i in loops:
        assert LABEL.match(lines[i - 1]), f"{name}:{i + 1} is an unlabelled loop"


def test_pragmas_match_the_chosen_unroll_factors(cnn_project: tuple[Path, dict]) -> None:
    out, section = cnn_project
    top = (out / "model_top.cpp").read_text()
    for key, loop in section["unroll"].items():
        assert loop["trip"] % loop["factor"] == 0 and 1 <= loop["factor"] <= MAX_LANES, key
    factor = section["unroll"]["matmul_t_3@8"]["factor"]
    assert factor > 1
    assert f"hlsfix::matmul<int32_t, 32, 64, 1, {factor}>(k_D1, 0" in top
    assert f"#pragma HLS ARRAY_PARTITION variable=k_D1 cyclic factor={factor} dim=1" in top
    assert "#pragma HLS INTERFACE s_axilite port=return bundle=control" in top
    header = (out / KERNEL_HEADER).read_text()
    assert "#pragma HLS PIPELINE II=1" in header and "#pragma HLS UNROLL" in header


def tcl_commands(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_tcl_script_commands_in_order(cnn_project: tuple[Path, dict]) -> None:
    assert tcl_commands(cnn_project[0] / "run_hls.tcl") == [
        "cd [file dirname [file normalize [info script]]]",
        "open_project -reset hlsfix_cnn_hls",
        "set_top hlsfix_top",
        'add_files model_top.cpp -cflags "-std=c++14"',
        "add_files model_top.h",
        "add_files model_constants.h",
        f"add_files {KERNEL_HEADER}",
        'add_files -tb tb.cpp -cflags "-std=c++14"',
        "open_solution -reset solution1",
        "set_part {xc7a35ticsg324-1L}",
        "create_clock -period 10 -name default",
        "csim_design",
        "csynth_design",
        "cosim_design",
        "export_design -format ip_catalog",
        "exit",
    ]
    for name in ("model_top.cpp", "model_top.h", "model_constants.h", KERNEL_HEADER, "tb.cpp"):
        assert (cnn_project[0] / name).is_file()


@pytest.mark.parametrize("tool", ["vivado_hls", "vitis_hls"])
def test_tcl_runs_under_the_xilinx_tool(cnn_project: tuple[Path, dict], tool: str) -> None:
    exe = shutil.which(tool)
    if exe is None:  # cannot be installed here (a licensed AMD download): a plain skip, even in CI
        pytest.skip(f"{tool} not on PATH")
    done = subprocess.run([exe, "-f", "run_hls.tcl"], cwd=cnn_project[0], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "HLSFIX_TB checked=20 mismatches=0" in done.stdout


def test_report_section(cnn_project: tuple[Path, dict]) -> None:
    section = cnn_project[1]
    for key in ("bit_exact", "checked_inputs", "interface", "unroll", "estimated_lut", "estimated_dsp"):
        assert key in section
    assert section["interface"] == "s_axilite"
    assert section["estimated_dsp"] <= 81 and section["estimated_lut"] <= 18720 and section["fits"]


# ---- the cost model ----------------------------------------------------------------------


def test_multiplier_cost() -> None:
    assert dsp_per_multiply(16, 16) == 1
    assert dsp_per_multiply(8, 8) == 1
    assert dsp_per_multiply(32, 16) == 2
    assert dsp_per_multiply(32, 32) == 4


@pytest.mark.parametrize("name", hlsfix.ZOO_NAMES)
def test_unroll_plan_fits_the_budget_and_uses_it(name: str) -> None:
    plan = choose_unroll(compiled(name, "16").program, PART)
    assert plan.dsp <= plan.dsp_budget == 81 and plan.lut <= plan.lut_budget == 18720
    for m in plan.loops:
        u = plan.factors[m.step]
        assert m.trip % u == 0
    # Greedy to the end: no single further step of any loop would still fit.
    for m in plan.loops:
        u = plan.factors[m.step]
        bigger = [d for d in range(u + 1, min(m.trip, MAX_LANES) + 1) if m.trip % d == 0]
        if bigger:
            extra = bigger[0] - u
            assert (
                plan.dsp + extra * m.lane_dsp > plan.dsp_budget
                or plan.lut + extra * m.lane_lut > plan.lut_budget
            )


def test_a_bigger_part_gets_more_lanes() -> None:
    program = compiled("cnn", "16").program
    small, big = choose_unroll(program, PART), choose_unroll(program, "xc7a100tcsg324-1")
    assert big.cycles < small.cycles and big.dsp > small.dsp


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    cm = compiled("mlp", "16")
    with pytest.raises(UnknownPart, match="board part must be one of"):
        choose_unroll(cm.program, "xc7z020")
    plan = choose_unroll(cm.program, PART)
    x = np.zeros((1, 64), dtype=np.int64)
    with pytest.raises(UnsupportedInterface, match="interface must be one of"):
        emit_hls(cm.program, plan, "pcie", x, np.zeros((1, 1)), part=PART, clock_ns=10)


def test_templates_are_strict() -> None:
    with pytest.raises(jinja2.UndefinedError):
        env().get_template("model_top.h.j2").render()
    assert (TEMPLATES_DIR / KERNEL_HEADER).is_file()


def test_board_parts_and_a_missing_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert hls_part("arty-a7") == PART
    with pytest.raises(HlsfixError, match="board for the HLS backend must be one of"):
        hls_part("arduino-uno")
    cm = compiled("mlp", "16")
    monkeypatch.setattr(hls_build.shutil, "which", lambda name: None)
    section = hls_build.build_hls(cm, tmp_path, PART, 10.0, "axis")
    assert section["bit_exact"] is None and section["checked_inputs"] == 0
    assert "g++ not found" in section["simulator"]
    assert (tmp_path / "run_hls.tcl").is_file() and (tmp_path / "tb.cpp").is_file()
