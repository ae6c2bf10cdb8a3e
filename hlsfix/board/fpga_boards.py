"""The FPGA boards hlsfix builds for: part, clock, capacity and the amaranth-boards platform."""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.errors import BoardError


@dataclass(frozen=True)
class FpgaCapacity:
    """What the part holds; ``bram36`` counts 36 Kb block RAMs (two 18 Kb halves each)."""

    lut: int
    ff: int
    dsp: int
    bram36: int


@dataclass(frozen=True)
class FpgaBoard:
    """A development board around one Xilinx 7-series part."""

    name: str
    part: str  # the full Vivado part name, e.g. xc7a35ticsg324-1L
    device: str
    package: str
    speed: str
    family: str  # Yosys synth_xilinx -family
    clock_hz: int
    capacity: FpgaCapacity
    platform_module: str
    platform_class: str

    def platform(self):
        """A fresh amaranth-boards platform instance (imported late: amaranth is an optional extra)."""
        import importlib

        return getattr(importlib.import_module(self.platform_module), self.platform_class)()


FPGA_BOARDS: dict[str, FpgaBoard] = {
    "arty-a7-35": FpgaBoard(
        name="arty-a7-35",
        part="xc7a35ticsg324-1L",
        device="xc7a35t",
        package="csg324",
        speed="-1L",
        family="xc7",
        clock_hz=100_000_000,
        capacity=FpgaCapacity(lut=20_800, ff=41_600, dsp=90, bram36=50),
        platform_module="amaranth_boards.arty_a7",
        platform_class="ArtyA7_35Platform",
    ),
    "arty-a7-100": FpgaBoard(
        name="arty-a7-100",
        part="xc7a100tcsg324-1",
        device="xc7a100t",
        package="csg324",
        speed="-1",
        family="xc7",
        clock_hz=100_000_000,
        capacity=FpgaCapacity(lut=63_400, ff=126_800, dsp=240, bram36=135),
        platform_module="amaranth_boards.arty_a7",
        platform_class="ArtyA7_100Platform",
    ),
}

# The Arty A7 sold today is mostly the 35T; "arty-a7" means that one.
FPGA_BOARD_ALIASES: dict[str, str] = {"arty-a7": "arty-a7-35"}


def get_fpga_board(name: str) -> FpgaBoard:
    """The FPGA board called ``name`` (or an alias of one); BoardError otherwise."""
    name = FPGA_BOARD_ALIASES.get(name, name)
    if name in FPGA_BOARDS:
        return FPGA_BOARDS[name]
    known = ", ".join([*FPGA_BOARDS, *FPGA_BOARD_ALIASES])
    raise BoardError(f"board must be one of {known}, not {name!r}")
