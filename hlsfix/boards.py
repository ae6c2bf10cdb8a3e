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


@dataclass(frozen=True)
class CortexMBoard:
    """A Cortex-M board for int8 models: the chip's flash and SRAM (bytes, at their addresses), the
    compiler's CPU flags, and the QEMU machine with the same core (mps2-an386: a Cortex-M4 with the
    single-precision FPU) for bit-exact runs and instruction counts."""

    name: str
    mcu: str
    cpu: str
    f_cpu_hz: int
    flash_bytes: int
    ram_bytes: int
    flash_origin: int
    ram_origin: int
    cflags: tuple[str, ...]
    qemu_machine: str
    toolchain: str = "arm-none-eabi-gcc"


_M4F = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
CORTEX_M_BOARDS: dict[str, CortexMBoard] = {
    # ST NUCLEO-F446RE: STM32F446RE, Cortex-M4F at 180 MHz, 512 KB flash, 128 KB SRAM.
    "nucleo-f446re": CortexMBoard(
        "nucleo-f446re", "stm32f446re", "cortex-m4", 180_000_000, 512 * 1024, 128 * 1024,
        0x0800_0000, 0x2000_0000, _M4F, "mps2-an386",
    ),
    # ST NUCLEO-L4R5ZI (the MLPerf Tiny reference board): STM32L4R5ZI, Cortex-M4F at 120 MHz,
    # 2 MB flash, 640 KB SRAM.
    "nucleo-l4r5zi": CortexMBoard(
        "nucleo-l4r5zi", "stm32l4r5zi", "cortex-m4", 120_000_000, 2048 * 1024, 640 * 1024,
        0x0800_0000, 0x2000_0000, _M4F, "mps2-an386",
    ),
    # ST NUCLEO-F767ZI: STM32F767ZI, Cortex-M7 with double-precision FPU at 216 MHz, 2 MB flash,
    # 512 KB SRAM (DTCM + SRAM1 + SRAM2, contiguous from 0x20000000); QEMU: AN500's Cortex-M7.
    "nucleo-f767zi": CortexMBoard(
        "nucleo-f767zi", "stm32f767zi", "cortex-m7", 216_000_000, 2048 * 1024, 512 * 1024,
        0x0800_0000, 0x2000_0000, ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
        "mps2-an500",
    ),
}  # fmt: skip


def get_cortex_m_board(name: str) -> CortexMBoard:
    if name not in CORTEX_M_BOARDS:
        raise BoardError(f"Cortex-M board must be one of {', '.join(CORTEX_M_BOARDS)}, not {name!r}")
    return CORTEX_M_BOARDS[name]


# Every name ``hlsfix build --board`` accepts, in the order the help and errors list them.
ALL_BOARD_NAMES: tuple[str, ...] = (*BOARDS, *FPGA_BOARD_ALIASES, *FPGA_BOARDS)


def get_board(name: str) -> McuBoard | FpgaBoard:
    """The board called ``name`` (an MCU board or an FPGA board); BoardError for an unknown one."""
    if name in BOARDS:
        return BOARDS[name]
    if name in FPGA_BOARD_ALIASES or name in FPGA_BOARDS:
        return get_fpga_board(name)
    if name in CORTEX_M_BOARDS:
        raise BoardError(
            f"board {name} builds int8 .tflite models (a Cortex-M project); a float model's board must be "
            f"one of {', '.join(ALL_BOARD_NAMES)}, not {name}"
        )
    raise BoardError(f"board must be one of {', '.join(ALL_BOARD_NAMES)}, not {name!r}")
