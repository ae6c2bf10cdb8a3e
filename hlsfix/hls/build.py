"""The ``hls`` build step: generate the HLS project for a compiled model and check it bit for bit
by C simulation on the model's whole test split.

Hook for ``hlsfix build --backend hls`` (cli/build own the options and the report file):

    from hlsfix.hls.build import build_hls, hls_part
    report["hls"] = build_hls(cm, out_dir / "hls", hls_part(args.board), args.clock_ns, args.interface)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.hls.cost import choose_unroll
from hlsfix.hls.csim import compile_csim, run_csim
from hlsfix.hls.emit import emit_hls, write_sources
from hlsfix.hls.pragmas import INTERFACES

DEFAULT_PART = "xc7a35ticsg324-1L"  # Arty A7-35T
DEFAULT_CLOCK_NS = 10.0  # 100 MHz
DEFAULT_INTERFACE = "ap_memory"

# The FPGA part of each board the HLS backend builds for.
BOARD_PARTS = {
    "arty-a7": "xc7a35ticsg324-1L",
    "arty-a7-35": "xc7a35ticsg324-1L",
    "arty-a7-100": "xc7a100tcsg324-1",
}


def hls_part(board: str) -> str:
    if board not in BOARD_PARTS:
        raise HlsfixError(f"board for the HLS backend must be one of {', '.join(BOARD_PARTS)}, not {board!r}")
    return BOARD_PARTS[board]


def build_hls(
    cm,  # hlsfix.compiler.CompiledModel
    out_dir: Path | str,
    board_part: str = DEFAULT_PART,
    clock_ns: float = DEFAULT_CLOCK_NS,
    interface: str = DEFAULT_INTERFACE,
    *,
    sanitize: bool = False,
) -> dict:
    """Write the HLS project into ``out_dir``, run the C simulation (g++) on the test split and
    return the report's ``hls`` section. Without g++, ``bit_exact`` is None and the reason is given."""
    if interface not in INTERFACES:
        raise HlsfixError(f"interface must be one of {', '.join(INTERFACES)}, not {interface!r}")
    if not clock_ns > 0:
        raise HlsfixError(f"clock period must be positive, not {clock_ns}")
    if cm.test is None:
        raise HlsfixError("model must have a test split for the HLS C simulation, not none")
    out_dir = Path(out_dir)
    program = cm.program
    x_q = quantize_input(program, cm.test[0])
    expected = run_golden(program, x_q).output.reshape(len(x_q), -1)
    plan = choose_unroll(program, board_part)
    sources = emit_hls(program, plan, interface, x_q, expected, part=board_part, clock_ns=clock_ns)
    write_sources(sources, out_dir)
    section: dict = {
        "bit_exact": None,
        "checked_inputs": 0,
        "interface": interface,
        "part": board_part,
        "clock_ns": clock_ns,
        "unroll": plan.report(),
        "estimated_lut": plan.lut,
        "estimated_dsp": plan.dsp,
        "lut_budget": plan.lut_budget,
        "dsp_budget": plan.dsp_budget,
        "fits": plan.lut <= plan.lut_budget and plan.dsp <= plan.dsp_budget,
        "mac_cycles": plan.cycles,
        "simulator": "g++ (C simulation)",
    }
    if shutil.which("g++") is None:
        section["simulator"] = "not run: g++ not found on PATH"
        return section
    result = run_csim(compile_csim(out_dir, sanitize=sanitize))
    same = result.outputs.shape == expected.shape and bool(np.array_equal(result.outputs, expected))
    section["bit_exact"] = result.bit_exact and same
    section["checked_inputs"] = result.checked
    return section
