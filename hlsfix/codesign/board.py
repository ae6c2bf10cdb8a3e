"""The FPGA side of a co-design on the Arty A7: the SPI slave on a Pmod header, as a Vivado project.

The SPI signals use Pmod header JA with the Digilent Pmod interface specification's SPI pin-out
(type 2: pin 1 CS, 2 MOSI, 3 MISO, 4 SCK), so a Pmod cable or four jumper wires reach an Uno
(through a level shifter: the Arty's I/O banks are 3.3 V, the Uno drives 5 V). btn0 resets the
design, as in the UART board top. The AXI4-Lite variant has no pins of its own: its Verilog
module goes into a Vivado block design next to the MicroBlaze (see ``AXI_NOTES``).
"""

from __future__ import annotations

from amaranth import Elaboratable, Module, ResetInserter, Signal
from amaranth.build import Attrs, Pins, Resource, Subsignal
from amaranth.lib import io
from amaranth.lib.cdc import FFSynchronizer

from hlsfix.board.fpga_boards import FpgaBoard
from hlsfix.codesign.top import CodesignCore, register_map
from hlsfix.rtl.accelerator import Accelerator
from hlsfix.rtl.microcode import Image

SPI_PMOD = 0  # header JA
# Pmod pin of each SPI signal (Digilent Pmod Interface Specification, SPI, type 2)
SPI_PMOD_PINS = {"cs_n": "1", "mosi": "2", "miso": "3", "sck": "4"}
SPI_RESOURCE = "hlsfix_spi"
# What WIRING.md tells the user: the FPGA pin of each Uno signal.
ARTY_SPI_WIRING = {
    "SCK": "Pmod JA pin 4",
    "MISO": "Pmod JA pin 3",
    "MOSI": "Pmod JA pin 2",
    "SS": "Pmod JA pin 1",
}

AXI_NOTES = """\
# The accelerator as an AXI4-Lite slave (for a MicroBlaze)

`hlsfix_codesign.v` holds module `hlsfix_codesign`: clock `clk`, active-high synchronous reset
`rst`, and an AXI4-Lite slave on ports `s_axi_*` (18-bit byte addresses, 32-bit data; the register
map is in `../host/hlsfix_accel_map.h`).

In a Vivado block design with a MicroBlaze: add the file to the project, drag the module into the
diagram (Add Module), connect its `s_axi` ports to the MicroBlaze's AXI interconnect (M_AXI_DP),
`clk` to the design clock and `rst` to an active-high peripheral reset. Give it 256 KB in the
Address Editor and set `HLSFIX_ACCEL_BASE` in `../host/main_mmio.c` to the base address chosen.
None of this was run here: Vivado is not installed on the machines hlsfix is built on.
"""


def spi_resource(pmod: int = SPI_PMOD) -> Resource:
    conn = ("pmod", pmod)
    return Resource(
        SPI_RESOURCE,
        0,
        *(
            Subsignal(name, Pins(pin, dir="o" if name == "miso" else "i", conn=conn))
            for name, pin in SPI_PMOD_PINS.items()
        ),
        Attrs(IOSTANDARD="LVCMOS33"),
    )


class CodesignSpiTop(Elaboratable):
    """``CodesignCore`` (SPI) on the Arty: its four wires on Pmod JA, btn0 as reset."""

    def __init__(self, image: Image, board: FpgaBoard) -> None:
        self.image = image
        self.board = board

    def elaborate(self, platform):
        m = Module()
        image = self.image
        core = CodesignCore(lambda: Accelerator(image, host_port=True), register_map(image), "spi")
        reset = Signal()
        m.submodules.core = ResetInserter({"sync": reset})(core)
        platform.add_resources([spi_resource()])
        spi = platform.request(SPI_RESOURCE, 0, dir="-")
        # plain buffers: the SPI slave synchronises SCK, CS and MOSI itself
        for name in ("sck", "cs_n", "mosi"):
            m.submodules[f"{name}_buffer"] = buf = io.Buffer("i", getattr(spi, name))
            m.d.comb += getattr(core, name).eq(buf.i)
        m.submodules.miso_buffer = miso = io.Buffer("o", spi.miso)
        m.d.comb += miso.o.eq(core.miso)
        m.submodules.button_buffer = button = io.Buffer("i", platform.request("button", 0, dir="-"))
        m.submodules.button_sync = FFSynchronizer(button.i, reset)
        return m
