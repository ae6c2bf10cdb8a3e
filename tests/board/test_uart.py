"""UART receiver and transmitter in amaranth.sim: exact bit timing and tolerance of baud mismatch."""

from __future__ import annotations

import pytest
from amaranth.sim import Simulator

from hlsfix.board.uart import UartRx, UartTx, baud_divisor
from hlsfix.errors import BoardError
from tests.board.uart_sim import byte_bits, drive_line

CLK_HZ = 100_000_000
BAUDS = [115_200, 1_000_000]


def test_divisor_at_the_arty_clock():
    assert baud_divisor(CLK_HZ, 115_200) == 868  # 115,207 baud: 0.006% fast
    assert baud_divisor(CLK_HZ, 1_000_000) == 100
    assert baud_divisor(10_000_000, 1_000_000) == 10


@pytest.mark.parametrize(("clk_hz", "baud"), [(CLK_HZ, 30_000_000), (10_000_000, 1_500_000), (CLK_HZ, 0)])
def test_impossible_baud_rates_are_refused(clk_hz, baud):
    with pytest.raises(BoardError, match="baud rate must be"):
        baud_divisor(clk_hz, baud)


@pytest.mark.parametrize("baud", BAUDS)
def test_tx_holds_each_bit_exactly_one_divisor(baud):
    divisor = baud_divisor(CLK_HZ, baud)
    dut = UartTx(divisor)
    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    levels, ready_after = [], []

    async def testbench(ctx):
        assert ctx.get(dut.tx) == 1
        ctx.set(dut.data.payload, 0x4B)
        ctx.set(dut.data.valid, 1)
        await ctx.tick()  # the transmitter takes the byte at this edge
        ctx.set(dut.data.valid, 0)
        for _ in range(10 * divisor + 3):
            levels.append(ctx.get(dut.tx))
            ready_after.append(ctx.get(dut.data.ready))
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    expected = [level for level in byte_bits(0x4B) for _ in range(divisor)]
    assert levels[: 10 * divisor] == expected
    assert levels[10 * divisor :] == [1, 1, 1]
    # Busy for exactly the 10 bit times, then ready for the next byte.
    assert ready_after.index(1) == 10 * divisor


@pytest.mark.parametrize("skew", [1.0, 0.98, 1.02])
@pytest.mark.parametrize("baud", BAUDS)
def test_rx_decodes_back_to_back_bytes(baud, skew):
    dut = UartRx(baud_divisor(CLK_HZ, baud))
    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    sent = bytes([0x00, 0xFF, 0x55, 0xA5, 0x0F, 0x80])
    got, errors = [], []

    async def collect(ctx):
        async for _, _, valid, payload, error in ctx.tick().sample(
            dut.data.valid, dut.data.payload, dut.framing_error
        ):
            if valid:
                got.append(payload)
            if error:
                errors.append(1)

    async def testbench(ctx):
        await ctx.tick().repeat(10)
        await drive_line(ctx, dut.rx, sent, baud * skew)  # a sender whose clock is off by `skew`
        await ctx.delay(2 / baud)

    sim.add_process(collect)
    sim.add_testbench(testbench)
    sim.run()
    assert bytes(got) == sent
    assert not errors


def test_rx_flags_a_low_stop_bit_and_recovers():
    baud = 1_000_000
    dut = UartRx(baud_divisor(CLK_HZ, baud))
    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    got, errors = [], []

    async def collect(ctx):
        async for _, _, valid, payload, error in ctx.tick().sample(
            dut.data.valid, dut.data.payload, dut.framing_error
        ):
            if valid:
                got.append(payload)
            errors.append(error)

    async def testbench(ctx):
        await drive_line(ctx, dut.rx, b"\x3c", baud, stop_bit=0)
        ctx.set(dut.rx, 0)  # and the line stays low a while (a break): no phantom 0x00 bytes
        await ctx.delay(30 / baud)
        ctx.set(dut.rx, 1)
        await ctx.delay(2 / baud)
        await drive_line(ctx, dut.rx, b"\xc3", baud)
        await ctx.delay(2 / baud)

    sim.add_process(collect)
    sim.add_testbench(testbench)
    sim.run()
    assert got == [0xC3]
    assert sum(errors) == 1


def test_rx_ignores_a_glitch_shorter_than_half_a_bit():
    baud = 1_000_000
    dut = UartRx(baud_divisor(CLK_HZ, baud))
    sim = Simulator(dut)
    sim.add_clock(1 / CLK_HZ)
    got = []

    async def collect(ctx):
        async for _, _, valid, payload in ctx.tick().sample(dut.data.valid, dut.data.payload):
            if valid:
                got.append(payload)

    async def testbench(ctx):
        ctx.set(dut.rx, 0)
        await ctx.delay(0.3 / baud)
        ctx.set(dut.rx, 1)
        await ctx.delay(12 / baud)
        await drive_line(ctx, dut.rx, b"\x81", baud)
        await ctx.delay(2 / baud)

    sim.add_process(collect)
    sim.add_testbench(testbench)
    sim.run()
    assert got == [0x81]
