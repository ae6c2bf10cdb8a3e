"""Hostile names through every backend: the generated C, HLS C++ and Tcl build and run with the
name inert (no injected code or command), the Verilog does not carry it, and each language's
escaping function keeps its output one line with nothing active in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hlsfix import escape
from hlsfix.backend_common import template_env
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.lower import lower
from hlsfix.fixedpoint.profile import profile
from hlsfix.fixedpoint.scales import FormatPolicy, assign_formats
from hlsfix.frontend.seedot import parse_program
from hlsfix.mcu.emit import TEMPLATES_DIR as MCU_TEMPLATES
from tests.random_programs.backends import check
from tests.tools import tool_missing, tools_required

HOSTILE = (
    "m[exec touch PWNED]",
    "a;rm -rf x",
    "n\nint pwned = 1;",
    "c*/ int pwned = 1; /*",
    'q"uote\\',
    "int",
    "module",
    "<script>alert(1)</script>",
    "t{brace $dollar ??=",
    "trail\\",
)
# every pattern at once (one compile per backend), and a keyword of C and Verilog
COMBINED = (
    'm[exec touch PWNED];rm -rf x\nint pwned = 1; */ int pwned2; /* "q\\ <script> {$d} ??=\\',
    "module",
)
MODEL = "let X = (4, 1) in [0, 1] in\nlet W = (3, 4) in [-1, 1] in\nargmax(W * X)\n"
W = {"W": np.array([[0.5, -0.25, 1.0, 0.75], [-0.5, 0.25, 0.125, -1.0], [0.1, 0.2, 0.3, -0.4]])}


def program_named(name: str):
    graph = parse_program(MODEL, W, name=name)
    x = np.random.default_rng(0).uniform(0, 1, size=(10, 4, 1))
    prof = profile(graph, x)
    return lower(graph, assign_formats(graph, prof, FormatPolicy()), prof), x


@pytest.mark.parametrize("name", COMBINED)
def test_hostile_names_through_every_backend(name: str, tmp_path: Path) -> None:
    program, x = program_named(name)
    assert program.name == name
    x_q = quantize_input(program, x)
    for backend in ("host", "hls"):  # -Wall -Wextra -Werror, sanitizers, bit-exact
        v = check(program, x_q, tmp_path, backend)
        if v.outcome == "skipped" and not tools_required():
            continue
        assert v.outcome == "ok", f"{backend}: {v.message}"
    texts = [p.read_text() for p in tmp_path.rglob("*") if p.suffix in (".c", ".h", ".cpp")]
    assert texts
    for text in texts:
        assert "pwned" not in re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S), "a name became code"
    tcl = tmp_path / "hls" / "run_hls.tcl"
    opens = [ln for ln in tcl.read_text().splitlines() if ln.startswith("open_project")]
    assert len(opens) == 1 and re.fullmatch(r"open_project -reset hlsfix_\w+_hls", opens[0])
    _run_tcl_inertly(tcl, tmp_path)
    from hlsfix.rtl.verilog import emit_verilog

    verilog = emit_verilog(program, 1, tmp_path / "rtl").read_text()
    for word in ("exec", "pwned", "script", "rm -rf"):
        assert word not in verilog


def _run_tcl_inertly(tcl: Path, work: Path) -> None:
    """Source run_hls.tcl in tclsh with every Vitis command a no-op: a name that became a Tcl
    command substitution would run (``exec touch PWNED``) and leave its file behind."""
    tclsh = shutil.which("tclsh")
    if tclsh is None:
        if tools_required():
            tool_missing("tclsh not found on PATH")
        return
    script = work / "stub.tcl"
    script.write_text(f"proc unknown args {{}}\nsource {{{tcl}}}\n")
    done = subprocess.run([tclsh, str(script)], cwd=tcl.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tcl.parent / "PWNED").exists() and not Path(os.getcwd(), "PWNED").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_uno_makefile_and_sketch_keep_names_inert(name: str) -> None:
    env = template_env(MCU_TEMPLATES)
    ctx = {"name": name, "bits": "16", "in_size": 4, "example": ["0.0f"], "expected": 0, "baud": 9600}
    ctx |= {"board": "Arduino Uno", "mcu": "atmega328p", "f_cpu": 16_000_000}
    make = env.get_template("uno_Makefile.j2").render(**ctx)
    for line in make.splitlines():
        if line and not line.startswith(("#", "\t")) and ":" in line:
            assert re.fullmatch(r"[\w.$() -]+:[^;|&`]*", line), line


@pytest.mark.parametrize("name", HOSTILE)
def test_each_language_escape_is_one_inert_line(name: str) -> None:
    for fn in escape.FILTERS.values():
        out = fn(name)
        assert "\n" not in out and "\r" not in out
    comment = escape.c_comment(name)
    assert "*/" not in comment and "/*" not in comment and not comment.endswith("\\") and "??" not in comment
    assert '"' not in escape.c_string(name).replace('\\"', "") and "??" not in escape.c_string(name)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", escape.identifier(name))
    assert escape.identifier(name) not in ("int", "module")
    word = escape.tcl_word(name)
    assert re.search(r"(?<!\\)[\[$]", word) is None
    assert not re.search(r"[\\{}]", escape.tcl_comment(name).replace("\\u", ""))
    for text in (escape.markdown(name), escape.html(name)):
        assert "<script" not in text and "<" not in text
