"""C simulation of the generated HLS C++ with the host g++: the testbench, compiled and run.

Flags: ``-std=c++14 -Wall -Wextra -Werror`` (with ``-fsanitize=address,undefined`` for tests),
plus the two warnings HLS source triggers by design: ``-Wno-unknown-pragmas`` (the
``#pragma HLS`` lines are for the HLS compiler; gcc 12 cannot silence them from inside the file)
and ``-Wno-unused-label`` (loop labels name the loops in the HLS reports; no goto uses them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.errors import HlsfixError

CXX_FLAGS = ("-std=c++14", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas", "-Wno-unused-label")
SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
SUMMARY = re.compile(r"^HLSFIX_TB checked=(\d+) mismatches=(\d+)$", re.MULTILINE)
OUT_LINE = re.compile(r"^out (\d+)((?: -?\d+)+)$", re.MULTILINE)


class CsimError(HlsfixError):
    pass


@dataclass(frozen=True)
class CsimResult:
    checked: int
    mismatches: int
    outputs: np.ndarray  # (checked, output size) as printed by the testbench
    returncode: int
    stdout: str

    @property
    def bit_exact(self) -> bool:
        return self.returncode == 0 and self.mismatches == 0


def compile_csim(out_dir: Path, *, sanitize: bool = True, cxx: str | None = None) -> Path:
    cxx = cxx or shutil.which("g++")
    if cxx is None:
        raise CsimError("g++ must be on PATH for the HLS C simulation, not missing")
    exe = out_dir / "csim"
    cmd = [cxx, *CXX_FLAGS, "-O1", *(SANITIZE_FLAGS if sanitize else ())]
    cmd += ["-I", str(out_dir), str(out_dir / "model_top.cpp"), str(out_dir / "tb.cpp"), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise CsimError(f"the generated HLS C++ must compile cleanly, not:\n{done.stderr[-4000:]}")
    return exe


def run_csim(exe: Path, timeout: float = 300.0) -> CsimResult:
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout)
    return parse_output(done.stdout, done.returncode, done.stderr)


def parse_output(stdout: str, returncode: int, stderr: str = "") -> CsimResult:
    summary = SUMMARY.search(stdout)
    if summary is None:
        raise CsimError(f"the testbench must print its summary line, not:\n{(stdout + stderr)[-2000:]}")
    rows = [[int(v) for v in m.group(2).split()] for m in OUT_LINE.finditer(stdout)]
    outputs = np.array(rows, dtype=np.int64) if rows else np.zeros((0, 0), dtype=np.int64)
    return CsimResult(int(summary.group(1)), int(summary.group(2)), outputs, returncode, stdout)
