"""The co-design FPGA top: accelerator + ``CommandCore`` + one link front-end, with plain ports.

``CodesignCore`` has only the link's wires as ports (SPI: ``sck``, ``cs_n``, ``mosi``, ``miso``;
AXI4-Lite: the ``s_axi_*`` ports), so amaranth.sim, cocotb and Vivado see exactly what the host
drives. ``emit_codesign_verilog`` writes it for one compiled image as ``hlsfix_codesign.v``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hlsfix.codesign.axi import AXI_LITE_SLAVE_PORTS, AxiLiteSlave
from hlsfix.codesign.link import CommandCore
from hlsfix.codesign.regmap import RegisterMap
from hlsfix.codesign.spi import SpiSlave
from hlsfix.rtl.accelerator import Accelerator
from hlsfix.rtl.microcode import Image
from hlsfix.rtl.verilog import write_verilog

TOP = "hlsfix_codesign"
LINKS = ("spi", "axi")

SPI_PORTS = {"sck": In(1), "cs_n": In(1, init=1), "mosi": In(1), "miso": Out(1)}


def register_map(image: Image) -> RegisterMap:
    """The host's view of a compiled image: its segments, registers and scratch RAM."""
    return RegisterMap(
        segments=len(image.segment_entries),
        registers=len(image.regs),
        ram_depth=image.ram_depth,
        ram_word_bits=image.word_bits,
    )


class CodesignCore(wiring.Component):
    """The accelerator driven over ``link`` ("spi" or "axi").

    ``accelerator_factory()`` returns a Component with an ``In(HOST_PORT)`` member ``host`` (the
    real ``Accelerator(image, host_port=True)``, or a stand-in in tests).
    """

    def __init__(
        self, accelerator_factory: Callable[[], wiring.Component], regmap: RegisterMap, link: str
    ) -> None:
        if link not in LINKS:
            raise ValueError(f"link must be one of {', '.join(LINKS)}, not {link!r}")
        self.accelerator_factory = accelerator_factory
        self.regmap = regmap
        self.link = link
        super().__init__(dict(SPI_PORTS if link == "spi" else AXI_LITE_SLAVE_PORTS))

    def elaborate(self, platform):
        m = Module()
        m.submodules.accel = accel = self.accelerator_factory()
        m.submodules.command = command = CommandCore(self.regmap)
        front_end = SpiSlave(self.regmap) if self.link == "spi" else AxiLiteSlave()
        m.submodules.front_end = front_end
        wiring.connect(m, command.host, accel.host)
        wiring.connect(m, front_end.bus, command.bus)
        for name, member in self.signature.members.items():
            ours, theirs = getattr(self, name), getattr(front_end, name)
            m.d.comb += theirs.eq(ours) if member.flow == In else ours.eq(theirs)
        return m


def emit_codesign_verilog(image: Image, link: str, out_dir: Path) -> Path:
    """Write ``hlsfix_codesign.v`` (top module ``hlsfix_codesign``) into ``out_dir``; return its path."""
    top = CodesignCore(lambda: Accelerator(image, host_port=True), register_map(image), link)
    return write_verilog(top, TOP, out_dir)
