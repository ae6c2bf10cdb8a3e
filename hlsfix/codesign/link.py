"""The FPGA side of the co-design link: ``CommandCore``, shared by the SPI and AXI4-Lite front-ends.

A front-end (``spi.SpiSlave``, ``axi.AxiLiteSlave``) turns its wire protocol into word accesses on
``LINK_BUS``; ``CommandCore`` decodes them against ``regmap.py`` and drives the accelerator's host
port (``hlsfix.rtl.hostport.HOST_PORT``).

``LINK_BUS`` timing (flows are the front-end's, the master's; the core takes ``In(LINK_BUS)``):

- a one-cycle ``strobe`` carries one access: ``addr`` (a word index), ``write`` and ``wdata``;
- exactly one cycle later ``ack`` is high for one cycle with ``rdata`` (0 when the access failed)
  and ``error``, the access's ``regmap.Error`` (0 = OK). A front-end issues one access at a time,
  so every access finishes in two cycles and nothing can hang;
- the core does not record an access's error itself: the front-end reports it with a one-cycle
  ``fault`` and ``fault_code`` when the host has really made the access. This lets the SPI slave
  prefetch the word after the last one the host reads without a spurious BAD_ADDRESS or BUSY;
- ``sticky_error`` is STATUS's error code (the first reported since the last CLEAR) and ``busy``
  STATUS's BUSY bit, for the SPI status byte.
"""

# An FSM-like decoder reads case by case: a case's body stays nested under it even when it is one `If`.
# ruff: noqa: SIM117

from __future__ import annotations

from amaranth import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hlsfix.codesign import regmap as rm
from hlsfix.codesign.regmap import Error, RegisterMap
from hlsfix.rtl.hostport import HOST_PORT

ERROR_BITS = 8  # STATUS bits 8-15

LINK_BUS = wiring.Signature(
    {
        "addr": Out(rm.ADDR_BITS),
        "wdata": Out(32),
        "write": Out(1),
        "strobe": Out(1),
        "fault": Out(1),
        "fault_code": Out(ERROR_BITS),
        "ack": In(1),
        "rdata": In(32),
        "error": In(ERROR_BITS),
        "sticky_error": In(ERROR_BITS),
        "busy": In(1),
    }
)


class CommandCore(wiring.Component):
    """Control registers, run bookkeeping and the register/data windows of ``regmap.py``.

    STATUS: BUSY is the accelerator's ``busy``; DONE is set when ``busy`` falls after a START and
    cleared by the next START. CYCLES counts the cycles from the last START to idle: the start
    cycle and the cycles ``busy`` is high after it, as ``Image.segment_cycles`` counts them (it
    reads the running count during a run). Register and data-window accesses reach the host port
    only while the accelerator is idle.
    """

    def __init__(self, regmap: RegisterMap) -> None:
        self.regmap = regmap
        super().__init__({"bus": In(LINK_BUS), "host": Out(HOST_PORT)})

    def elaborate(self, platform):
        m = Module()
        bus, host, regmap = self.bus, self.host, self.regmap

        sticky_error = Signal(ERROR_BITS)
        done = Signal()
        last_segment = Signal(8)
        cycles = Signal(32)
        running = Signal()  # from a START until busy falls (HOST_PORT: busy rises the cycle after start)
        busy = host.busy
        m.d.comb += [bus.sticky_error.eq(sticky_error), bus.busy.eq(busy)]

        with m.If(running):
            with m.If(busy):
                m.d.sync += cycles.eq(cycles + 1)
            with m.Else():
                m.d.sync += [running.eq(0), done.eq(1)]

        status = Cat(
            busy,
            done | (running & ~busy),  # a read in the cycle busy falls sees DONE too
            C(0, rm.STATUS_ERROR_SHIFT - 2),
            sticky_error,
            last_segment,
            C(0, 32 - rm.STATUS_SEGMENT_SHIFT - 8),
        )

        # --- decode: the access happens in the strobe cycle, its answer is registered for `ack`
        addr = bus.addr
        in_registers = (addr >= rm.REG_BASE) & (addr < rm.REG_BASE + regmap.registers)
        in_data = (addr >= rm.DATA_BASE) & (addr < rm.DATA_BASE + regmap.ram_depth)
        error = Signal(ERROR_BITS)
        value = Signal(32)  # a control register's value (host reads answer on host.rdata instead)
        host_read = Signal()
        clear = Signal()

        m.d.comb += [
            host.addr.eq(Mux(in_registers, addr - rm.REG_BASE, addr - rm.DATA_BASE)),
            host.reg.eq(in_registers),
            host.wdata.eq(bus.wdata),
            host.segment.eq(bus.wdata[:8]),
        ]
        with m.If(bus.strobe):
            with m.If(in_registers | in_data):
                with m.If(busy):
                    m.d.comb += error.eq(Error.BUSY)
                with m.Elif(bus.write):
                    m.d.comb += host.we.eq(1)
                with m.Else():
                    m.d.comb += [host.re.eq(1), host_read.eq(1)]
            with m.Elif(bus.write):
                with m.If(addr == rm.START):
                    with m.If(busy):
                        m.d.comb += error.eq(Error.BUSY)
                    with m.Elif(bus.wdata >= regmap.segments):
                        m.d.comb += error.eq(Error.BAD_SEGMENT)
                    with m.Else():
                        m.d.comb += host.start.eq(1)
                        m.d.sync += [
                            last_segment.eq(bus.wdata[:8]),
                            done.eq(0),
                            cycles.eq(1),  # START → idle includes the start cycle, as segment_cycles does
                            running.eq(1),
                        ]
                with m.Elif(addr == rm.CLEAR):
                    m.d.comb += clear.eq(1)
                with m.Else():
                    m.d.comb += error.eq(Error.BAD_ADDRESS)
            with m.Else():
                with m.Switch(addr):
                    with m.Case(rm.ID):
                        m.d.comb += value.eq(rm.ID_VALUE)
                    with m.Case(rm.STATUS):
                        m.d.comb += value.eq(status)
                    with m.Case(rm.CYCLES):
                        m.d.comb += value.eq(cycles)
                    with m.Case(rm.INFO):
                        m.d.comb += value.eq(regmap.info)
                    with m.Default():  # START and CLEAR are write-only; the rest is unmapped
                        m.d.comb += error.eq(Error.BAD_ADDRESS)

        # --- answer, one cycle after the strobe
        answer_value = Signal(32)
        answer_from_host = Signal()
        m.d.sync += [
            bus.ack.eq(bus.strobe),
            bus.error.eq(error),
            answer_value.eq(value),
            answer_from_host.eq(host_read),
        ]
        m.d.comb += bus.rdata.eq(Mux(answer_from_host, host.rdata, answer_value))

        # --- the sticky error: CLEAR empties it, a reported fault fills it only when empty
        with m.If(clear):
            m.d.sync += sticky_error.eq(0)
        with m.If(bus.fault & ((sticky_error == 0) | clear)):
            m.d.sync += sticky_error.eq(bus.fault_code)
        return m
