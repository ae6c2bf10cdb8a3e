"""``build_cortexm``: an int8 model as a Cortex-M project, its fit on a board, and a QEMU check.

Writes into ``out_dir``:

- ``project/``: model.c/.h, the kernel library, a startup file, a main, the board's linker script
  and a Makefile for arm-none-eabi-gcc (``make`` builds ``<model>.elf`` and ``.bin``);
- ``qemu/``: the same model with a measurement main over ``n_inputs`` compiled-in test inputs,
  built for QEMU's mps2 machine with the board's core, run, and compared bit for bit with the
  golden model; QEMU counts *instructions* (it has no cycle model), never reported as cycles;
- report.md, report.json (with ``mcu``), memory.svg, program.json, constants.npz.

The fit: the project is first linked against an unbounded memory map to measure flash (text +
data) and RAM (data + bss, the arena included) plus the stack reserve, which are checked against
the board; then ``make`` builds it with the board's real linker script when it fits.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from hlsfix.backend_common import int_list, template_env
from hlsfix.boards import CortexMBoard
from hlsfix.errors import ToolError
from hlsfix.fixedpoint.int8.compiled import CompiledInt8Model
from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.fixedpoint.int8.report import write_int8_reports
from hlsfix.mcu import runners
from hlsfix.mcu.int8_emit import (
    KERNELS_DIR,
    TEMPLATES_DIR,
    decode_int8_records,
    emit_int8_firmware,
    emit_int8_model,
)

STACK_RESERVE_BYTES = 4096
OPT = "-O2"


@dataclass(frozen=True)
class QemuCheck:
    bit_exact: bool
    checked_inputs: int
    instructions: tuple[int, ...]  # per inference
    max_stack_bytes: int | None
    simulator: str


@dataclass(frozen=True)
class CortexMBuild:
    board: CortexMBoard
    out_dir: Path
    project_dir: Path
    elf: Path | None  # the board firmware built by the Makefile (None when it does not fit)
    flash_bytes: int
    ram_bytes: int  # static RAM: data + bss, the arena included
    arena_bytes: int
    fits: bool
    qemu: QemuCheck | None

    def mcu_report(self) -> dict:
        q = self.qemu
        return {
            "board": self.board.name,
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "arena_bytes": self.arena_bytes,
            "stack_reserve_bytes": STACK_RESERVE_BYTES,
            "board_flash_bytes": self.board.flash_bytes,
            "board_ram_bytes": self.board.ram_bytes,
            "fits": self.fits,
            "instructions": max(q.instructions) if q else None,
            "unit": "instructions",
            "max_stack_bytes": q.max_stack_bytes if q else None,
            "bit_exact": q.bit_exact if q else None,
            "checked_inputs": q.checked_inputs if q else 0,
            "simulator": q.simulator if q else "none",
        }


def _scales(cm: CompiledInt8Model) -> tuple[float, int, float, int]:
    m = cm.model
    return (m.input_scale, m.input_zero_point, m.output_scale, m.output_zero_point)


def write_cortexm_project(
    cm: CompiledInt8Model, board: CortexMBoard, project: Path, *, unbounded: bool = False
) -> None:
    """The board project (see the module doc); ``unbounded``: a linker script without size limits,
    for measuring what the model needs."""
    project.mkdir(parents=True, exist_ok=True)
    emit_int8_model(cm.memory, project, scales=_scales(cm))
    for f in ("hlsfix_int8.c", "hlsfix_int8.h"):
        shutil.copyfile(KERNELS_DIR / f, project / f)
    env = template_env(TEMPLATES_DIR)
    ld_board = replace(board, flash_bytes=1 << 26, ram_bytes=1 << 26) if unbounded else board
    example = int_list(cm.random_inputs(1, seed=1)[0])
    files = {
        f"{board.name}.ld": env.get_template("cortexm_board.ld.j2").render(
            board=ld_board, stack_bytes=STACK_RESERVE_BYTES
        ),
        "startup.c": env.get_template("cortexm_startup.c.j2").render(board=board),
        "main.c": env.get_template("cortexm_main.c.j2").render(name=cm.name, example=example),
        "Makefile": env.get_template("cortexm_Makefile.j2").render(
            board=board, name=cm.name, cflags=" ".join(board.cflags), opt=OPT
        ),
    }
    for name, text in files.items():
        (project / name).write_text(text)


def _make(project: Path) -> None:
    make = shutil.which("make")
    if make is None:
        raise runners.ToolMissing("make", "Debian package make")
    runners._tool("arm-none-eabi-gcc", "Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi")
    proc = subprocess.run([make, "-C", str(project)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"make in {project} failed:\n{proc.stderr[-3000:]}")


def check_in_qemu(cm: CompiledInt8Model, board: CortexMBoard, work: Path, n_inputs: int) -> QemuCheck:
    """Build the measurement firmware for the board's core, run it in QEMU, compare with golden."""
    x = cm.random_inputs(n_inputs, seed=3)
    em = emit_int8_model(cm.memory, work, scales=_scales(cm))
    em = emit_int8_firmware(em, cm.name, x, work)
    cpu = runners.QEMU_MACHINES[board.qemu_machine]
    elf = runners.compile_cortex_m(
        em.sources, work / "firmware.elf", cpu=cpu, include_dirs=em.include_dirs, opt=OPT
    )
    run = runners.run_qemu(elf, machine=board.qemu_machine, timeout_s=600)
    got = decode_int8_records(run.records)
    want = run_int8(cm.program, x).output
    same = got.shape == want.shape and bool((got == want).all())
    return QemuCheck(same, n_inputs, run.measurements, run.max_stack_bytes, run.simulator)


def build_cortexm(
    cm: CompiledInt8Model,
    out_dir: Path | str,
    board: CortexMBoard,
    *,
    n_inputs: int = 10,
    run_qemu: bool = True,
    tflm_inputs: int = 20,
) -> CortexMBuild:
    """Write and check the Cortex-M build of an int8 model (see the module doc)."""
    out_dir = Path(out_dir)
    project = out_dir / "project"
    measure = out_dir / "qemu" / "measure"
    write_cortexm_project(cm, board, measure, unbounded=True)
    _make(measure)
    flash, ram = runners.cortex_m_size(measure / f"{cm.name}.elf")
    shutil.rmtree(measure)
    fits = flash <= board.flash_bytes and ram + STACK_RESERVE_BYTES <= board.ram_bytes
    write_cortexm_project(cm, board, project)
    elf = None
    if fits:
        _make(project)
        elf = project / f"{cm.name}.elf"
    qemu = check_in_qemu(cm, board, out_dir / "qemu", n_inputs) if run_qemu else None
    built = CortexMBuild(board, out_dir, project, elf, flash, ram, cm.memory.arena_bytes, fits, qemu)
    from hlsfix.fixedpoint.int8.report import int8_report

    cm.program.save(out_dir)
    report = int8_report(cm, cm.check_tflm(tflm_inputs) if tflm_inputs else None)
    report["mcu"] = built.mcu_report()
    write_int8_reports(out_dir, report, cm)
    return built
