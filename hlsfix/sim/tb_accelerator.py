"""cocotb testbench of the accelerator: stream inputs in, collect outputs, score against golden.

Everything it needs comes from the JSON file named by ``HLSFIX_TB_CONFIG`` (written by
``sim/runner.py``); its results go to the file named by ``HLSFIX_TB_RESULT``. It waits on signal
edges rather than every clock, so a long inference costs simulator time, not Python time — except
for the first inference when ``trace`` is set: that one is stepped per cycle to attribute cycles to
microcode instructions (and scored like every other).

Signals are sampled only in the read-only phase after the design has settled: right after a
clock edge a registered output still shows its value from before the edge.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

PERIOD_NS = 10


async def _wait_output(dut, per_pc: dict | None) -> None:
    """Return in the read-only phase of the first cycle whose ``out.valid`` is high; with
    ``per_pc``, count the cycles spent on each microcode address until then."""
    await ReadOnly()
    if dut.out__valid.value:
        return
    if per_pc is None:
        await RisingEdge(dut.out__valid)
        await ReadOnly()
        return
    while not dut.out__valid.value:
        pc = str(int(dut.pc.value)) if dut.running.value else "io"
        per_pc[pc] = per_pc.get(pc, 0) + 1
        await RisingEdge(dut.clk)
        await ReadOnly()


@cocotb.test()
async def accelerator_matches_golden(dut):
    with open(os.environ["HLSFIX_TB_CONFIG"]) as f:
        cfg = json.load(f)
    inputs, expected, out_len = cfg["inputs"], cfg["expected"], cfg["out_len"]
    mask = (1 << cfg["in_bits"]) - 1
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.inp__valid.value = 0
    dut.out__ready.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    outputs, cycles, per_pc = [], [], {}
    for n, row in enumerate(inputs):
        for v in row:
            dut.inp__payload.value = int(v) & mask
            dut.inp__valid.value = 1
            # The accelerator holds ready high for its whole load phase, which it enters at the
            # output handshake, so the beats go back to back.
            await RisingEdge(dut.clk)
        dut.inp__valid.value = 0
        start = get_sim_time("ns")
        got = []
        for beat in range(out_len):
            await _wait_output(dut, per_pc if (n == 0 and beat == 0 and cfg["trace"]) else None)
            if beat == 0:
                cycles.append(round((get_sim_time("ns") - start) / PERIOD_NS))
            value = int(dut.out__payload.value) & 0xFFFFFFFF
            got.append(value - (1 << 32) if value >> 31 else value)
            await RisingEdge(dut.clk)  # ready is held high: this edge is the handshake
        outputs.append(got)
    mismatches = [i for i, (g, e) in enumerate(zip(outputs, expected, strict=True)) if g != e]
    with open(os.environ["HLSFIX_TB_RESULT"], "w") as f:
        json.dump({"outputs": outputs, "cycles": cycles, "per_pc": per_pc, "mismatches": mismatches}, f)
    assert not mismatches, f"{len(mismatches)} inputs differ from the golden model"
