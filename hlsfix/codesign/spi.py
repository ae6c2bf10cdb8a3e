"""SPI slave front-end of the co-design link (the Arduino Uno host): the byte protocol of ``regmap.py``.

Mode 0 (SCK idles low, both sides sample on the rising edge), MSB first, ``cs_n`` active low.
Everything runs in the system clock domain: ``sck``, ``mosi`` and ``cs_n`` pass through two-flop
synchronisers, so the slave sees an SCK edge 2-3 system cycles late.

Timing (requires SCK ≤ clk/4, i.e. each SCK half period at least two system cycles):

- MOSI is taken from the synchronised sample at the detected rising SCK edge. MOSI and SCK pass
  equal synchronisers, so a host that changes MOSI on the falling edge (mode 0) meets it.
- MISO is a system-clock register that changes at the end of the cycle that detects a rising
  SCK edge, at most 3 system cycles after the edge; the next rising edge comes at least 4 cycles
  after it, so MISO has been stable for a system cycle or more when the host samples it.
  MISO is never tri-stated (one slave per wire; put a buffer on a shared MISO line).
- A read's status byte is the error code at the moment the address is complete, or BUSY (not
  recorded) when there is none and a segment runs; it goes out like any word, at once.
- Reads prefetch: a word is read from ``CommandCore`` when the previous one starts shifting out,
  so auto-increment reads keep up at SCK = clk/4. A prefetched word's error (BUSY, BAD_ADDRESS)
  is reported only when the host clocks its first bit, so the one extra word fetched before CS
  rises never sets an error.
- ``cs_n`` must fall two system cycles before the first rising SCK edge and rise one cycle or
  more after the last (it passes an equal synchroniser). Its rise ends the command at once: a
  partial word is dropped (never written), and the next CS-low period starts with a command byte.
"""

# A state reads case by case: a case's body stays nested under it even when it is one `If`.
# ruff: noqa: SIM117

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from hlsfix.codesign import regmap as rm
from hlsfix.codesign.link import LINK_BUS
from hlsfix.codesign.regmap import Error, RegisterMap


class Phase(enum.Enum):
    COMMAND = 0
    ADDR_HI = 1
    ADDR_LO = 2
    WRITE = 3  # receiving data words
    READ_STATUS = 4  # sending the status byte
    READ = 5  # sending data words
    IGNORE = 6  # after an unknown command, until CS rises


class SpiSlave(wiring.Component):
    """SPI mode-0 slave speaking ``regmap.py``'s command protocol on ``LINK_BUS``."""

    def __init__(self, regmap: RegisterMap) -> None:
        if regmap.data_bytes > 4:
            raise ValueError(f"an SPI data word must be at most 32 bits, not {regmap.ram_word_bits}")
        self.regmap = regmap
        super().__init__(
            {
                "sck": In(1),
                "cs_n": In(1, init=1),
                "mosi": In(1),
                "miso": Out(1),
                "bus": Out(LINK_BUS),
            }
        )

    def elaborate(self, platform):  # noqa: C901 - one protocol, read top to bottom
        m = Module()
        bus, data_bytes = self.bus, self.regmap.data_bytes

        sck, mosi, cs_n = Signal(), Signal(), Signal(init=1)
        m.submodules.sck_sync = FFSynchronizer(self.sck, sck)
        m.submodules.mosi_sync = FFSynchronizer(self.mosi, mosi)
        m.submodules.cs_n_sync = FFSynchronizer(self.cs_n, cs_n, init=1)
        sck_before = Signal()
        m.d.sync += sck_before.eq(sck)
        rise = Signal()
        m.d.comb += rise.eq(~cs_n & sck & ~sck_before)

        # --- bytes in: `received` holds the current byte's earlier bits, MSB first
        bit = Signal(3)
        received = Signal(7)
        byte = Signal(8)
        byte_done = Signal()
        m.d.comb += [byte.eq(Cat(mosi, received)), byte_done.eq(rise & (bit == 7))]
        with m.If(rise):
            m.d.sync += [bit.eq(bit + 1), received.eq(Cat(mosi, received[:6]))]

        # --- bits out: MISO shows shifter[31] after each rising edge
        shifter = Signal(32)
        with m.If(rise):
            m.d.sync += [self.miso.eq(shifter[31]), shifter.eq(shifter << 1)]

        def word_bytes(address):
            return Mux(address >= rm.DATA_BASE, data_bytes, 4)

        def send(value, address):
            """Start shifting out ``value`` as the word at ``address``: its first bit goes on MISO now."""
            aligned = Mux(address >= rm.DATA_BASE, value << (8 * (4 - data_bytes)), value)[:32]
            m.d.sync += [self.miso.eq(aligned[31]), shifter.eq(aligned << 1)]

        def access(address, write, wdata=0):
            m.d.sync += [bus.strobe.eq(1), bus.addr.eq(address), bus.write.eq(write), bus.wdata.eq(wdata)]

        m.d.sync += bus.strobe.eq(0)

        phase = Signal(Phase)
        writing = Signal()  # the command is a write
        addr = Signal(rm.ADDR_BITS)  # the word being received or sent
        byte_in_word = Signal(2)
        last_byte = byte_in_word == word_bytes(addr) - 1
        assembled = Signal(24)  # the current write word's earlier bytes
        prefetched = Signal(32)  # the word at addr + 1 (during the status byte: at addr)
        prefetched_error = Signal(8)
        word_error = Signal(8)  # the error of the word being sent, reported at its first bit

        # A write's error is reported when the core answers, even if CS has risen since.
        with m.If(bus.ack & bus.write & (bus.error != 0)):
            m.d.comb += [bus.fault.eq(1), bus.fault_code.eq(bus.error)]
        with m.If(bus.ack & ~bus.write):
            m.d.sync += [prefetched.eq(bus.rdata), prefetched_error.eq(bus.error)]

        with m.Switch(phase):
            with m.Case(Phase.COMMAND):
                with m.If(byte_done):
                    m.d.sync += writing.eq(byte == rm.SPI_WRITE)
                    with m.If((byte == rm.SPI_WRITE) | (byte == rm.SPI_READ)):
                        m.d.sync += phase.eq(Phase.ADDR_HI)
                    with m.Else():
                        m.d.comb += [bus.fault.eq(1), bus.fault_code.eq(Error.BAD_COMMAND)]
                        m.d.sync += phase.eq(Phase.IGNORE)
            with m.Case(Phase.ADDR_HI):
                with m.If(byte_done):
                    m.d.sync += [addr[8:].eq(byte), phase.eq(Phase.ADDR_LO)]
            with m.Case(Phase.ADDR_LO):
                with m.If(byte_done):
                    start = Cat(byte, addr[8:])
                    m.d.sync += [addr.eq(start), byte_in_word.eq(0), assembled.eq(0)]
                    with m.If(writing):
                        m.d.sync += phase.eq(Phase.WRITE)
                    with m.Else():
                        status = Mux(
                            bus.sticky_error != 0, bus.sticky_error, Mux(bus.busy, int(Error.BUSY), 0)
                        )
                        m.d.sync += [self.miso.eq(status[7]), shifter.eq(status[:7] << 25)]
                        access(start, write=0)  # the first word, fetched while the status byte goes out
                        m.d.sync += phase.eq(Phase.READ_STATUS)
            with m.Case(Phase.WRITE):
                with m.If(byte_done):
                    word = Cat(byte, assembled)
                    with m.If(last_byte):
                        access(addr, write=1, wdata=word)
                        m.d.sync += [addr.eq(addr + 1), byte_in_word.eq(0), assembled.eq(0)]
                    with m.Else():
                        m.d.sync += [assembled.eq(word), byte_in_word.eq(byte_in_word + 1)]
            with m.Case(Phase.READ_STATUS):
                with m.If(byte_done):
                    send(prefetched, addr)
                    access(addr + 1, write=0)
                    m.d.sync += [word_error.eq(prefetched_error), byte_in_word.eq(0), phase.eq(Phase.READ)]
            with m.Case(Phase.READ):
                with m.If(rise & (bit == 0) & (byte_in_word == 0) & (word_error != 0)):
                    m.d.comb += [bus.fault.eq(1), bus.fault_code.eq(word_error)]
                with m.If(byte_done):
                    with m.If(last_byte):
                        send(prefetched, addr + 1)
                        access(addr + 2, write=0)
                        m.d.sync += [
                            word_error.eq(prefetched_error),
                            addr.eq(addr + 1),
                            byte_in_word.eq(0),
                        ]
                    with m.Else():
                        m.d.sync += byte_in_word.eq(byte_in_word + 1)

        with m.If(cs_n):  # deselected: forget the command, whatever phase it reached
            m.d.sync += [phase.eq(Phase.COMMAND), bit.eq(0), shifter.eq(0), self.miso.eq(0)]
        return m
