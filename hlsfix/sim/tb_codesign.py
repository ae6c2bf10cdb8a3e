"""cocotb testbench of co-design: a host program drives the FPGA side over its real link pins.

The host is any process that speaks the pipe protocol of ``hlsfix/codesign/pipe.py`` on its
stdin/stdout: the generated host C (compiled for this machine, its transport layer replaced by
``transport_cosim.c``) or a scripted test host. This testbench turns each request into pin
activity of the emitted Verilog and answers with what the pins returned:

- SPI (mode 0): ``S`` lowers cs_n, ``X hh`` shifts one byte (MOSI set half a period before the
  rising SCK edge, MISO sampled at it), ``D`` raises cs_n. SCK runs at the host's rate (an Uno:
  F_CPU/2), with the host driver's per-byte overhead as idle time between bytes.
- AXI4-Lite: ``R``/``W`` are one read/write transaction each, on the clock, plus the soft CPU's
  per-access overhead in idle cycles.

The host's own computation takes no simulated time; the time between ``I n`` and ``J n`` is the
link and accelerator time of inference n (the runner adds the host's measured compute cycles).

Configuration in the JSON file named by ``HLSFIX_TB_CONFIG``; results to ``HLSFIX_TB_RESULT``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

SPI_WRITE, SPI_READ = 0x02, 0x03  # hlsfix/codesign/regmap.py (not importable in every simulator run)


class Pacer:
    """The host driver's own time around each link transaction, from its measured costs (see
    ``hlsfix/codesign/link_costs.py``), spent after the transaction: the wire (SCK, AXI
    handshakes) is simulated, the instructions around it are not.

    While the accelerator is idle nothing on the FPGA side changes with time, so that part of the
    driver's time is only counted (``virtual_ps``), not simulated: the co-simulation then runs
    several times faster and every observable (poll counts, results, total time) is the same."""

    SETTLE_CYCLES = 8  # a START reaches the accelerator a few cycles after the transaction ends

    def __init__(self, cfg: dict, dut) -> None:
        self.c = cfg["driver"]
        self.ps_per_cycle = 1e12 / cfg["host_hz"]
        self.clk_ps = cfg["clk_period_ps"]
        self.data_base, self.status, self.start = cfg["data_base"], cfg["status_word"], cfg["start_word"]
        self.reg_base, self.next_data = cfg["reg_base"], -1
        self.busy = dut.host__busy
        self.virtual_ps = 0

    def cycles(self, write: bool, word: int, n_words: int) -> float:
        c = self.c
        if word >= self.data_base:
            burst = word == self.next_data  # the next word of one driver call (MMIO)
            self.next_data = word + n_words
            kind = "write" if write else "read"
            return (0 if burst else c[f"{kind}_fixed"]) + n_words * c[f"{kind}_per_word"]
        self.next_data = -1
        if word >= self.reg_base:
            return c["write_register"] if write else c["read_register"]
        if write and word == self.start:
            return c["start"]
        return c["poll"]

    async def spend(self, write: bool, word: int, n_words: int) -> None:
        ps = round(self.cycles(write, word, n_words) * self.ps_per_cycle)
        settle = min(ps, self.SETTLE_CYCLES * self.clk_ps)
        if settle > 0:
            await Timer(settle, unit="ps")
            ps -= settle
        step = 16 * self.clk_ps
        while ps > 0 and int(self.busy.value):
            await Timer(min(ps, step), unit="ps")
            ps -= min(ps, step)
        self.virtual_ps += max(ps, 0)

    def now_ps(self) -> int:
        return get_sim_time("ps") + self.virtual_ps


class SpiMaster:
    """Mode 0 at the host's SCK; after each CS-low period the pacer adds the driver's time."""

    def __init__(self, dut, half_period_ps: int, pacer: Pacer, data_bytes: int) -> None:
        self.dut, self.half, self.pacer, self.data_bytes = dut, half_period_ps, pacer, data_bytes
        dut.cs_n.value = 1
        dut.sck.value = 0
        dut.mosi.value = 0
        self.bytes = 0
        self.sent: list[int] = []  # MOSI bytes of the current CS-low period

    async def select(self) -> None:
        self.dut.cs_n.value = 0
        self.sent = []
        await Timer(self.half, unit="ps")

    async def deselect(self) -> None:
        await Timer(self.half, unit="ps")
        self.dut.cs_n.value = 1
        await Timer(self.half, unit="ps")
        if len(self.sent) >= 3 and self.sent[0] in (SPI_WRITE, SPI_READ):
            write = self.sent[0] == SPI_WRITE
            word = (self.sent[1] << 8) | self.sent[2]
            word_bytes = self.data_bytes if word >= self.pacer.data_base else 4
            data = len(self.sent) - (3 if write else 4)
            await self.pacer.spend(write, word, max(1, data // word_bytes))

    async def transfer(self, out: int) -> int:
        dut, got = self.dut, 0
        for bit in range(7, -1, -1):
            dut.mosi.value = (out >> bit) & 1
            await Timer(self.half, unit="ps")
            dut.sck.value = 1
            await ReadOnly()
            got = (got << 1) | int(dut.miso.value)
            await Timer(self.half, unit="ps")
            dut.sck.value = 0
        self.sent.append(out)
        self.bytes += 1
        return got


class AxiLiteMaster:
    """Single AXI4-Lite transactions. Inputs change at falling clock edges and the handshakes
    are judged in the settled (read-only) phase there: a channel transfers at the next rising
    edge when its valid and ready are both high."""

    def __init__(self, dut, pacer: Pacer) -> None:
        self.dut, self.pacer = dut, pacer
        for name in ("awvalid", "wvalid", "bready", "arvalid", "rready"):
            getattr(dut, f"s_axi_{name}").value = 0
        dut.s_axi_wstrb.value = 0xF
        self.accesses = 0

    async def _transfer(self, channels: list[str]) -> None:
        """Hold ``<channel>valid`` high until each of ``channels`` has transferred."""
        dut, left = self.dut, list(channels)
        while left:
            await ReadOnly()
            done = [c for c in left if int(getattr(dut, f"s_axi_{c}ready").value)]
            await RisingEdge(dut.clk)  # the transfer edge of every channel ready now
            await FallingEdge(dut.clk)
            for c in done:
                getattr(dut, f"s_axi_{c}valid").value = 0
                left.remove(c)

    async def _response(self, channel: str) -> tuple[int, ...]:
        dut = self.dut
        while True:
            await ReadOnly()
            if int(getattr(dut, f"s_axi_{channel}valid").value):
                break
            await FallingEdge(dut.clk)
        got = (
            (int(dut.s_axi_rdata.value), int(dut.s_axi_rresp.value))
            if channel == "r"
            else (int(dut.s_axi_bresp.value),)
        )
        await RisingEdge(dut.clk)  # the response transfers
        await FallingEdge(dut.clk)
        getattr(dut, f"s_axi_{channel}ready").value = 0
        self.accesses += 1
        return got

    async def read(self, addr: int) -> tuple[int, int]:
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.s_axi_araddr.value = addr
        dut.s_axi_arvalid.value = 1
        dut.s_axi_rready.value = 1
        await self._transfer(["ar"])
        value, resp = await self._response("r")
        await self.pacer.spend(False, addr // 4, 1)
        return value, resp

    async def write(self, addr: int, value: int) -> int:
        dut = self.dut
        await FallingEdge(dut.clk)
        dut.s_axi_awaddr.value = addr
        dut.s_axi_wdata.value = value & 0xFFFFFFFF
        dut.s_axi_awvalid.value = 1
        dut.s_axi_wvalid.value = 1
        dut.s_axi_bready.value = 1
        await self._transfer(["aw", "w"])
        (resp,) = await self._response("b")
        await self.pacer.spend(True, addr // 4, 1)
        return resp


@cocotb.test()
async def host_program_over_the_link(dut):
    with open(os.environ["HLSFIX_TB_CONFIG"]) as f:
        cfg = json.load(f)
    cocotb.start_soon(Clock(dut.clk, cfg["clk_period_ps"], unit="ps").start())
    link = cfg["link"]
    pacer = Pacer(cfg, dut)
    if link == "spi":
        bus = SpiMaster(dut, cfg["sck_half_period_ps"], pacer, cfg["data_bytes"])
    else:
        bus = AxiLiteMaster(dut, pacer)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)

    host = subprocess.Popen(
        cfg["host_command"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        cwd=cfg.get("host_cwd"),
    )
    # A thread reads the host's lines: the simulator stays paused while the host computes, and a
    # host that hangs is noticed (a blocking read could wait forever).
    lines: queue.Queue[str] = queue.Queue()

    def read_host() -> None:
        for text in host.stdout:
            lines.put(text)
        lines.put("")

    threading.Thread(target=read_host, daemon=True).start()
    begin: dict[int, int] = {}
    inferences: list[dict] = []
    requests = 0
    try:
        while True:
            try:
                line = lines.get(timeout=cfg.get("host_timeout_s", 60))
            except queue.Empty:
                raise AssertionError("the host program sent nothing for too long (hung?)") from None
            if not line:
                raise AssertionError("the host program ended without sending E")
            words = line.split()
            if not words:
                continue
            op, args = words[0], words[1:]
            requests += 1
            if op == "S":
                await bus.select()
            elif op == "D":
                await bus.deselect()
            elif op == "X":
                host.stdin.write(f"{await bus.transfer(int(args[0], 16)):02x}\n")
            elif op == "R":
                value, resp = await bus.read(int(args[0], 16))
                host.stdin.write(f"{value:08x} {resp}\n")
            elif op == "W":
                host.stdin.write(f"{await bus.write(int(args[0], 16), int(args[1], 16))}\n")
            elif op == "I":
                begin[int(args[0])] = pacer.now_ps()
                counts = (getattr(bus, "bytes", 0), getattr(bus, "accesses", 0))
            elif op == "J":
                n = int(args[0])
                inferences.append(
                    {
                        "n": n,
                        "link_ps": pacer.now_ps() - begin.pop(n),
                        "spi_bytes": getattr(bus, "bytes", 0) - counts[0],
                        "axi_accesses": getattr(bus, "accesses", 0) - counts[1],
                    }
                )
            elif op == "E":
                break
            else:
                raise AssertionError(f"unknown host request {line!r}")
            if op in ("X", "R", "W"):
                host.stdin.flush()
    finally:
        with contextlib.suppress(BrokenPipeError):
            host.stdin.close()
        status = host.wait(timeout=30)
        host.stdout.close()
    with open(os.environ["HLSFIX_TB_RESULT"], "w") as f:
        json.dump({"inferences": inferences, "host_status": status, "requests": requests}, f)
    assert status == 0, f"the host program exited with status {status}"
