"""``rtl`` (the accelerator's Verilog) and ``sim`` (cycles and bit-exactness in cocotb).

``sim`` writes the ``rtl`` section of DESIGN.md (lanes, cycles, ideal_cycles, bit_exact,
checked_inputs, simulator) plus the cycle ratio and the per-kernel breakdown. A design that differs
from the golden model still gets its report (that is what a user's CI reads); the result then says
``bit_exact`` False and the command line exits with status 1.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hlsfix.errors import CompileError, DataError
from hlsfix.flows.compile_flow import stages_of, write_compiled
from hlsfix.flows.options import SimOptions
from hlsfix.flows.prereq import AMARANTH, accelerator_requirements, require
from hlsfix.flows.progress import Progress, quiet
from hlsfix.flows.result import FlowResult, finish_output, output_run

if TYPE_CHECKING:
    from hlsfix.flows.model import TrackedModel

DEFAULT_SIM_INPUTS = 10
DEFAULT_SIM_LANES = 1


def accelerator_image(program: Any, lanes: int) -> Any:
    """The accelerator's microcode image; an unsupported kernel is a one-line CompileError."""
    from hlsfix.rtl.microcode import UnsupportedKernel, compile_image

    try:
        return compile_image(program, lanes)
    except UnsupportedKernel as e:
        raise CompileError(f"the accelerator must support every kernel of the program, not: {e}") from None


def emit_rtl(cm: TrackedModel, out: Path, lanes: int, *, force: bool = False) -> FlowResult:
    from hlsfix.flows.options import BuildOptions
    from hlsfix.rtl.verilog import TOP, emit_verilog

    require([AMARANTH], "emitting the accelerator's Verilog")
    lanes = BuildOptions(lanes=lanes).lanes  # type: ignore[assignment]  (checks the range)
    image = accelerator_image(cm.program, lanes)
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        path = emit_verilog(cm.program, lanes, stage, image=image)
        report["verilog"] = {
            "file": path.name,
            "top": TOP,
            "lanes": lanes,
            "ideal_cycles": sum(image.ideal),
            "predicted_cycles": image.predicted_cycles,
            "microcode_words": len(image.insns),
            "rom_words": image.rom_depth,
            "ram_words": image.ram_depth,
            "entry_words": len(image.entries),
            "ram_layout": image.ram_layout,
            "memories": image.memories(),
        }
        finish_output(stage, cm, report, stages_of(cm, sim=SimOptions(lanes=lanes)), "rtl")
    v = report["verilog"]
    summary = (
        f"{cm.name}: P={lanes} lanes, {v['microcode_words']} microcode words, ROM {v['rom_words']}, "
        f"RAM {v['ram_words']} words; {v['predicted_cycles']} cycles per inference "
        f"(ideal {v['ideal_cycles']})",
        f"wrote {out}/{path.name} (top module {TOP}), program.json, report.md, report.html, report.json",
    )
    return FlowResult("rtl", out, report, summary)


def rtl_section(result: Any, lanes: int, simulator: str) -> dict[str, Any]:
    """The report's ``rtl`` section from an ``hlsfix.sim.runner.SimResult``."""
    cycles = result.cycles_per_inference
    return {
        "lanes": lanes,
        "cycles": round(cycles),
        "ideal_cycles": result.ideal_cycles,
        "bit_exact": result.bit_exact,
        "checked_inputs": len(result.outputs),
        "simulator": f"cocotb+{simulator}",
        "ratio": round(result.ratio, 3),
        "predicted_cycles": result.predicted_cycles,
        "mismatches": [int(i) for i in result.mismatches],
        "per_kernel": [{"kernel": n, "cycles": c, "ideal": i} for n, c, i in result.per_kernel],
    }


def simulate(
    cm: TrackedModel,
    out: Path,
    options: SimOptions,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> FlowResult:
    progress = progress or quiet
    if options.host is not None:
        from hlsfix.flows.codesign import simulate_codesign

        return simulate_codesign(cm, out, options, force=force, progress=progress)
    from hlsfix.board.arty import _output_to, import_sim_runner
    from hlsfix.fixedpoint.golden import quantize_input

    require(accelerator_requirements(options.simulator), f"simulating the accelerator ({options.simulator})")
    lanes = options.lanes or DEFAULT_SIM_LANES
    inputs = options.inputs or DEFAULT_SIM_INPUTS
    if cm.test is None or len(cm.test[0]) == 0:
        raise DataError(f"model {cm.name}: test inputs must be known to simulate (--data), not missing")
    accelerator_image(cm.program, lanes)  # an unsupported kernel is a one-line error, not a traceback
    runner = import_sim_runner()
    x_q = quantize_input(cm.program, np.asarray(cm.test[0][:inputs]))
    vcd = Path(options.vcd).resolve() if options.vcd else None
    resolved = SimOptions(lanes=lanes, inputs=inputs, simulator=options.simulator, vcd=vcd)
    final = Path(out).resolve()
    with output_run(out, cm.protected_files, force=force) as stage:
        report = write_compiled(cm, stage)
        with tempfile.TemporaryDirectory(prefix="hlsfix-sim-") as tmp:
            wave = Path(tmp) / "waves.vcd" if vcd else None
            progress(
                f"simulating the accelerator (P={lanes}) on {len(x_q)} inputs (cocotb, {options.simulator})"
            )
            with _output_to(stage / "sim.log"):
                result = runner.run_cocotb(
                    cm.program, x_q, lanes, options.simulator, build_dir=Path(tmp), vcd=wave
                )
            shutil.copy(Path(tmp) / "hlsfix_accel.v", stage / "hlsfix_accel.v")
            if vcd is not None and wave is not None:
                dest = stage / vcd.relative_to(final) if vcd.is_relative_to(final) else vcd
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(wave, dest)
        report["rtl"] = rtl_section(result, lanes, options.simulator)
        finish_output(stage, cm, report, stages_of(cm, sim=resolved), "sim")
    rtl = report["rtl"]
    exact = (
        f"bit-exact on {rtl['checked_inputs']} inputs"
        if rtl["bit_exact"]
        else f"NOT bit-exact: {len(rtl['mismatches'])} of {rtl['checked_inputs']} inputs differ"
    )
    summary = [
        f"{cm.name}: P={lanes} lanes, {rtl['cycles']} cycles per inference (ideal {rtl['ideal_cycles']}, "
        f"ratio {rtl['ratio']:.2f}), {exact} (cocotb, {options.simulator})",
        f"wrote {out}/ (hlsfix_accel.v, sim.log, report.md, report.html, report.json)",
    ]
    if vcd is not None:
        summary.append(f"wrote {vcd}")
    return FlowResult("sim", out, report, tuple(summary))
