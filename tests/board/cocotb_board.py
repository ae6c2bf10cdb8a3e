"""cocotb tests of the simulated board (BoardCore + stand-in accelerator), run by
test_board_cocotb.py under Icarus.  The host side is the real BoardClient, talking through
CocotbUartTransport to the rx/tx pins: the protocol code that runs against the board.

Not collected by pytest (no test_ prefix): it imports cocotb, which works only inside a simulator.
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.task import bridge
from cocotb.triggers import ClockCycles

from hlsfix.board import protocol
from hlsfix.board.client import BoardClient
from hlsfix.board.protocol import Status
from hlsfix.board.sim_transport import CocotbUartTransport
from hlsfix.errors import BoardError

CLK_HZ = int(os.environ["BOARD_CLK_HZ"])
BAUD = int(os.environ["BOARD_BAUD"])
N_INPUTS = int(os.environ["BOARD_N_INPUTS"])
BITS = int(os.environ["BOARD_INPUT_BITS"])
FINGERPRINT = os.environ["BOARD_FINGERPRINT"]


def expected_class(x) -> int:
    return sum(x) % 256  # the stand-in accelerator's answer


async def start(dut) -> CocotbUartTransport:
    cocotb.start_soon(Clock(dut.clk, round(1e12 / CLK_HZ), unit="ps").start())
    dut.rx.value = 1
    dut.button.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    return CocotbUartTransport(dut.rx, dut.tx, BAUD)


def random_inputs(seed: int, count: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [
        [rng.randrange(-(1 << (BITS - 1)), 1 << (BITS - 1)) for _ in range(N_INPUTS)] for _ in range(count)
    ]


@cocotb.test()
async def classify_through_the_uart(dut):
    transport = await start(dut)
    xs = random_inputs(1, 4)

    @bridge
    def host():
        client = BoardClient(transport, BITS)
        return client.identify(), [client.classify(x) for x in xs]

    assert await host() == (FINGERPRINT, [expected_class(x) for x in xs])
    assert int(dut.leds.value) == expected_class(xs[-1]) & 0xF
    assert transport.framing_errors == 0


@cocotb.test()
async def malformed_frames_get_error_statuses_then_work(dut):
    transport = await start(dut)
    x = random_inputs(2, 1)[0]
    good = protocol.request_for_input(x, BITS)
    bad_checksum = good[:-1] + bytes([good[-1] ^ 0xFF])
    wrong_length = protocol.request_for_input(x[:-1], BITS)

    @bridge
    def host():
        client = BoardClient(transport, BITS)
        statuses = []
        for frame in (bad_checksum, wrong_length, good[:5]):
            transport.write(frame)
            statuses.append(client.read_response().status)
        return statuses, client.classify(x)

    statuses, answer = await host()
    assert statuses == [Status.BAD_CHECKSUM, Status.BAD_LENGTH, Status.TRUNCATED]
    assert answer == expected_class(x)


@cocotb.test()
async def the_button_resets_the_datapath_mid_frame(dut):
    transport = await start(dut)
    x = random_inputs(3, 1)[0]
    frame = protocol.request_for_input(x, BITS)

    @bridge
    def send_half():
        transport.write(frame[: len(frame) // 2])

    @bridge
    def host():
        client = BoardClient(transport, BITS, timeout=0.05)
        try:
            client.read_response()
        except BoardError:
            quiet = True  # the reset dropped the half frame: no TRUNCATED answer comes
        else:
            quiet = False
        return quiet, client.classify(x)

    await send_half()
    dut.button.value = 1
    await ClockCycles(dut.clk, 10)
    dut.button.value = 0
    await ClockCycles(dut.clk, 4)
    quiet, answer = await host()
    assert quiet
    assert answer == expected_class(x)
