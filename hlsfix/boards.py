"""The boards hlsfix builds for: microcontroller boards here (MCU, clock, memory sizes), FPGA boards in
``hlsfix.board.fpga_boards`` (part, clock, capacity, amaranth-boards platform)."""

from __future__ import annotations

from dataclasses import dataclass

from hlsfix.board.fpga_boards import FPGA_BOARD_ALIASES, FPGA_BOARDS, FpgaBoard, get_fpga_board
from hlsfix.errors import BoardError


@dataclass(frozen=True)
class McuBoard:
    """A microcontroller board: flash and RAM are the whole chip's, in bytes."""

    name: str
    mcu: str
    f_cpu_hz: int
    flash_bytes: int
    ram_bytes: int
    toolchain: str


BOARDS: dict[str, McuBoard] = {
    # 32,768 B of flash on the chip, of which the Uno's bootloader (optiboot) takes 512
    "arduino-uno": McuBoard("arduino-uno", "atmega328p", 16_000_000, 32256, 2048, "avr-gcc"),
}

# Every name ``hlsfix build --board`` accepts, in the order the help and errors list them.
ALL_BOARD_NAMES: tuple[str, ...] = (*BOARDS, *FPGA_BOARD_ALIASES, *FPGA_BOARDS)


def get_board(name: str) -> McuBoard | FpgaBoard:
    """The board called ``name`` (an MCU board or an FPGA board); BoardError for an unknown one."""
    if name in BOARDS:
        return BOARDS[name]
    if name in FPGA_BOARD_ALIASES or name in FPGA_BOARDS:
        return get_fpga_board(name)
    raise BoardError(f"board must be one of {', '.join(ALL_BOARD_NAMES)}, not {name!r}")
