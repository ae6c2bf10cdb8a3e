"""Checks shared by the import tests: a lowered program in host C and in HLS C-simulation gives
the golden model's integers, element for element."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory
from tests.tools import require_tool

PART = "xc7a35ticsg324-1L"


def assert_host_c_equals_golden(prog, x_q: np.ndarray, golden: np.ndarray, tmp_path: Path) -> None:
    require_tool("gcc")
    fw = emit_firmware(prog, plan_memory(prog), x_q, tmp_path)
    exe = runners.compile_host(fw.sources, tmp_path / "fw", sanitize=True, include_dirs=fw.include_dirs)
    assert np.array_equal(decode_records(prog, runners.run_host(exe).records), golden)


def assert_hls_csim_equals_golden(prog, x_q: np.ndarray, golden: np.ndarray, tmp_path: Path) -> None:
    require_tool("g++")
    from hlsfix.hls.cost import choose_unroll
    from hlsfix.hls.csim import compile_csim, run_csim
    from hlsfix.hls.emit import emit_hls, write_sources

    expected = golden.reshape(len(x_q), -1)
    write_sources(
        emit_hls(prog, choose_unroll(prog, PART), "ap_memory", x_q, expected, part=PART, clock_ns=10),
        tmp_path,
    )
    result = run_csim(compile_csim(tmp_path, sanitize=True))
    assert result.checked == len(x_q) and result.mismatches == 0
    assert np.array_equal(result.outputs, expected)
