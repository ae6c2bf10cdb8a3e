"""The accelerator's register and command map as a host sees it: the one definition.

The gateware link wrappers (``link.py`` command core, ``spi.py``, ``axi.py``), the generated C header for
the host (``host_c.py``) and the co-simulation testbench all take their numbers from here.

Address space: 32-bit words, addressed by *word index* (an AXI4-Lite byte address is 4 × index).

=========================  ====  =====================================================================
word index                 dir   meaning
=========================  ====  =====================================================================
``ID`` (0)                 R     the constant ``ID_VALUE`` ('HLSF'): the link works
``STATUS`` (1)             R     bit 0 BUSY, bit 1 DONE (since the last START), bits 8-15 the sticky
                                 error code (``Error``), bits 16-23 the segment last started
``START`` (2)              W     write a segment number: the accelerator runs that segment
``CLEAR`` (3)              W     any write clears the sticky error code
``CYCLES`` (4)             R     accelerator clock cycles of the last segment run (START → idle)
``INFO`` (5)               R     bits 0-7 number of segments, bits 8-15 RAM word bits, 16-31 RAM depth
``REG_BASE`` + r           RW    the accelerator's integer register r (32-bit signed)
``DATA_BASE`` + n          RW    scratch-RAM word n (sign-extended on read; writes keep the low bits)
=========================  ====  =====================================================================

Register and data-window accesses are only honoured while the accelerator is idle: during a run a
read returns 0 and a write is dropped, and both set the error ``BUSY``. Nothing ever waits.

SPI (mode 0: SCK idles low, MOSI/MISO sampled on the rising edge; MSB first; CS active low; one
command per CS-low period)::

    write:  0x02  addr_hi  addr_lo  word0  word1 ...      (MISO: don't care)
    read:   0x03  addr_hi  addr_lo  <status>  word0 ...   (the host clocks out zeros)

Addresses auto-increment by one word. A word is ``DATA_BYTES`` bytes big-endian in the data
window (the RAM word width rounded up to bytes) and 4 bytes elsewhere. ``<status>`` is the byte
the slave returns during the fourth byte of a read: the error code at that point (0 = OK; BUSY
if the accelerator is running, so a host that reads before DONE learns it at once). Any other
command byte sets ``BAD_COMMAND`` and the rest of that CS-low period is ignored.

AXI4-Lite: 32-bit data; RRESP/BRESP are OKAY (0) or SLVERR (2) with the error code latched in
STATUS; an access that is not 4-byte aligned, or outside the map, is SLVERR with ``BAD_ADDRESS``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

ID_VALUE = 0x484C5346  # "HLSF"

ID = 0
STATUS = 1
START = 2
CLEAR = 3
CYCLES = 4
INFO = 5
CONTROL_WORDS = 6  # indices below this are the control registers
REG_BASE = 0x100
REG_WINDOW = 0x100  # up to 256 registers
DATA_BASE = 0x1000
ADDR_BITS = 16  # word index width (SPI sends two address bytes)

STATUS_BUSY = 1 << 0
STATUS_DONE = 1 << 1
STATUS_ERROR_SHIFT = 8
STATUS_SEGMENT_SHIFT = 16

SPI_WRITE = 0x02
SPI_READ = 0x03


class Error(enum.IntEnum):
    """The sticky error code in STATUS bits 8-15 (the first error since the last CLEAR)."""

    NONE = 0
    BAD_COMMAND = 1  # SPI command byte other than read/write
    BAD_ADDRESS = 2  # unmapped, read-only written, write-only read, or unaligned (AXI)
    BUSY = 3  # register/data access or START while a segment runs
    BAD_SEGMENT = 4  # START with a segment number the design does not have


@dataclass(frozen=True)
class RegisterMap:
    """The map of one generated design: how many segments, registers and RAM words it has."""

    segments: int
    registers: int
    ram_depth: int
    ram_word_bits: int

    def __post_init__(self) -> None:
        if not 1 <= self.segments <= 255:
            raise ValueError(f"a design must have 1..255 segments, not {self.segments}")
        if self.registers > REG_WINDOW:
            raise ValueError(f"at most {REG_WINDOW} registers fit the register window, not {self.registers}")
        if DATA_BASE + self.ram_depth > 1 << ADDR_BITS:
            raise ValueError(f"RAM depth {self.ram_depth} does not fit the {ADDR_BITS}-bit word address")

    @property
    def data_bytes(self) -> int:
        """Bytes of one data-window word on the SPI link."""
        return (self.ram_word_bits + 7) // 8

    @property
    def info(self) -> int:
        return self.segments | (self.ram_word_bits << 8) | (self.ram_depth << 16)

    def data_word(self, n: int) -> int:
        return DATA_BASE + n

    def register_word(self, r: int) -> int:
        return REG_BASE + r
