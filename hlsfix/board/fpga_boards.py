"""The FPGA boards hlsfix builds for: part, clock, capacity and the amaranth-boards platform."""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.errors import BoardError


@dataclass(frozen=True)
class FpgaCapacity:
    """What the part holds.  ``bram36`` counts the part's block RAMs of its board's ``bram_cell``: 36 Kb
    RAMB36 (two 18 Kb halves each) on 7-series parts; on open FPGAs the native blocks (18 Kb DP16KD on
    the ECP5, 4 Kb EBR on the iCE40), so that no figure is converted."""

    lut: int
    ff: int
    dsp: int
    bram36: int


@dataclass(frozen=True)
class FpgaBoard:
    """A development board around one FPGA: a Xilinx 7-series part (``toolchain`` "vivado": a Vivado
    project, Yosys estimates) or an open FPGA built to a bitstream with Yosys + nextpnr from PyPI
    (``toolchain`` "ecp5" or "ice40": ``hlsfix.board.open_fpga``)."""

    name: str
    part: str  # the full Vivado part name, e.g. xc7a35ticsg324-1L
    device: str
    package: str
    speed: str
    family: str  # Yosys synth_xilinx -family; the nextpnr family on open FPGAs (ecp5, ice40)
    clock_hz: int
    capacity: FpgaCapacity
    platform_module: str
    platform_class: str
    toolchain: str = "vivado"  # "vivado", or an open flow: "ecp5" (nextpnr-ecp5), "ice40" (nextpnr-ice40)
    lut_cell: str = "LUT"  # how the report names each capacity
    dsp_cell: str = "DSP48E1"
    bram_cell: str = "BRAM36"
    bram_cell_bits: int = 32_768  # data bits of one ``bram_cell`` (parity bits not counted)
    spram_bytes: int = 0  # single-port RAM outside the block RAMs (the iCE40UP5K's 128 KB SPRAM)
    note: str = ""

    @property
    def is_open(self) -> bool:
        """Built to a bitstream here, by Yosys + nextpnr, with no vendor tool."""
        return self.toolchain != "vivado"

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
    # Radiona ULX3S with the largest ECP5 (LFE5U-85F-6BG381C): 83,640 LUT4 and as many flip-flops,
    # 156 18x18 multipliers, 208 DP16KD (18 Kb) block RAMs; 25 MHz oscillator; FTDI USB-UART.
    "ulx3s": FpgaBoard(
        name="ulx3s",
        part="LFE5U-85F-6BG381C",
        device="LFE5U-85F",
        package="BG381",
        speed="6",
        family="ecp5",
        clock_hz=25_000_000,
        capacity=FpgaCapacity(lut=83_640, ff=83_640, dsp=156, bram36=208),
        platform_module="amaranth_boards.ulx3s",
        platform_class="ULX3S_85F_Platform",
        toolchain="ecp5",
        lut_cell="LUT4",
        dsp_cell="MULT18X18D",
        bram_cell="DP16KD",
        bram_cell_bits=16_384,
    ),
    # 1BitSquared iCEBreaker: iCE40UP5K-SG48, the low-end FPGA: 5,280 logic cells (LUT4 + FF each),
    # 8 16x16 DSPs (SB_MAC16), 30 EBR (4 Kb) block RAMs, 128 KB SPRAM; 12 MHz oscillator; FTDI USB-UART.
    "icebreaker": FpgaBoard(
        name="icebreaker",
        part="iCE40UP5K-SG48",
        device="iCE40UP5K",
        package="SG48",
        speed="",
        family="ice40",
        clock_hz=12_000_000,
        capacity=FpgaCapacity(lut=5_280, ff=5_280, dsp=8, bram36=30),
        platform_module="amaranth_boards.icebreaker",
        platform_class="ICEBreakerPlatform",
        toolchain="ice40",
        lut_cell="LC",
        dsp_cell="SB_MAC16",
        bram_cell="EBR",
        bram_cell_bits=4_096,
        spram_bytes=128 * 1024,
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
