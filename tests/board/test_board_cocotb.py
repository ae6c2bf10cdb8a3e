"""The simulated board top under Icarus via cocotb, driven by the real host client (see cocotb_board.py)."""

from __future__ import annotations

import os
from pathlib import Path

from amaranth.back import verilog

from hlsfix.board.sim_verilog import for_icarus
from hlsfix.board.top import BoardCore
from tests.board.standin import SumAccelerator
from tests.tools import require_tool

REPO = Path(__file__).resolve().parents[2]
# 1 Mbaud from a 10 MHz clock: 10 cycles a bit keeps Icarus fast while still exercising the
# divider, the mid-bit sampling and the frame timeout exactly as at 115200 baud on 100 MHz.
CLK_HZ, BAUD = 10_000_000, 1_000_000
N_INPUTS, INPUT_BITS = 5, 16
FINGERPRINT = "c0ffee0123456789"
FRAME_TIMEOUT_CYCLES = 2_000  # 200 us: well inside the client's (scaled) 2 ms wait


def test_board_core_answers_the_host_client_in_icarus(tmp_path):
    require_tool("iverilog")
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    core = BoardCore(
        lambda: SumAccelerator(N_INPUTS, INPUT_BITS),
        clk_hz=CLK_HZ,
        baud=BAUD,
        frame_timeout_cycles=FRAME_TIMEOUT_CYCLES,
        fingerprint=bytes.fromhex(FINGERPRINT),
    )
    source = tmp_path / "board_core.v"
    source.write_text(for_icarus(verilog.convert(core, name="board_core")))

    runner = get_runner("icarus")
    build_dir = tmp_path / "sim_build"
    runner.build(sources=[source], hdl_toplevel="board_core", build_dir=build_dir, timescale=("1ns", "1ps"))
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "BOARD_CLK_HZ": str(CLK_HZ),
        "BOARD_BAUD": str(BAUD),
        "BOARD_N_INPUTS": str(N_INPUTS),
        "BOARD_INPUT_BITS": str(INPUT_BITS),
        "BOARD_FINGERPRINT": FINGERPRINT,
    }
    results = runner.test(
        test_module="tests.board.cocotb_board",
        hdl_toplevel="board_core",
        build_dir=build_dir,
        test_dir=tmp_path,
        extra_env=env,
        timescale=("1ns", "1ps"),
    )
    total, failed = get_results(results)
    assert (total, failed) == (3, 0)
