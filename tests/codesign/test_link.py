# amaranth: UnusedElaboratable=no
# (a CodesignCore made only to be refused is never elaborated)
"""The co-design link in amaranth.sim: CommandCore, the SPI slave and the AXI4-Lite slave, driven
through ``CodesignCore``'s plain ports against a small stand-in accelerator, then against the real
accelerator running ProtoNN's segments bit-exact."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from amaranth import Array, Module, Signal, signed
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hlsfix.codesign import regmap as rm
from hlsfix.codesign.link import CommandCore
from hlsfix.codesign.regmap import Error, RegisterMap
from hlsfix.codesign.top import TOP, CodesignCore, emit_codesign_verilog, register_map
from hlsfix.rtl.hostport import HOST_PORT

CLK_PERIOD = 1e-8
REGMAP = RegisterMap(segments=2, registers=4, ram_depth=16, ram_word_bits=16)
BUSY_CYCLES = 1000  # outlasts a START and two short commands at SCK = clk/7
OKAY, SLVERR = 0, 2


class FakeAccelerator(wiring.Component):
    """A RAM and registers behind ``HOST_PORT``; a run is busy for ``busy_cycles`` cycles and then
    adds 1 to RAM word 0 and writes the segment number + 100 to register 0.

    ``misused`` goes (and stays) high if the port is used while busy, which the link must never do.
    """

    def __init__(self, regmap: RegisterMap = REGMAP, busy_cycles: int = BUSY_CYCLES) -> None:
        self.regmap = regmap
        self.busy_cycles = busy_cycles
        super().__init__({"host": In(HOST_PORT), "misused": Out(1)})

    def elaborate(self, platform):
        m = Module()
        host, regmap = self.host, self.regmap
        ram = Array(Signal(signed(regmap.ram_word_bits), name=f"ram{i}") for i in range(regmap.ram_depth))
        registers = Array(Signal(signed(32), name=f"reg{i}") for i in range(regmap.registers))
        cycles_left = Signal(range(self.busy_cycles + 1))
        segment = Signal(8)
        m.d.comb += host.busy.eq(cycles_left != 0)
        with m.If(host.busy):
            m.d.sync += cycles_left.eq(cycles_left - 1)
            with m.If(cycles_left == 1):
                m.d.sync += [ram[0].eq(ram[0] + 1), registers[0].eq(segment + 100)]
            with m.If(host.we | host.re | host.start):
                m.d.sync += self.misused.eq(1)
        with m.Elif(host.start):
            m.d.sync += [cycles_left.eq(self.busy_cycles), segment.eq(host.segment)]
        with m.Elif(host.we):
            with m.If(host.reg):
                m.d.sync += registers[host.addr].eq(host.wdata)
            with m.Else():
                m.d.sync += ram[host.addr].eq(host.wdata)
        with m.Elif(host.re):
            with m.If(host.reg):
                m.d.sync += host.rdata.eq(registers[host.addr])
            with m.Else():
                m.d.sync += host.rdata.eq(ram[host.addr])
        return m


def make_core(link: str, regmap: RegisterMap = REGMAP) -> tuple[CodesignCore, list[FakeAccelerator]]:
    made: list[FakeAccelerator] = []

    def factory() -> FakeAccelerator:
        made.append(FakeAccelerator(regmap))
        return made[-1]

    return CodesignCore(factory, regmap, link), made


def run(dut, testbench) -> None:
    """Every wait in the testbenches is bounded, so a hung link fails a test instead of hanging it."""
    sim = Simulator(dut)
    sim.add_clock(CLK_PERIOD)
    sim.add_testbench(testbench)
    sim.run()


def word_bytes(address: int, regmap: RegisterMap = REGMAP) -> int:
    return regmap.data_bytes if address >= rm.DATA_BASE else 4


# --- SPI ---------------------------------------------------------------------------------------


class SpiMaster:
    """Mode 0 master: SCK high for ``high`` and low for ``low`` system cycles per bit. MOSI changes
    while SCK is low; MISO is sampled at the rising edge and must have held for the cycle before."""

    def __init__(self, dut: CodesignCore, high: int, low: int) -> None:
        self.dut, self.high, self.low = dut, high, low

    async def bits(self, ctx, out: list[int]) -> list[int]:
        dut = self.dut
        ctx.set(dut.cs_n, 0)
        await ctx.tick().repeat(self.low)
        got = []
        for bit in out:
            ctx.set(dut.mosi, bit)
            await ctx.tick().repeat(self.low - 1)
            held = ctx.get(dut.miso)
            await ctx.tick()
            got.append(ctx.get(dut.miso))
            assert got[-1] == held, "MISO changed in the cycle before the rising SCK edge"
            ctx.set(dut.sck, 1)
            await ctx.tick().repeat(self.high)
            ctx.set(dut.sck, 0)
        await ctx.tick().repeat(self.low)
        ctx.set(dut.cs_n, 1)
        await ctx.tick().repeat(self.low + 4)  # CS high time between commands
        return got

    async def transfer(self, ctx, out: bytes) -> bytes:
        bits = await self.bits(ctx, [(byte >> (7 - i)) & 1 for byte in out for i in range(8)])
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))

    async def write(self, ctx, address: int, words: list[int]) -> None:
        payload = b"".join(
            (word & ((1 << (8 * word_bytes(address + i))) - 1)).to_bytes(word_bytes(address + i), "big")
            for i, word in enumerate(words)
        )
        await self.transfer(ctx, bytes([rm.SPI_WRITE]) + address.to_bytes(2, "big") + payload)

    async def read(self, ctx, address: int, n: int) -> tuple[int, list[int]]:
        """(status byte, the n words as unsigned integers of their SPI width)."""
        sizes = [word_bytes(address + i) for i in range(n)]
        got = await self.transfer(
            ctx, bytes([rm.SPI_READ]) + address.to_bytes(2, "big") + bytes(1 + sum(sizes))
        )
        words, at = [], 4
        for size in sizes:
            words.append(int.from_bytes(got[at : at + size], "big"))
            at += size
        return got[3], words

    async def read1(self, ctx, address: int) -> int:
        return (await self.read(ctx, address, 1))[1][0]


SPI_SPEEDS = [(2, 2), (3, 4)]  # SCK = clk/4, and a slower, lopsided clk/7


def spi_test(speed, body, regmap: RegisterMap = REGMAP):
    dut, made = make_core("spi", regmap)

    async def testbench(ctx):
        await ctx.tick().repeat(3)
        await body(ctx, SpiMaster(dut, *speed))
        assert ctx.get(made[0].misused) == 0

    run(dut, testbench)


def status_error(status: int) -> int:
    return (status >> rm.STATUS_ERROR_SHIFT) & 0xFF


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_id_info_and_idle_status(speed):
    async def body(ctx, spi):
        status, words = await spi.read(ctx, rm.ID, 6)
        assert status == 0
        ident, stat, _, _, cycles, info = words
        assert ident == rm.ID_VALUE
        assert stat == 0 and cycles == 0
        assert info == REGMAP.info == 2 | (16 << 8) | (16 << 16)
        # START and CLEAR are write-only: the two words read in the middle were errors
        assert status_error(await spi.read1(ctx, rm.STATUS)) == Error.BAD_ADDRESS

    spi_test(speed, body)


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_writes_and_reads_back_data_words_and_registers(speed):
    data = [0x1234, 0xFFFF, 0x8000, 0x0001, 0x7FFF]
    registers = [0x12345678, -5 & 0xFFFFFFFF, 0x80000000]

    async def body(ctx, spi):
        await spi.write(ctx, REGMAP.data_word(3), data)
        await spi.write(ctx, REGMAP.register_word(1), registers)
        status, got = await spi.read(ctx, REGMAP.data_word(3), len(data))
        assert (status, got) == (0, data)
        status, got = await spi.read(ctx, REGMAP.register_word(1), len(registers))
        assert (status, got) == (0, registers)
        # The neighbours were not touched, and nothing set an error.
        assert await spi.read1(ctx, REGMAP.data_word(2)) == 0
        assert await spi.read1(ctx, REGMAP.data_word(8)) == 0
        assert await spi.read1(ctx, rm.STATUS) == 0

    spi_test(speed, body)


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_run_busy_done_cycles_and_clear(speed):
    async def body(ctx, spi):
        await spi.write(ctx, REGMAP.data_word(0), [41])
        await spi.write(ctx, rm.START, [1])
        status, (stat,) = await spi.read(ctx, rm.STATUS, 1)
        assert status == Error.BUSY  # the status byte says a segment runs...
        assert stat & rm.STATUS_BUSY and not stat & rm.STATUS_DONE and status_error(stat) == 0  # ...no error
        status, words = await spi.read(ctx, REGMAP.data_word(0), 1)
        assert status == Error.BUSY and words == [0]  # read during the run: refused, 0
        stat = await spi.read1(ctx, rm.STATUS)
        assert stat & rm.STATUS_BUSY and status_error(stat) == Error.BUSY
        await ctx.tick().repeat(BUSY_CYCLES)
        stat = await spi.read1(ctx, rm.STATUS)
        assert stat == rm.STATUS_DONE | (Error.BUSY << rm.STATUS_ERROR_SHIFT) | (1 << rm.STATUS_SEGMENT_SHIFT)
        await spi.write(ctx, rm.CLEAR, [0])
        status, words = await spi.read(ctx, REGMAP.data_word(0), 1)
        assert status == 0 and words == [42]  # the run happened once
        assert await spi.read1(ctx, REGMAP.register_word(0)) == 101
        assert await spi.read1(ctx, rm.CYCLES) == BUSY_CYCLES + 1  # the START cycle and the busy ones
        assert await spi.read1(ctx, rm.STATUS) == rm.STATUS_DONE | (1 << rm.STATUS_SEGMENT_SHIFT)

    spi_test(speed, body)


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_start_errors_and_first_error_sticks(speed):
    async def body(ctx, spi):
        await spi.write(ctx, rm.START, [REGMAP.segments])
        stat = await spi.read1(ctx, rm.STATUS)
        assert status_error(stat) == Error.BAD_SEGMENT and not stat & (rm.STATUS_BUSY | rm.STATUS_DONE)
        await spi.write(ctx, rm.ID, [1])  # read-only: a second error does not replace the first
        assert status_error(await spi.read1(ctx, rm.STATUS)) == Error.BAD_SEGMENT
        await spi.write(ctx, rm.CLEAR, [0])
        await spi.write(ctx, rm.ID, [1])
        assert status_error(await spi.read1(ctx, rm.STATUS)) == Error.BAD_ADDRESS
        await spi.write(ctx, rm.CLEAR, [0])
        await spi.write(ctx, rm.START, [0])
        await spi.write(ctx, rm.START, [1])  # while the first still runs
        await spi.write(ctx, REGMAP.data_word(0), [7])  # dropped
        stat = await spi.read1(ctx, rm.STATUS)
        assert status_error(stat) == Error.BUSY and stat >> rm.STATUS_SEGMENT_SHIFT == 0
        await ctx.tick().repeat(BUSY_CYCLES)
        await spi.write(ctx, rm.CLEAR, [0])
        assert await spi.read(ctx, REGMAP.data_word(0), 1) == (0, [1])  # one run, the write dropped

    spi_test(speed, body)


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_unknown_command_is_ignored_to_cs_high(speed):
    async def body(ctx, spi):
        # A write command's bytes after an unknown command: none of it may be obeyed.
        got = await spi.transfer(ctx, bytes([0x42, rm.SPI_WRITE, 0x10, 0x00, 0x55, 0x55]))
        assert got == bytes(6)
        status, words = await spi.read(ctx, REGMAP.data_word(0), 1)
        assert status == Error.BAD_COMMAND and words == [0]
        await spi.write(ctx, rm.CLEAR, [0])
        assert await spi.read(ctx, rm.ID, 1) == (0, [rm.ID_VALUE])

    spi_test(speed, body)


@pytest.mark.parametrize("speed", SPI_SPEEDS)
def test_spi_cs_rising_mid_word_drops_the_partial_word(speed):
    async def body(ctx, spi):
        command = bytes([rm.SPI_WRITE]) + REGMAP.data_word(4).to_bytes(2, "big")
        bits = [(b >> (7 - i)) & 1 for b in command + b"\x11\x11\x22\x22\x33" for i in range(8)]
        await spi.bits(ctx, bits + [1, 0, 1])  # two words, one byte and three bits of a third
        assert await spi.read(ctx, REGMAP.data_word(4), 3) == (0, [0x1111, 0x2222, 0])
        await spi.bits(ctx, [0, 0, 0, 0, 0])  # a command cut short
        read_id = [(b >> (7 - i)) & 1 for b in bytes([rm.SPI_READ, 0, rm.ID, 0, 0]) for i in range(8)]
        got = await spi.bits(ctx, read_id + [0, 0, 0])  # a read cut three bits into its second byte
        assert got[24:] == [0] * 8 + [0, 1, 0, 0, 1, 0, 0, 0] + [0, 1, 0]  # status, 0x48, 0b010 of 0x4C
        assert await spi.read(ctx, rm.ID, 1) == (0, [rm.ID_VALUE])
        assert await spi.read1(ctx, rm.STATUS) == 0

    spi_test(speed, body)


def test_spi_prefetch_beyond_the_last_word_read_sets_no_error():
    async def body(ctx, spi):
        await spi.read(ctx, rm.INFO, 1)  # the slave fetches word 6 (unmapped) but never sends it
        await spi.read(ctx, REGMAP.data_word(REGMAP.ram_depth - 1), 1)
        assert await spi.read1(ctx, rm.STATUS) == 0
        # Clocking even one bit of the unmapped word does count.
        read_info = [
            (b >> (7 - i)) & 1 for b in bytes([rm.SPI_READ, 0, rm.INFO]) + bytes(5) for i in range(8)
        ]
        await spi.bits(ctx, [*read_info, 0])
        assert status_error(await spi.read1(ctx, rm.STATUS)) == Error.BAD_ADDRESS

    spi_test((2, 2), body)


def test_spi_three_byte_data_words_are_sign_extended_on_read():
    regmap = RegisterMap(segments=1, registers=2, ram_depth=8, ram_word_bits=20)
    assert regmap.data_bytes == 3

    async def body(ctx, spi):
        await spi.transfer(ctx, bytes([rm.SPI_WRITE, 0x10, 0x01, 0x0F, 0xFF, 0xFE, 0x01, 0x23, 0x45]))
        got = await spi.transfer(ctx, bytes([rm.SPI_READ, 0x10, 0x01]) + bytes(7))
        assert got[3:] == bytes([0, 0xFF, 0xFF, 0xFE, 0x01, 0x23, 0x45])  # 20 bits, sign-extended

    spi_test((2, 2), body, regmap)


# --- AXI4-Lite ---------------------------------------------------------------------------------

AXI_LIMIT = 8  # cycles any step of a transaction may take: nothing waits longer


class AxiMaster:
    def __init__(self, dut: CodesignCore) -> None:
        self.dut = dut

    async def _handshake(self, ctx, valid, ready) -> None:
        ctx.set(valid, 1)
        for _ in range(AXI_LIMIT):
            fired = ctx.get(ready)
            await ctx.tick()
            if fired:
                ctx.set(valid, 0)
                return
        raise AssertionError(f"{ready.name} never rose")

    async def _response(self, ctx, valid, ready, stall: int, *payload):
        for _ in range(AXI_LIMIT):
            if ctx.get(valid):
                break
            await ctx.tick()
        else:
            raise AssertionError(f"{valid.name} never rose")
        values = [ctx.get(p) for p in payload]
        for _ in range(stall):  # back-pressure: the response must hold still
            await ctx.tick()
            assert ctx.get(valid) and [ctx.get(p) for p in payload] == values
        ctx.set(ready, 1)
        await ctx.tick()
        ctx.set(ready, 0)
        assert not ctx.get(valid)
        return values

    async def write(self, ctx, byte_address: int, value: int, order: str = "together", stall: int = 0) -> int:
        dut = self.dut
        ctx.set(dut.s_axi_awaddr, byte_address)
        ctx.set(dut.s_axi_wdata, value & 0xFFFFFFFF)
        ctx.set(dut.s_axi_wstrb, 0xF)
        if order == "together":
            pending = {"aw", "w"}
            for channel in pending:
                ctx.set(getattr(dut, f"s_axi_{channel}valid"), 1)
            for _ in range(AXI_LIMIT):
                fired = {channel for channel in pending if ctx.get(getattr(dut, f"s_axi_{channel}ready"))}
                await ctx.tick()
                for channel in fired:
                    ctx.set(getattr(dut, f"s_axi_{channel}valid"), 0)
                pending -= fired
                if not pending:
                    break
            assert not pending, "the write address or data was never taken"
        else:
            first, second = ("aw", "w") if order == "aw_first" else ("w", "aw")
            await self._handshake(
                ctx, getattr(dut, f"s_axi_{first}valid"), getattr(dut, f"s_axi_{first}ready")
            )
            await ctx.tick().repeat(3)
            assert not ctx.get(dut.s_axi_bvalid), "a write answered before both its halves arrived"
            await self._handshake(
                ctx, getattr(dut, f"s_axi_{second}valid"), getattr(dut, f"s_axi_{second}ready")
            )
        (resp,) = await self._response(ctx, dut.s_axi_bvalid, dut.s_axi_bready, stall, dut.s_axi_bresp)
        return resp

    async def read(self, ctx, byte_address: int, stall: int = 0) -> tuple[int, int]:
        dut = self.dut
        ctx.set(dut.s_axi_araddr, byte_address)
        await self._handshake(ctx, dut.s_axi_arvalid, dut.s_axi_arready)
        data, resp = await self._response(
            ctx, dut.s_axi_rvalid, dut.s_axi_rready, stall, dut.s_axi_rdata, dut.s_axi_rresp
        )
        return data, resp


def axi_test(body):
    dut, made = make_core("axi")

    async def testbench(ctx):
        await ctx.tick().repeat(2)
        await body(ctx, AxiMaster(dut))
        assert ctx.get(made[0].misused) == 0

    run(dut, testbench)


def test_axi_reads_and_writes_okay():
    async def body(ctx, axi):
        assert await axi.read(ctx, 4 * rm.ID) == (rm.ID_VALUE, OKAY)
        assert await axi.read(ctx, 4 * rm.INFO) == (REGMAP.info, OKAY)
        for order in ("together", "aw_first", "w_first"):
            value = {"together": -2, "aw_first": 0x1234, "w_first": 0x0777}[order]
            assert await axi.write(ctx, 4 * REGMAP.data_word(5), value, order) == OKAY
            assert await axi.read(ctx, 4 * REGMAP.data_word(5)) == (value & 0xFFFFFFFF, OKAY)
        assert await axi.write(ctx, 4 * REGMAP.register_word(3), 0x89ABCDEF, stall=3) == OKAY
        assert await axi.read(ctx, 4 * REGMAP.register_word(3), stall=4) == (0x89ABCDEF, OKAY)
        assert await axi.read(ctx, 4 * rm.STATUS) == (0, OKAY)

    axi_test(body)


def test_axi_run_and_slverr_on_busy_read():
    async def body(ctx, axi):
        assert await axi.write(ctx, 4 * rm.START, 0) == OKAY
        assert await axi.read(ctx, 4 * REGMAP.data_word(0), stall=2) == (0, SLVERR)
        assert await axi.write(ctx, 4 * REGMAP.register_word(0), 5) == SLVERR
        status, _ = await axi.read(ctx, 4 * rm.STATUS)
        assert status & rm.STATUS_BUSY and status_error(status) == Error.BUSY
        await ctx.tick().repeat(BUSY_CYCLES)
        assert await axi.read(ctx, 4 * rm.CYCLES) == (BUSY_CYCLES + 1, OKAY)
        assert await axi.read(ctx, 4 * REGMAP.data_word(0)) == (1, OKAY)
        assert await axi.read(ctx, 4 * REGMAP.register_word(0)) == (100, OKAY)
        assert await axi.write(ctx, 4 * rm.START, 7) == SLVERR

    axi_test(body)


def test_axi_unaligned_and_unmapped_are_slverr_bad_address():
    async def body(ctx, axi):
        assert await axi.read(ctx, 4 * rm.ID) == (rm.ID_VALUE, OKAY)
        assert await axi.read(ctx, 4 * rm.ID + 2) == (0, SLVERR)  # not the last read's data
        assert status_error((await axi.read(ctx, 4 * rm.STATUS))[0]) == Error.BAD_ADDRESS
        assert await axi.write(ctx, 4 * rm.CLEAR, 0) == OKAY
        assert await axi.write(ctx, 4 * REGMAP.data_word(1) + 1, 99, "w_first") == SLVERR
        assert await axi.read(ctx, 4 * REGMAP.data_word(1)) == (0, OKAY)  # not written
        for address in (
            rm.CONTROL_WORDS,
            REGMAP.register_word(REGMAP.registers),
            REGMAP.data_word(16),
            0xFFFF,
        ):
            assert await axi.read(ctx, 4 * address) == (0, SLVERR)
            assert await axi.write(ctx, 4 * address, 1) == SLVERR
        assert await axi.read(ctx, 4 * rm.START) == (0, SLVERR)  # write-only
        assert await axi.write(ctx, 4 * rm.CYCLES, 1) == SLVERR  # read-only
        assert status_error((await axi.read(ctx, 4 * rm.STATUS))[0]) == Error.BAD_ADDRESS

    axi_test(body)


def test_axi_read_and_write_offered_together_run_one_at_a_time():
    dut, _ = make_core("axi")

    async def testbench(ctx):
        await ctx.tick()
        ctx.set(dut.s_axi_araddr, 4 * REGMAP.data_word(2))
        ctx.set(dut.s_axi_awaddr, 4 * REGMAP.data_word(2))
        ctx.set(dut.s_axi_wdata, 0x55)
        for signal in (dut.s_axi_arvalid, dut.s_axi_awvalid, dut.s_axi_wvalid):
            ctx.set(signal, 1)
        assert ctx.get(dut.s_axi_arready) and not ctx.get(dut.s_axi_awready) and not ctx.get(dut.s_axi_wready)
        await ctx.tick()
        ctx.set(dut.s_axi_arvalid, 0)
        ctx.set(dut.s_axi_rready, 1)
        for _ in range(AXI_LIMIT):  # the read (of the old value) first; the write waits
            assert not ctx.get(dut.s_axi_awready)
            if ctx.get(dut.s_axi_rvalid):
                break
            await ctx.tick()
        assert ctx.get(dut.s_axi_rdata) == 0
        await ctx.tick()
        ctx.set(dut.s_axi_rready, 0)
        axi = AxiMaster(dut)
        await axi._handshake(ctx, dut.s_axi_awvalid, dut.s_axi_awready)
        (resp,) = await axi._response(ctx, dut.s_axi_bvalid, dut.s_axi_bready, 0, dut.s_axi_bresp)
        assert resp == OKAY
        assert await axi.read(ctx, 4 * REGMAP.data_word(2)) == (0x55, OKAY)

    run(dut, testbench)


# --- every access finishes ---------------------------------------------------------------------


def test_command_core_answers_every_access_in_one_cycle_and_never_uses_a_busy_port():
    m = Module()
    m.submodules.core = core = CommandCore(REGMAP)
    m.submodules.accel = accel = FakeAccelerator(busy_cycles=5)
    wiring.connect(m, core.host, accel.host)
    rng = random.Random(8)
    interesting = [rm.ID, rm.STATUS, rm.START, rm.CLEAR, rm.CYCLES, rm.INFO, rm.CONTROL_WORDS, 0x1FF, 0xFFFF]
    interesting += [REGMAP.register_word(r) for r in (0, 3, 4)] + [REGMAP.data_word(n) for n in (0, 15, 16)]
    seen_errors = set()

    async def testbench(ctx):
        for _ in range(600):
            addr = rng.choice(interesting)
            write = rng.random() < 0.5
            ctx.set(core.bus.addr, addr)
            ctx.set(core.bus.write, write)
            ctx.set(core.bus.wdata, rng.choice([0, 1, 2, 0xFFFFFFFF]))
            ctx.set(core.bus.strobe, 1)
            await ctx.tick()
            ctx.set(core.bus.strobe, 0)
            assert ctx.get(core.bus.ack), f"no answer for {'write' if write else 'read'} of {addr:#x}"
            error = ctx.get(core.bus.error)
            seen_errors.add(error)
            if error:
                assert ctx.get(core.bus.rdata) == 0
            for _ in range(rng.choice([0, 0, 1, 3])):
                await ctx.tick()
                assert not ctx.get(core.bus.ack), "one access, one answer"
        assert ctx.get(accel.misused) == 0

    run(m, testbench)
    assert seen_errors == {0, Error.BAD_ADDRESS, Error.BUSY, Error.BAD_SEGMENT}


def test_random_axi_transactions_all_finish():
    rng = random.Random(3)
    addresses = [rm.ID, rm.STATUS, rm.START, rm.CLEAR, rm.CYCLES, rm.INFO, 7, REGMAP.register_word(1)]
    addresses += [REGMAP.data_word(0), REGMAP.data_word(16)]

    async def body(ctx, axi):
        for _ in range(60):  # each step of each transaction is bounded by AXI_LIMIT in AxiMaster
            byte_address = 4 * rng.choice(addresses) + rng.choice([0, 0, 0, 1, 2])
            if rng.random() < 0.5:
                await axi.read(ctx, byte_address, stall=rng.choice([0, 2]))
            else:
                order = rng.choice(["together", "aw_first", "w_first"])
                await axi.write(ctx, byte_address, rng.choice([0, 1, 5]), order, stall=rng.choice([0, 1]))

    axi_test(body)


def test_the_link_must_be_spi_or_axi():
    with pytest.raises(ValueError, match="link must be one of spi, axi, not 'uart'"):
        CodesignCore(FakeAccelerator, REGMAP, "uart")


# --- the top as Verilog ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "ports"),
    [
        ("spi", ["input sck", "input cs_n", "input mosi", "output miso"]),
        ("axi", ["input [17:0] s_axi_awaddr", "output s_axi_awready", "input [3:0] s_axi_wstrb"]),
    ],
)
def test_codesign_core_converts_with_only_the_link_wires_as_ports(link, ports):
    text = verilog.convert(CodesignCore(FakeAccelerator, REGMAP, link), name=TOP, emit_src=False)
    assert f"module {TOP}(" in text
    for port in [*ports, "input clk", "input rst"]:
        assert f"  {port};" in text, port
    assert "input [15:0] addr" not in text  # the host port stays inside


def test_the_register_map_of_an_image():
    image = SimpleNamespace(
        segment_entries=[0, 9, 17], regs={"r_j": 0, "r_class": 1}, ram_depth=119, word_bits=12
    )
    assert register_map(image) == RegisterMap(segments=3, registers=2, ram_depth=119, ram_word_bits=12)


# --- a real segment ----------------------------------------------------------------------------


class SpiHost:
    """Word accesses over the SPI master (the Uno's view)."""

    def __init__(self, dut: CodesignCore) -> None:
        self.spi = SpiMaster(dut, 2, 2)

    async def write(self, ctx, word: int, values: list[int]) -> None:
        await self.spi.write(ctx, word, values)

    async def read(self, ctx, word: int) -> int:
        status, (value,) = await self.spi.read(ctx, word, 1)
        assert status == 0 or word < rm.CONTROL_WORDS, f"status byte {status} reading {word:#x}"
        return value


class AxiHost:
    """Word accesses over the AXI4-Lite master (the MicroBlaze's view)."""

    def __init__(self, dut: CodesignCore) -> None:
        self.axi = AxiMaster(dut)

    async def write(self, ctx, word: int, values: list[int]) -> None:
        for i, value in enumerate(values):
            assert await self.axi.write(ctx, 4 * (word + i), value) == OKAY

    async def read(self, ctx, word: int) -> int:
        value, resp = await self.axi.read(ctx, 4 * word)
        assert resp == OKAY
        return value


@pytest.fixture(scope="module")
def protonn():
    import hlsfix
    from hlsfix.fixedpoint.golden import quantize_input, run_golden
    from hlsfix.rtl.microcode import compile_image

    compiled = hlsfix.compile("protonn")
    program = compiled.program
    # Two segments, so START's segment number and each segment's entry are exercised.
    image = compile_image(program, 1, segments=[[0, 1], [2, 3]])
    x_q = quantize_input(program, compiled.test[0][:20])
    expected = run_golden(program, x_q).output
    rows = [0, next(i for i in range(len(x_q)) if expected[i] != expected[0])]
    return program, image, x_q[rows], [int(expected[row]) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("link", ["spi", "axi"])
def test_protonn_segments_run_through_the_link_bit_exact(protonn, link):
    """The real accelerator driven only over the link: for two inputs of different classes,
    write the input, start both segments in turn (polling each), read the class register."""
    from hlsfix.rtl.accelerator import Accelerator

    program, image, inputs, expected = protonn
    regmap = register_map(image)
    where = image.locs[program.input]
    dut = CodesignCore(lambda: Accelerator(image, host_port=True), regmap, link)
    got, busy_polls, cycles = [], [], []

    async def testbench(ctx):
        host = SpiHost(dut) if link == "spi" else AxiHost(dut)
        await ctx.tick().repeat(3)
        for x in inputs:
            if where.scale == 1:
                await host.write(ctx, regmap.data_word(where.base), [int(v) for v in x])
            else:
                for i, v in enumerate(x):
                    await host.write(ctx, regmap.data_word(where.base + i * where.scale), [int(v)])
            for segment in range(regmap.segments):
                await host.write(ctx, rm.START, [segment])
                polls = 0
                while (stat := await host.read(ctx, rm.STATUS)) & rm.STATUS_BUSY:
                    polls += 1
                    assert polls < 5000, "the segment never finished"
                busy_polls.append(polls)
                assert stat == rm.STATUS_DONE | (segment << rm.STATUS_SEGMENT_SHIFT), f"STATUS {stat:#x}"
                cycles.append(await host.read(ctx, rm.CYCLES))
            value = await host.read(ctx, regmap.register_word(image.regs[program.output]))
            got.append(value - (1 << 32) if value >> 31 else value)

    run(dut, testbench)
    assert got == expected
    assert cycles == image.segment_cycles * len(inputs)  # measured START → idle = the schedule's
    assert max(busy_polls) > 0  # some run outlasted a STATUS read: BUSY was seen


@pytest.mark.parametrize("link", ["spi", "axi"])
def test_emit_codesign_verilog_writes_one_top_module(protonn, link, tmp_path):
    _, image, _, _ = protonn
    path = emit_codesign_verilog(image, link, tmp_path / "out")
    text = path.read_text()
    assert path == tmp_path / "out" / f"{TOP}.v"
    assert f"module {TOP}(" in text
    assert ("input sck;" in text) == (link == "spi") and ("input s_axi_awvalid;" in text) == (link == "axi")
    assert "initial #1" in text  # the combinational blocks are woken for Icarus
