"""``hlsfix.compile("model.tflite")`` for an int8 model: no calibration data, TFLM's numbers;
``build_cortexm``: its Cortex-M build (project, fit, QEMU run, reports).

The pass order: read the flatbuffer (frontend/tflite.py) → int8 affine KernelProgram → memory
(memory/int8_plan.py: the given order's bound and arena, operator reordering, partial execution)
→ the scheduled program every backend runs. ``predict`` runs the golden model on a batch of the
model's own int8 inputs and returns the int8 output tensors TFLM's interpreter returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hlsfix.boards import CortexMBoard
from hlsfix.errors import DataError
from hlsfix.fixedpoint.int8 import arith
from hlsfix.fixedpoint.int8.golden import run_int8
from hlsfix.fixedpoint.int8.tflm_oracle import TflmCheck
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.flows.result import FlowResult, output_run
from hlsfix.frontend.tflite import TfliteInt8Model, load_tflite_int8
from hlsfix.mcu.cortexm import (
    STACK_RESERVE_BYTES,
    make_project,
    measure_fit,
    run_in_qemu,
    write_cortexm_project,
)
from hlsfix.memory.int8_plan import Int8Memory, Int8MemoryOptions, plan_int8_memory


@dataclass(frozen=True)
class CompiledInt8Model:
    model: TfliteInt8Model
    memory: Int8Memory

    @property
    def name(self) -> str:
        return self.model.program.name

    @property
    def program(self) -> KernelProgram:
        """The scheduled program (reordered and sliced as the memory options chose)."""
        return self.memory.program

    @property
    def source(self) -> Path | None:
        return self.model.source

    @property
    def float_io(self) -> tuple[bool, bool]:
        return (self.model.float_input, self.model.float_output)

    @property
    def scales(self) -> tuple[float, int, float, int]:
        """Input scale and zero point, output scale and zero point."""
        m = self.model
        return (m.input_scale, m.input_zero_point, m.output_scale, m.output_zero_point)

    def build(self, board: str, out: Path | str, **options: int | bool) -> CortexMBuild:
        """The Cortex-M build for ``board`` (see ``build_cortexm`` for the options)."""
        from hlsfix.boards import get_cortex_m_board

        return build_cortexm(self, Path(out), get_cortex_m_board(board), **options)  # type: ignore[arg-type]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """The program's int8 input rows for a batch of the model's own inputs: int8 values, or for
        a float-input model float values quantised as its QUANTIZE does."""
        x = np.asarray(x)
        size = self.program.input_buffer.size
        if x.size % size or x.size == 0:
            raise DataError(f"input must hold a multiple of {size} values (the model's input), not {x.size}")
        if self.model.float_input:
            if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
                raise DataError(
                    f"input must be finite float values (the model's input is float32), not {x.dtype}"
                )
            return arith.quantize_float(
                x.reshape(-1, size), self.model.input_scale, self.model.input_zero_point
            )
        if np.issubdtype(x.dtype, np.floating):
            raise DataError(f"input must be the model's own int8 values, not {x.dtype}")
        if x.min() < -128 or x.max() > 127:
            raise DataError("input must be int8 values in [-128, 127]")
        return x.reshape(-1, size).astype(np.int64)

    def output_values(self, out: np.ndarray) -> np.ndarray:
        """The program's int8 outputs as the model returns them: (N, *output shape), int8 or (for a
        float-output model, through its DEQUANTIZE) float32."""
        shape = self.model.output_shape[1:] if len(self.model.output_shape) > 1 else self.model.output_shape
        if self.model.float_output:
            return arith.dequantize(out, self.model.output_scale, self.model.output_zero_point).reshape(
                len(out), *shape
            )
        return out.reshape(len(out), *shape).astype(np.int8)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for a batch of its own inputs, exactly as TFLM's interpreter gives them."""
        return self.output_values(run_int8(self.program, self.quantize_input(x)).output)

    def random_model_inputs(self, n: int, seed: int = 0) -> np.ndarray:
        """``random_inputs`` in the model's own input type: for a float-input model, the int8 values
        dequantised and moved by up to ±0.6 of a step (across the rounding boundaries)."""
        q = self.random_inputs(n, seed)
        if not self.model.float_input:
            return q
        jitter = np.random.default_rng(seed + 1).uniform(-0.6, 0.6, q.shape)
        scale, zp = self.model.input_scale, self.model.input_zero_point
        return ((q - zp + jitter) * arith.f32(scale)).astype(np.float32)

    def random_inputs(self, n: int, seed: int = 0) -> np.ndarray:
        """n test inputs: each its own level and spread over the int8 range (plain i.i.d. noise
        averages out in pooled models), the first two at the extremes."""
        size = self.program.input_buffer.size
        rng = np.random.default_rng(seed)
        level = rng.integers(-128, 128, (n, 1))
        spread = rng.integers(1, 128, (n, 1))
        x = np.clip(level + rng.integers(-128, 128, (n, size)) * spread // 128, -128, 127)
        x[0] = -128
        if n > 1:
            x[1] = 127
        return x

    def check_tflm(self, n_inputs: int = 20, seed: int = 0) -> TflmCheck | None:
        """Compare with TFLM's interpreter on n inputs (None when tflite-micro is not installed)."""
        from hlsfix.fixedpoint.int8.tflm_oracle import tflm_arena, tflm_available, tflm_run

        if not tflm_available() or self.source is None:
            return None
        x = self.random_model_inputs(n_inputs, seed)
        got = self.predict(x).reshape(n_inputs, -1)
        same = np.array_equal(got, tflm_run(self.source, x).astype(got.dtype))
        arena = tflm_arena(self.source)
        return TflmCheck(same, n_inputs, arena.head_bytes, arena.tail_bytes, arena.total_bytes)

    def save(self, directory: Path | str, *, tflm_inputs: int = 20) -> dict:
        """Write program.json, constants.npz, memory.svg, report.md and report.json; the report."""
        from hlsfix.flows.int8_report import int8_report, write_int8_reports

        directory = Path(directory)
        self.program.save(directory)
        report = int8_report(self, self.check_tflm(tflm_inputs) if tflm_inputs else None)
        write_int8_reports(directory, report, self)
        return report


def int8_info(cm: CompiledInt8Model) -> list[str]:
    """``hlsfix info model.tflite``: what the model is and what its memory plan needs."""
    m, mem = cm.model, cm.memory
    counts: dict[str, int] = {}
    for op in m.operators:
        counts[op] = counts.get(op, 0) + 1
    kind = ("float32", "int8")
    return [
        f"model: {cm.name} (int8 TFLite{f', {cm.source}' if cm.source else ''})",
        f"input: {list(m.input_shape)} {kind[not m.float_input]}, scale {m.input_scale:.6g}, "
        f"zero point {m.input_zero_point}",
        f"output: {list(m.output_shape)} {kind[not m.float_output]}, scale {m.output_scale:.6g}, "
        f"zero point {m.output_zero_point}",
        f"operators: {len(m.operators)} ({', '.join(f'{k} ×{v}' for k, v in counts.items())})",
        f"parameters: {m.parameters}",
        f"arena: {mem.arena_bytes} bytes (given order's bound {mem.given_order_bound}, best order's "
        f"{mem.best_order_bound}; partial execution: {len(mem.pex_chains)} chains)",
    ]


def compile_tflite(
    path: str | Path, *, reorder: bool = True, partial_execution: bool = True
) -> CompiledInt8Model:
    """Compile an int8 .tflite model (no calibration data: its quantisation is taken as given)."""
    model = load_tflite_int8(path)
    memory = plan_int8_memory(model.program, Int8MemoryOptions(reorder, partial_execution))
    return CompiledInt8Model(model, memory)


@dataclass(frozen=True)
class QemuCheck:
    bit_exact: bool
    checked_inputs: int
    instructions: tuple[int, ...]  # per inference (QEMU counts instructions, not cycles)
    max_stack_bytes: int | None
    simulator: str


@dataclass(frozen=True)
class CortexMBuild:
    board: CortexMBoard
    out_dir: Path
    project_dir: Path
    elf: Path | None  # the board firmware built by the project's Makefile (None: it does not fit)
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


def build_cortexm(
    cm: CompiledInt8Model,
    out_dir: Path | str,
    board: CortexMBoard,
    *,
    n_inputs: int = 10,
    run_qemu: bool = True,
    tflm_inputs: int = 20,
) -> CortexMBuild:
    """Write ``out_dir``/project (Makefile project for ``board``; built when it fits), check the
    fit, run ``n_inputs`` inputs in QEMU against the golden model, compare with TFLM on
    ``tflm_inputs`` inputs (when tflite-micro is installed), and write report.md/json (with
    ``mcu``), memory.svg, program.json and constants.npz."""
    from hlsfix.flows.int8_report import int8_report, write_int8_reports

    out_dir = Path(out_dir)
    example = cm.random_inputs(1, seed=1)[0]
    fit = measure_fit(cm.memory, cm.scales, example, board, out_dir / "qemu" / "measure")
    project = out_dir / "project"
    write_cortexm_project(cm.memory, cm.scales, example, board, project, float_io=cm.float_io)
    elf = make_project(project) if fit.fits else None
    qemu = None
    if run_qemu:
        x = cm.random_model_inputs(n_inputs, seed=3)
        got, run = run_in_qemu(cm.memory, cm.scales, x, board, out_dir / "qemu", float_io=cm.float_io)
        want = cm.predict(x).reshape(n_inputs, -1)
        same = got.shape == want.shape and bool((got == want).all())
        qemu = QemuCheck(same, n_inputs, run.measurements, run.max_stack_bytes, run.simulator)
    built = CortexMBuild(
        board, out_dir, project, elf, fit.flash_bytes, fit.ram_bytes, cm.memory.arena_bytes, fit.fits, qemu
    )
    cm.program.save(out_dir)
    report = int8_report(cm, cm.check_tflm(tflm_inputs) if tflm_inputs else None)
    report["mcu"] = built.mcu_report()
    write_int8_reports(out_dir, report, cm)
    return built


# ------------------------------------------------------------------------------------------------
# The command line's int8 flows: output directories checked and staged like every other flow.


def compile_int8_flow(
    cm: CompiledInt8Model, out: Path, *, force: bool = False, tflm_inputs: int = 20
) -> FlowResult:
    """``hlsfix compile model.tflite -o OUT``."""
    protected = (cm.source,) if cm.source else ()
    with output_run(out, protected, force=force) as stage:  # type: ignore[arg-type]
        report = cm.save(stage, tflm_inputs=tflm_inputs)
        _write_provenance(stage, cm, report, "compile", {})
    return FlowResult("compile", out, report, _summary(report, out, "program.json, memory.svg"))


def build_int8_flow(
    cm: CompiledInt8Model, out: Path, board: str, *, inputs: int = 10, force: bool = False
) -> FlowResult:
    """``hlsfix build model.tflite --board BOARD -o OUT`` for a Cortex-M board."""
    from hlsfix.boards import get_cortex_m_board

    b = get_cortex_m_board(board)
    protected = (cm.source,) if cm.source else ()
    with output_run(out, protected, force=force) as stage:  # type: ignore[arg-type]
        built = build_cortexm(cm, stage, b, n_inputs=inputs)
        report = json.loads((stage / "report.json").read_text())
        _write_provenance(stage, cm, report, "build", {"build": _Int8Build(board, inputs)})
    mcu = built.mcu_report()
    lines = [
        f"{b.name}: flash {mcu['flash_bytes']}/{b.flash_bytes} bytes, RAM {mcu['ram_bytes']} + stack "
        f"{STACK_RESERVE_BYTES}/{b.ram_bytes} bytes ({'fits' if built.fits else 'does NOT fit'}), "
        f"{mcu['instructions']} instructions per inference ({mcu['simulator']}; not cycles), "
        f"bit-exact with the golden model on {mcu['checked_inputs']} inputs: {mcu['bit_exact']}"
    ]
    return FlowResult("build", out, report, (*lines, *_summary(report, out, "project/, program.json")))


@dataclass(frozen=True)
class _Int8Build:
    """The [build] table of an int8 build's hlsfix.toml (keys BuildOptions knows)."""

    board: str
    inputs: int


@dataclass(frozen=True)
class _Int8Compile:
    """The [compile] table of an int8 output's hlsfix.toml: the memory options a user turned off."""

    no_reorder: bool | None
    no_partial_execution: bool | None


def _write_provenance(stage: Path, cm: CompiledInt8Model, report: dict, command: str, more: dict) -> None:
    """hlsfix.toml (``hlsfix <command> --config`` redoes the output) and the fingerprint in the report."""
    from hlsfix import __version__
    from hlsfix.flows.config import fingerprint, write_config
    from hlsfix.flows.options import ModelSpec
    from hlsfix.report import write_reports

    fp = fingerprint(cm.program)
    report["fingerprint"], report["command"] = fp, command
    stages: dict[str, object] = {"model": ModelSpec(str(Path(cm.source).resolve()))} if cm.source else {}
    memory = cm.memory.options
    if not (memory.reorder and memory.partial_execution):  # so that --config redoes the same schedule
        stages["compile"] = _Int8Compile(
            no_reorder=True if not memory.reorder else None,
            no_partial_execution=True if not memory.partial_execution else None,
        )
    write_config(stage, {**stages, **more}, {"command": command, "fingerprint": fp, "hlsfix": __version__})
    write_reports(stage, report)  # again: the three reports now carry the fingerprint


def _summary(report: dict, out: Path, files: str) -> tuple[str, ...]:
    m = report["memory"]
    lines = [
        f"arena {m['arena_bytes']} bytes (lower bound of the given order {m['lower_bound_bytes']}, "
        f"of the best order {m['best_order_bound_bytes']})"
    ]
    t = report.get("tflm")
    if t:
        lines.append(
            f"TFLM: {'bit-exact' if t['bit_exact'] else 'NOT bit-exact'} on {t['checked_inputs']} inputs; "
            "its arena "
            f"{t['arena_head_bytes']} bytes + {t['arena_tail_bytes']} of bookkeeping"
        )
    lines.append(f"wrote {out}/ ({files}, report.md, report.html, report.json)")
    return tuple(lines)
