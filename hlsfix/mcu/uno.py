"""Build a compiled model for the Arduino Uno: sources, an Arduino sketch, a Makefile, and a
measured, bit-exact-checked test firmware.

``build_uno`` writes into ``out_dir``:

* ``model.h``/``model.c`` and the kernel library (``hlsfix_kernels.[ch]``, ``hlsfix_kernels8.h``,
  ``hlsfix_arith.h``), ``main.c`` (classifies a built-in example without the Arduino core) and a
  ``Makefile`` for plain avr-gcc;
* ``sketch/<name>/<name>.ino`` with the same C files beside it, for the Arduino IDE.

It then builds the measurement firmware (the same model.c with the first ``n_inputs`` test inputs
compiled in), runs it in simavr, and raises unless every output equals the golden model.  Flash
and static RAM come from avr-size of that firmware, stack depth and cycles from simavr.

Last, the float baseline: ``model_float.h``/``.c`` (the same kernel structure in ``float`` with the
float weights, see ``emit_float.py``) is written beside model.c and measured the same way on the
same inputs, giving ``cycles_float`` and ``speedup`` (cycles_float / cycles).  A baseline that does
not fit the board is reported (no cycles, with the reason), never an error of the fixed build.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hlsfix.boards import BOARDS, McuBoard
from hlsfix.errors import BoardError, DataError, HlsfixError
from hlsfix.escape import identifier
from hlsfix.fixedpoint.float_lower import float_program
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.ir.interp import run_float
from hlsfix.mcu import runners
from hlsfix.mcu.arduino import SketchBuild, arduino_available, build_sketch
from hlsfix.mcu.emit import KERNEL_FILES, KERNELS_DIR, UnsupportedProgram, _env, emit_model
from hlsfix.mcu.emit_float import (
    FLOAT_KERNEL_FILES,
    decode_float_records,
    emit_float_firmware,
    emit_float_model,
)
from hlsfix.mcu.firmware import decode_records, emit_firmware, write_firmware
from hlsfix.memory.liveness import MemoryPlan, plan_memory

if TYPE_CHECKING:
    from hlsfix.compiler import CompiledModel

BAUD = 115200
_SHOWN = 8  # output values quoted in the sketch's comment and banner
# Link without the device's memory limits so that an oversized design still links and its size
# can be reported; the fit check against the board comes right after.
_UNLIMITED_LINK = (
    "-Wl,--defsym=__TEXT_REGION_LENGTH__=0x100000",
    "-Wl,--defsym=__DATA_REGION_LENGTH__=0xffa0",
)


class MismatchError(HlsfixError):
    """The firmware on the simulated MCU disagrees with the golden model (a bug in hlsfix)."""


@dataclass(frozen=True)
class FloatBaseline:
    """The float build of the same model on the same inputs (``cycles`` empty: not run, see note)."""

    flash_bytes: int | None
    ram_bytes: int | None
    stack_bytes: int | None
    cycles: tuple[int, ...]
    # checked inputs whose class equals the float reference's (run_float); a tensor output: whose
    # values equal it to float32 rounding (1e-4 of the row's largest magnitude)
    classes_equal_float: int
    note: str | None = None  # why there are no cycles

    @property
    def mean_cycles(self) -> float | None:
        return float(np.mean(self.cycles)) if self.cycles else None


@dataclass(frozen=True)
class UnoBuild:
    """What ``build_uno`` wrote and measured."""

    board: McuBoard
    sketch_dir: Path
    makefile: Path
    flash_bytes: int
    ram_bytes: int  # static: .data + .bss
    model_flash_bytes: int  # the model's constants and code alone (no test inputs, harness, libc)
    input_cycles: float | None  # the sketch's input path: quantising one float input (mean), or None
    stack_bytes: int
    cycles: tuple[int, ...]  # of hlsfix_predict, one per checked input
    checked_inputs: int
    bit_exact: bool
    plan: MemoryPlan
    float_baseline: FloatBaseline | None = None
    sketch: SketchBuild | None = None  # the sketch built against the real Arduino core
    sketch_note: str | None = None  # why there is no sketch build

    @property
    def mean_cycles(self) -> float:
        return float(np.mean(self.cycles))

    @property
    def ms(self) -> float:
        """Mean milliseconds per prediction at the board's clock."""
        return self.mean_cycles / self.board.f_cpu_hz * 1000

    @property
    def mean_cycles_float(self) -> float | None:
        return self.float_baseline.mean_cycles if self.float_baseline else None

    @property
    def speedup(self) -> float | None:
        """Float cycles over fixed-point cycles (None: no float measurement)."""
        f = self.mean_cycles_float
        return f / self.mean_cycles if f is not None else None

    def mcu_report(self) -> dict:
        fb = self.float_baseline
        f, speedup = self.mean_cycles_float, self.speedup
        return {
            "board": self.board.name,
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "stack_bytes": self.stack_bytes,
            "cycles": round(self.mean_cycles),
            "ms_at_16mhz": round(self.mean_cycles / 16_000_000 * 1000, 3),
            "cycles_float": round(f) if f is not None else None,
            "speedup": round(speedup, 2) if speedup is not None else None,
            "float_flash_bytes": fb.flash_bytes if fb else None,
            "float_ram_bytes": fb.ram_bytes if fb else None,
            "float_stack_bytes": fb.stack_bytes if fb else None,
            "float_note": fb.note if fb else "not built",
            "bit_exact": self.bit_exact,
            "checked_inputs": self.checked_inputs,
            "simulator": "simavr",
            "model_flash_bytes": self.model_flash_bytes,
            "input_cycles": round(self.input_cycles) if self.input_cycles is not None else None,
            "flash_capacity_bytes": self.board.flash_bytes,
            "sketch_flash_bytes": self.sketch.flash_bytes if self.sketch else None,
            "sketch_ram_bytes": self.sketch.ram_bytes if self.sketch else None,
            "sketch_note": self.sketch_note,
        }

    def memory_report(self) -> dict:
        return {
            "arena_bytes": self.plan.arena_bytes,
            "lower_bound_bytes": self.plan.lower_bound_bytes,
            "linear_bytes": self.plan.linear_bytes,
        }


def sketch_name(name: str) -> str:
    """A name the Arduino IDE accepts for a sketch (and make for a target): [A-Za-z0-9_]."""
    safe = identifier(name)
    return safe if safe[:1].isalpha() else "m_" + safe


def _c_float(v: float) -> str:
    """A C float literal that reads back as the same float32 (9 significant digits suffice)."""
    text = f"{v:.9g}"
    return text + (".0f" if text.lstrip("-").isdigit() else "f")


def _float_rows(x: np.ndarray, per_line: int = 8) -> list[str]:
    vals = [_c_float(float(v)) for v in np.asarray(x, dtype=np.float32).reshape(-1)]
    return [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]


def _write_sources(
    cm: CompiledModel, plan: MemoryPlan, board: McuBoard, out_dir: Path, x0: np.ndarray
) -> Path:
    """model.[ch], kernels, main.c, Makefile in out_dir and the sketch folder; return the sketch dir."""
    program = cm.program
    name = sketch_name(cm.name)
    x0 = np.asarray(x0, dtype=np.float32)
    expected = cm.golden(x0.astype(np.float64)[None, ...]).output[0]
    ctx = {
        "name": name,
        "bits": program.bits,
        "in_size": program.input_buffer.size,
        "example": _float_rows(x0),
        **_result_words(program, expected),
        "baud": BAUD,
        "board": board.name,
        "mcu": board.mcu,
        "f_cpu": board.f_cpu_hz,
    }
    env = _env()
    sketch_dir = out_dir / "sketch" / name
    for d in (out_dir, sketch_dir):
        emit_model(program, plan, d)
        for f in KERNEL_FILES:
            shutil.copyfile(KERNELS_DIR / f, d / f)
    for f in FLOAT_KERNEL_FILES:
        shutil.copyfile(KERNELS_DIR / f, out_dir / f)
    (out_dir / "main.c").write_text(env.get_template("uno_main.c.j2").render(**ctx))
    (out_dir / "Makefile").write_text(env.get_template("uno_Makefile.j2").render(**ctx))
    (sketch_dir / f"{name}.ino").write_text(env.get_template("uno_sketch.ino.j2").render(**ctx))
    return sketch_dir


def _result_words(program: KernelProgram, expected: np.ndarray) -> dict[str, object]:
    """How the sketch and main.c talk about their result: a class, or a tensor's values (the
    golden model's integers; the sketch prints them as reals, main.c as integers)."""
    if program.output_is_class:
        return {
            "is_class": True,
            "verb": "classifies",
            "what": "class",
            "action": "classify them",
            "expected_text": f"class {int(expected)}",
            "line_text": '"class N"',
            "digits": 0,
        }
    fmt = program.buffer(program.output).fmt
    values = [int(v) for v in np.asarray(expected).reshape(-1)]
    digits = min(6, max(1, math.ceil(fmt.frac * math.log10(2))))  # shows the resolution 2^-frac
    shown = " ".join(str(v) for v in values[:_SHOWN])
    reals = " ".join(f"{math.ldexp(v, -fmt.frac):.{digits}f}" for v in values[:_SHOWN])
    more = f" ... ({len(values)} values)" if len(values) > _SHOWN else ""
    return {
        "is_class": False,
        "verb": "runs",
        "what": "output values",
        "action": "run the model on them",
        "expected_text": f"output {reals}{more}, the integers {shown} at frac {fmt.frac}",
        "line_text": '"output" and the output\'s integers (real value = integer * 2^-frac)',
        "digits": digits,
    }


def check_fit(board: McuBoard, flash: int, ram: int, stack: int | None) -> None:
    """BoardError naming what overflowed, and by how much (``stack`` None: not yet measured)."""
    problems = []
    if flash > board.flash_bytes:
        problems.append(
            f"flash must fit the Uno's {board.flash_bytes} bytes, not need {flash} "
            f"({flash - board.flash_bytes} too many)"
        )
    need = ram + (stack or 0)
    if need > board.ram_bytes:
        parts = f"static {ram} + stack {stack}" if stack is not None else f"static {ram}, before any stack"
        problems.append(f"RAM must fit the Uno's {board.ram_bytes} bytes, not need {need} ({parts})")
    if problems:
        raise BoardError(f"{board.name}: " + "; ".join(problems))


def build_uno(
    cm: CompiledModel,
    out_dir: Path,
    n_inputs: int = 20,
    board: McuBoard | None = None,
    arduino: bool | None = None,
) -> UnoBuild:
    """Write the Uno sources and sketch to ``out_dir``; build, fit-check and run the test firmware.

    Raises BoardError when the design does not fit the board, MismatchError when the simulated
    MCU disagrees with the golden model on any of the first ``n_inputs`` test inputs.
    ``arduino``: build the sketch against the real Arduino core too (arduino.py) -- None: when
    arduino-builder is installed, True: always (ToolMissing without it), False: never.
    """
    board = board or BOARDS["arduino-uno"]
    program = cm.program
    if cm.test is None or len(cm.test[0]) == 0:
        raise DataError(f"model {cm.name}: test inputs must be known to check the Uno build, not missing")
    x = np.asarray(cm.test[0][:n_inputs])
    plan = plan_memory(program)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sketch_dir = _write_sources(cm, plan, board, out_dir, x[0])

    want = cm.golden(x).output
    with tempfile.TemporaryDirectory(prefix="hlsfix-uno-") as tmp:
        d = Path(tmp)
        fw = emit_firmware(program, plan, quantize_input(program, x), d)
        elf = runners.compile_avr(
            fw.sources, d / "fw.elf", include_dirs=fw.include_dirs, link_flags=_UNLIMITED_LINK
        )
        flash, ram = runners.avr_size(elf)
        model_flash = runners.avr_model_flash(elf)
        # Static RAM alone overflowing makes the firmware unrunnable: report it before simulating.
        check_fit(board, flash, ram, None)
        run = runners.run_avr(elf)
        input_cycles = measure_input_path(cm, plan, x, d / "input")
    stack = run.max_stack_bytes or 0
    check_fit(board, flash, ram, stack)
    got = decode_records(program, run.records)
    if got.shape != want.shape or len(run.measurements) != len(x):
        raise MismatchError(
            f"AVR build of {cm.name}: the firmware must report {len(x)} outputs and cycle counts, "
            f"not {len(got)} and {len(run.measurements)}"
        )
    bad = np.flatnonzero(got != want)
    if bad.size:
        i = int(bad[0])
        raise MismatchError(
            f"AVR build of {cm.name}: outputs must equal the golden model's, not differ on "
            f"{bad.size} of {len(x)} inputs (first: input {i}, got {got[i]}, want {want[i]})"
        )
    baseline = measure_float_baseline(cm, board, x, out_dir)
    sketch, sketch_note = build_arduino_sketch(sketch_dir, out_dir / "arduino-build", arduino)
    return UnoBuild(
        board=board,
        sketch_dir=sketch_dir,
        makefile=out_dir / "Makefile",
        flash_bytes=flash,
        ram_bytes=ram,
        model_flash_bytes=model_flash,
        input_cycles=input_cycles,
        stack_bytes=stack,
        cycles=tuple(run.measurements),
        checked_inputs=len(x),
        bit_exact=True,
        plan=plan,
        float_baseline=baseline,
        sketch=sketch,
        sketch_note=sketch_note,
    )


def measure_input_path(cm: CompiledModel, plan: MemoryPlan, x: np.ndarray, d: Path) -> float:
    """Mean cycles of hlsfix_quantize_input (the float input the sketch receives → the input's
    integers) in simavr, on the float inputs ``x``; the classes that follow must be the golden
    model's (the C rounds as quantize_input does)."""
    program = cm.program
    d.mkdir(parents=True, exist_ok=True)
    model = emit_model(program, plan, d)
    rows = [", ".join(_c_float(float(v)) for v in np.asarray(row, dtype=np.float32).reshape(-1)) for row in x]
    fw = write_firmware(model, program, rows, d / "firmware_float_input.c")
    elf = runners.compile_avr(
        fw.sources, d / "fw.elf", include_dirs=fw.include_dirs, link_flags=_UNLIMITED_LINK
    )
    run = runners.run_avr(elf)
    want = cm.golden(np.asarray(x, dtype=np.float32).astype(np.float64)).output
    if not np.array_equal(decode_records(program, run.records), want):
        raise MismatchError(
            f"AVR build of {cm.name}: outputs from float inputs must equal the golden model's"
        )
    return float(np.mean(run.measurements[0::2]))


def build_arduino_sketch(
    sketch_dir: Path, build_dir: Path, arduino: bool | None
) -> tuple[SketchBuild | None, str | None]:
    """The sketch built with arduino-builder (``arduino``: True requires it, None when installed,
    False never); its build, or None and the reason."""
    if arduino is False:
        return None, "not built (arduino=False)"
    if arduino is None and not arduino_available():
        return None, "arduino-builder and arduino-core-avr are not installed"
    sketch = build_sketch(sketch_dir / f"{sketch_dir.name}.ino", build_dir)
    return sketch, None


def measure_float_baseline(cm: CompiledModel, board: McuBoard, x: np.ndarray, out_dir: Path) -> FloatBaseline:
    """Write model_float.[ch] to ``out_dir``, build and run the float firmware on ``x`` in simavr.

    A baseline that does not fit the board (or that the C backend cannot express) comes back
    without cycles and with the reason in ``note``."""
    program = float_program(cm.graph)
    plan = plan_memory(program)
    want = run_float(cm.graph, x)
    flash = ram = stack = None
    try:
        emit_float_model(program, plan, out_dir)
        with tempfile.TemporaryDirectory(prefix="hlsfix-uno-float-") as tmp:
            d = Path(tmp)
            fw = emit_float_firmware(program, plan, x, d)
            elf = runners.compile_avr(
                fw.sources,
                d / "fw.elf",
                include_dirs=fw.include_dirs,
                link_flags=_UNLIMITED_LINK,
                libs=("-lm",),
            )
            flash, ram = runners.avr_size(elf)
            check_fit(board, flash, ram, None)
            run = runners.run_avr(elf)
        stack = run.max_stack_bytes or 0
        check_fit(board, flash, ram, stack)
    except (BoardError, UnsupportedProgram) as e:
        return FloatBaseline(flash, ram, stack, (), 0, f"float build: {e}")
    got = decode_float_records(program, run.records)
    if program.output_is_class:
        agree = int(np.sum(got == want))
    else:  # float32 on the AVR against numpy's float64: rows equal to float32 rounding
        want = np.asarray(want, dtype=np.float64).reshape(len(got), -1)
        tol = 1e-4 * np.max(np.abs(want), axis=1, keepdims=True) + 1e-6
        agree = int(np.sum(np.all(np.abs(got - want) <= tol, axis=1)))
    return FloatBaseline(flash, ram, stack, tuple(run.measurements), agree)
