"""AXI4-Lite slave front-end of the co-design link (the MicroBlaze host).

32-bit data, 18-bit byte addresses (4 × the 16-bit word index of ``regmap.py``). One transaction
at a time: AW and W are accepted in either order (or together) and held until the write is done;
AR is accepted only when no write has begun, and a read offered together with a write goes first.
Each transaction is one ``LINK_BUS`` access (answered in two cycles), so a response is offered
three cycles after its request is complete and stays offered until the master takes it.

RRESP/BRESP are OKAY, or SLVERR when the access failed, with the error code latched in STATUS by
the usual sticky rule; a failed read returns 0. An address that is not 4-byte aligned is SLVERR
and BAD_ADDRESS without reaching the core. Writes are whole words: ``s_axi_wstrb`` is ignored.
"""

# A state reads case by case: a case's body stays nested under it even when it is one `If`.
# ruff: noqa: SIM117

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hlsfix.codesign import regmap as rm
from hlsfix.codesign.link import LINK_BUS
from hlsfix.codesign.regmap import Error

AXI_ADDR_BITS = rm.ADDR_BITS + 2
RESP_OKAY = 0b00
RESP_SLVERR = 0b10

# The slave's AXI4-Lite ports, named as Vivado's interface inference expects.
AXI_LITE_SLAVE_PORTS = {
    "s_axi_awaddr": In(AXI_ADDR_BITS),
    "s_axi_awvalid": In(1),
    "s_axi_awready": Out(1),
    "s_axi_wdata": In(32),
    "s_axi_wstrb": In(4),
    "s_axi_wvalid": In(1),
    "s_axi_wready": Out(1),
    "s_axi_bresp": Out(2),
    "s_axi_bvalid": Out(1),
    "s_axi_bready": In(1),
    "s_axi_araddr": In(AXI_ADDR_BITS),
    "s_axi_arvalid": In(1),
    "s_axi_arready": Out(1),
    "s_axi_rdata": Out(32),
    "s_axi_rresp": Out(2),
    "s_axi_rvalid": Out(1),
    "s_axi_rready": In(1),
}


class AxiLiteSlave(wiring.Component):
    """AXI4-Lite slave turning each transaction into one ``LINK_BUS`` access."""

    def __init__(self) -> None:
        super().__init__({**AXI_LITE_SLAVE_PORTS, "bus": Out(LINK_BUS)})

    def elaborate(self, platform):
        m = Module()
        bus = self.bus

        address = Signal(AXI_ADDR_BITS)  # byte address of the transaction
        wdata = Signal(32)
        have_aw = Signal()
        have_w = Signal()
        response = Signal(2)
        m.d.comb += [bus.addr.eq(address[2:]), bus.wdata.eq(wdata)]

        def answer_when_acked():
            with m.If(bus.ack):
                m.d.comb += [bus.fault.eq(bus.error != 0), bus.fault_code.eq(bus.error)]
                m.d.sync += response.eq(RESP_OKAY)
                with m.If(bus.error != 0):
                    m.d.sync += response.eq(RESP_SLVERR)

        with m.FSM():
            with m.State("IDLE"):
                write_begun = have_aw | have_w
                take_read = ~write_begun & self.s_axi_arvalid
                m.d.comb += [
                    self.s_axi_arready.eq(~write_begun),
                    self.s_axi_awready.eq(~have_aw & ~take_read),
                    self.s_axi_wready.eq(~have_w & ~take_read),
                ]
                got_aw = have_aw | (self.s_axi_awvalid & self.s_axi_awready)
                got_w = have_w | (self.s_axi_wvalid & self.s_axi_wready)
                with m.If(self.s_axi_awvalid & self.s_axi_awready):
                    m.d.sync += [address.eq(self.s_axi_awaddr), have_aw.eq(1)]
                with m.If(self.s_axi_wvalid & self.s_axi_wready):
                    m.d.sync += [wdata.eq(self.s_axi_wdata), have_w.eq(1)]
                with m.If(take_read):
                    m.d.sync += address.eq(self.s_axi_araddr)
                    m.next = "READ"
                with m.Elif(got_aw & got_w):
                    m.next = "WRITE"
            with m.State("WRITE"):
                m.d.sync += [have_aw.eq(0), have_w.eq(0)]
                with m.If(address[:2] != 0):
                    m.d.comb += [bus.fault.eq(1), bus.fault_code.eq(Error.BAD_ADDRESS)]
                    m.d.sync += response.eq(RESP_SLVERR)
                    m.next = "WRITE_RESPONSE"
                with m.Else():
                    m.d.comb += [bus.strobe.eq(1), bus.write.eq(1)]
                    m.next = "WRITE_WAIT"
            with m.State("WRITE_WAIT"):
                m.d.comb += bus.write.eq(1)
                answer_when_acked()
                with m.If(bus.ack):
                    m.next = "WRITE_RESPONSE"
            with m.State("WRITE_RESPONSE"):
                m.d.comb += [self.s_axi_bvalid.eq(1), self.s_axi_bresp.eq(response)]
                with m.If(self.s_axi_bready):
                    m.next = "IDLE"
            with m.State("READ"):
                with m.If(address[:2] != 0):
                    m.d.comb += [bus.fault.eq(1), bus.fault_code.eq(Error.BAD_ADDRESS)]
                    m.d.sync += [response.eq(RESP_SLVERR), self.s_axi_rdata.eq(0)]
                    m.next = "READ_RESPONSE"
                with m.Else():
                    m.d.comb += bus.strobe.eq(1)
                    m.next = "READ_WAIT"
            with m.State("READ_WAIT"):
                answer_when_acked()
                with m.If(bus.ack):
                    m.d.sync += self.s_axi_rdata.eq(bus.rdata)
                    m.next = "READ_RESPONSE"
            with m.State("READ_RESPONSE"):
                m.d.comb += [self.s_axi_rvalid.eq(1), self.s_axi_rresp.eq(response)]
                with m.If(self.s_axi_rready):
                    m.next = "IDLE"
        return m
