"""The Cortex-M backend of int8 models: a board project, its fit, and a QEMU measurement firmware.

- ``write_cortexm_project``: model.c/.h, the kernel library, a startup file, a main, the board's
  linker script and a Makefile for arm-none-eabi-gcc (``make`` builds ``<model>.elf`` and ``.bin``);
- ``measure_fit``: the project linked against an unbounded memory map, to measure flash (text +
  data) and static RAM (data + bss, the arena included), checked with the stack reserve against
  the board (a real link of an oversized model only says "region overflowed");
- ``run_in_qemu``: the model with a main over compiled-in inputs, built for QEMU's mps2 machine with
  the board's core and run; QEMU counts *instructions* (no cycle model), never called cycles.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hlsfix.backend_common import int_list, template_env
from hlsfix.boards import CortexMBoard
from hlsfix.errors import ToolError
from hlsfix.mcu import runners
from hlsfix.mcu.int8_emit import (
    KERNELS_DIR,
    TEMPLATES_DIR,
    decode_int8_records,
    emit_int8_firmware,
    emit_int8_model,
)
from hlsfix.memory.int8_plan import Int8Memory

STACK_RESERVE_BYTES = 4096
OPT = "-O2"
Scales = tuple[float, int, float, int]  # input scale, input zero point, output scale, output zero point


@dataclass(frozen=True)
class Fit:
    flash_bytes: int
    ram_bytes: int  # static RAM: data + bss, the arena included
    fits: bool


def write_cortexm_project(
    memory: Int8Memory,
    scales: Scales,
    example: np.ndarray,
    board: CortexMBoard,
    project: Path,
    *,
    unbounded: bool = False,
    float_io: tuple[bool, bool] = (False, False),
) -> None:
    """The board project for the scheduled program of ``memory``; ``example``: one int8 input for
    the demo main; ``unbounded``: a linker script without size limits (for measuring)."""
    project.mkdir(parents=True, exist_ok=True)
    name = memory.program.name
    emit_int8_model(memory, project, scales=scales, float_io=float_io)
    for f in ("hlsfix_int8.c", "hlsfix_int8.h"):
        shutil.copyfile(KERNELS_DIR / f, project / f)
    env = template_env(TEMPLATES_DIR)
    ld_board = replace(board, flash_bytes=1 << 26, ram_bytes=1 << 26) if unbounded else board
    files = {
        f"{board.name}.ld": env.get_template("cortexm_board.ld.j2").render(
            board=ld_board, stack_bytes=STACK_RESERVE_BYTES
        ),
        "startup.c": env.get_template("cortexm_startup.c.j2").render(board=board),
        "main.c": env.get_template("cortexm_main.c.j2").render(name=name, example=int_list(example)),
        "Makefile": env.get_template("cortexm_Makefile.j2").render(
            board=board, name=name, cflags=" ".join(board.cflags), opt=OPT
        ),
    }
    for fname, text in files.items():
        (project / fname).write_text(text)


def make_project(project: Path) -> Path:
    """Run the project's Makefile; the ELF it built."""
    make = shutil.which("make")
    if make is None:
        raise runners.ToolMissing("make", "Debian package make")
    runners._tool("arm-none-eabi-gcc", "Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi")
    proc = subprocess.run([make, "-C", str(project)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"make in {project} failed:\n{proc.stderr[-3000:]}")
    elfs = sorted(project.glob("*.elf"))
    return elfs[0]


def measure_fit(
    memory: Int8Memory, scales: Scales, example: np.ndarray, board: CortexMBoard, work: Path
) -> Fit:
    """Flash and static RAM of the board project, and whether they fit the board (stack reserve
    included). ``work`` is a scratch directory, removed afterwards."""
    write_cortexm_project(memory, scales, example, board, work, unbounded=True)
    flash, ram = runners.cortex_m_size(make_project(work))
    shutil.rmtree(work)
    return Fit(flash, ram, flash <= board.flash_bytes and ram + STACK_RESERVE_BYTES <= board.ram_bytes)


def run_in_qemu(
    memory: Int8Memory,
    scales: Scales,
    x: np.ndarray,
    board: CortexMBoard,
    work: Path,
    *,
    float_io: tuple[bool, bool] = (False, False),
) -> tuple[np.ndarray, runners.FirmwareRun]:
    """The firmware's outputs (N, output size) for the model inputs ``x`` (int8, or float32 for a
    float-input model), and the run (instructions per inference, stack)."""
    em = emit_int8_model(memory, work, scales=scales, float_io=float_io)
    em = emit_int8_firmware(em, memory.program.name, x, work, float_io=float_io)
    cpu = runners.QEMU_MACHINES[board.qemu_machine]
    elf = runners.compile_cortex_m(
        em.sources, work / "firmware.elf", cpu=cpu, include_dirs=em.include_dirs, opt=OPT
    )
    run = runners.run_qemu(elf, machine=board.qemu_machine, timeout_s=600)
    return decode_int8_records(run.records, float_output=float_io[1]), run
