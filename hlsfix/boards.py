"""The boards hlsfix builds for: their MCU, clock and memory sizes."""

from __future__ import annotations

from dataclasses import dataclass

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
    "arduino-uno": McuBoard("arduino-uno", "atmega328p", 16_000_000, 32768, 2048, "avr-gcc"),
}

# Boards that are known but whose build is not written yet.
PLANNED_BOARDS: dict[str, str] = {"arty-a7": "the FPGA build is not available yet"}


def get_board(name: str) -> McuBoard:
    """The board called ``name``; BoardError for a planned or unknown one."""
    if name in BOARDS:
        return BOARDS[name]
    if name in PLANNED_BOARDS:
        raise BoardError(f"board {name}: {PLANNED_BOARDS[name]}")
    raise BoardError(f"board must be one of {', '.join(BOARDS)}, not {name!r}")
