"""cocotb test of the whole board core with the real accelerator of a zoo model, run by
test_arty_build.py under Icarus: the real BoardClient sends test inputs through the UART pins
(CocotbUartTransport) and every answer must equal the golden model's.

Not collected by pytest (no test_ prefix): it imports cocotb, which works only inside a simulator.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.task import bridge
from cocotb.triggers import ClockCycles

from hlsfix.board.arty import OUTPUT_BITS
from hlsfix.board.client import BoardClient
from hlsfix.board.sim_transport import CocotbUartTransport


@cocotb.test()
async def the_board_answers_like_the_golden_model(dut):
    with open(os.environ["ARTY_TB_CONFIG"]) as f:
        cfg = json.load(f)
    cocotb.start_soon(Clock(dut.clk, round(1e12 / cfg["clk_hz"]), unit="ps").start())
    dut.rx.value = 1
    dut.button.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    transport = CocotbUartTransport(dut.rx, dut.tx, cfg["baud"])

    @bridge
    def host():
        client = BoardClient(transport, cfg["input_bits"], output_bits=OUTPUT_BITS, output_signed=True)
        return [client.infer(x) for x in cfg["inputs"]]

    got = await host()
    with open(os.environ["ARTY_TB_RESULT"], "w") as f:
        json.dump({"outputs": got, "leds": int(dut.leds.value)}, f)
    assert got == cfg["expected"]
    assert int(dut.leds.value) == cfg["expected"][-1][0] & 0xF
    assert transport.framing_errors == 0
