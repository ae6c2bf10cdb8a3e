"""Co-design: ``build --board arty-a7 --host H`` and ``sim --host H`` split one model between a host
and the FPGA.

``build`` writes ``fpga/`` (the SPI design as a Vivado project with its pins on Pmod JA, or the
AXI4-Lite module and how to add it to a MicroBlaze block design), ``host/`` (driver, model,
Arduino sketch + WIRING.md or bare-metal main) and the reports; ``sim`` only co-simulates. Both
put the ``codesign`` section in report.json: the partition, predicted and simulated cycles of it
and of the two baselines (all on the host, all on the FPGA), link bytes, bit-exactness.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hlsfix.flows.compile_flow import stages_of, write_compiled
from hlsfix.flows.options import BuildOptions, SimOptions
from hlsfix.flows.prereq import AVR, GCC, accelerator_requirements, require
from hlsfix.flows.progress import Progress
from hlsfix.flows.result import FlowResult, finish_output, output_run

if TYPE_CHECKING:
    from hlsfix.board.fpga_boards import FpgaBoard
    from hlsfix.codesign.flow import CodesignResult
    from hlsfix.flows.model import TrackedModel

FIT_MARGIN = 0.9  # as the UART board build: room for place-and-route
DEFAULT_LANES = 1  # the link dominates a co-design's latency: more lanes save host time only at the margin
DEFAULT_BUILD_INPUTS = 5
DEFAULT_SIM_INPUTS = 20


def check_codesign_prerequisites(host: str, simulator: str) -> None:
    reqs = [*accelerator_requirements(simulator), GCC]
    if host == "arduino-uno":
        reqs += list(AVR)
    require(reqs, f"a co-design with the {host} host (cocotb, a simulator and the host's compiler)")


def _summary(result: CodesignResult, out: Path) -> list[str]:
    sim, plan = result.chosen, result.plan
    hz = plan.link.host_hz
    lines = [
        f"{plan.host} + FPGA over {plan.link.name}: partition {sim.partition} "
        f"({len(plan.partition.fpga_kernels)} of {len(plan.partition.sides)} kernels on the FPGA), "
        f"bit-exact on {sim.checked_inputs} inputs (co-simulated)"
    ]
    for name, run, pred in (
        ("chosen", sim, plan.prediction),
        ("all on the host", result.all_mcu, plan.all_mcu),
        ("all on the FPGA", result.all_fpga, plan.all_fpga),
    ):
        lines.append(
            f"  {name:16} {run.total_cycles:12,.0f} host cycles simulated "
            f"({run.total_cycles / hz * 1e6:,.1f} us), {pred.total_cycles:12,.0f} predicted"
        )
    if plan.prediction.estimated:
        lines.append("  (MicroBlaze host cycles are estimates: QEMU Cortex-M3 instructions at CPI 1)")
    lines.append(f"wrote {out}/")
    return lines


def _run(
    cm: TrackedModel,
    out: Path,
    host: str,
    lanes: int,
    pins: str | None,
    inputs: int,
    simulator: str,
    command: str,
    resolved: dict[str, object],
    write_sides: Callable[..., None] | None,
    *,
    force: bool,
    progress: Progress,
) -> FlowResult:
    """Compile output, the co-design flow, the sides (build only) and the reports."""
    from hlsfix.codesign.flow import run_codesign_flow
    from hlsfix.codesign.partition import parse_pins

    pin_map = parse_pins(pins) if pins else None
    with (
        output_run(out, cm.protected_files, force=force) as stage,
        tempfile.TemporaryDirectory(prefix="hlsfix-cosim-") as tmp,
    ):
        report = write_compiled(cm, stage)
        result = run_codesign_flow(
            cm, host, lanes, pin_map, inputs, work_dir=Path(tmp), simulator=simulator, progress=progress
        )
        if write_sides is not None:
            write_sides(cm, result, stage, Path(tmp), report, progress)
        report["codesign"] = result.to_report()
        finish_output(stage, cm, report, stages_of(cm, **resolved), command)
    return FlowResult(command, out, report, tuple(_summary(result, out)))


def build_codesign(
    cm: TrackedModel, out: Path, board: FpgaBoard, options: BuildOptions, *, force: bool, progress: Progress
) -> FlowResult:
    """``build --board arty-a7 --host H``: both sides' sources, the co-simulated split, the reports."""
    assert options.host is not None
    host = options.host
    simulator = options.simulator or "icarus"
    check_codesign_prerequisites(host, simulator)
    lanes = options.lanes if isinstance(options.lanes, int) else DEFAULT_LANES
    inputs = options.inputs or DEFAULT_BUILD_INPUTS
    resolved = BuildOptions(
        board=board.name,
        lanes=lanes,
        inputs=inputs,
        host=host,
        pins=options.pins,
        synth=options.synth,
        simulator=simulator,
    )

    def write_sides(*rest: Any) -> None:
        _write_sides(host, options.synth, board, *rest)

    result = _run(
        cm,
        out,
        host,
        lanes,
        options.pins,
        inputs,
        simulator,
        "build",
        {"build": resolved},
        write_sides,
        force=force,
        progress=progress,
    )
    if "fpga" in result.report:
        f = result.report["fpga"]
        line = (
            f"  FPGA side: LUT {f['lut']}, FF {f['ff']}, DSP {f['dsp']}, BRAM36 {f['bram36']:g} "
            "(Yosys estimate)"
        )
        result = FlowResult(
            result.kind, result.out, result.report, (*result.summary[:-1], line, result.summary[-1])
        )
    return result


def simulate_codesign(
    cm: TrackedModel, out: Path, options: SimOptions, *, force: bool, progress: Progress
) -> FlowResult:
    """``sim --host H``: the co-simulation only."""
    assert options.host is not None
    check_codesign_prerequisites(options.host, options.simulator)
    lanes = options.lanes or DEFAULT_LANES
    inputs = options.inputs or DEFAULT_SIM_INPUTS
    resolved = SimOptions(
        lanes=lanes, inputs=inputs, simulator=options.simulator, host=options.host, pins=options.pins
    )
    return _run(
        cm,
        out,
        options.host,
        lanes,
        options.pins,
        inputs,
        options.simulator,
        "sim",
        {"sim": resolved},
        None,
        force=force,
        progress=progress,
    )


def _write_sides(
    host: str,
    synth: bool,
    board: FpgaBoard,
    cm: TrackedModel,
    result: CodesignResult,
    stage: Path,
    tmp: Path,
    report: dict[str, Any],
    progress: Progress,
) -> None:
    """``host/`` (driver, model, sketch or bare-metal main) and ``fpga/`` (the SPI design as a
    Vivado project, or the AXI4-Lite module), and the FPGA side's resource estimate."""
    from hlsfix.board.arty import write_vivado_project
    from hlsfix.board.resources import check_fit, estimate_resources
    from hlsfix.codesign.board import ARTY_SPI_WIRING, AXI_NOTES, CodesignSpiTop
    from hlsfix.codesign.costs import HOST_LINKS
    from hlsfix.codesign.flow import test_inputs
    from hlsfix.codesign.host_c import emit_host
    from hlsfix.codesign.top import TOP, emit_codesign_verilog
    from hlsfix.rtl.microcode import compile_image

    plan = result.plan
    program, partition = cm.program, plan.partition
    link, host_link = HOST_LINKS[host]
    segments = [s.kernels for s in partition.segments]
    image = compile_image(program, plan.lanes, segments=segments) if segments else None
    x_q = test_inputs(cm, 1)
    expected = int(cm.golden(cm.test[0][:1]).output.reshape(-1)[0])
    emit_host(
        program,
        partition,
        image,
        host_link,
        stage / "host",
        fpga_pins=ARTY_SPI_WIRING,
        example=x_q[0],
        expected=expected,
    )
    if image is None:
        return
    fpga_dir = stage / "fpga"
    if link == "spi":  # the Vivado project holds the whole design, pins included
        write_vivado_project(CodesignSpiTop(image, board), board, fpga_dir, name="hlsfix_codesign_top")
    else:
        emit_codesign_verilog(image, link, fpga_dir)
        (fpga_dir / "README.md").write_text(AXI_NOTES)
    if not synth:
        return
    progress("estimating FPGA resources (yosys synth_xilinx)")
    res = estimate_resources(emit_codesign_verilog(image, link, tmp / "synth"), TOP)
    utilisation = check_fit(res, board, FIT_MARGIN)
    cap = board.capacity
    report["fpga"] = {
        "board": board.name,
        "part": board.part,
        "lut": res.lut,
        "ff": res.ff,
        "dsp": res.dsp,
        "bram36": res.bram36,
        "fits": True,
        "estimator": res.estimator,
        "margin": FIT_MARGIN,
        "capacity": {"lut": cap.lut, "ff": cap.ff, "dsp": cap.dsp, "bram36": cap.bram36},
        "utilisation": {k: round(v, 4) for k, v in utilisation.items()},
        "project": "fpga/",
        "vivado": "not run (the SPI design is a Vivado project in fpga/; the AXI4-Lite module goes into "
        "a block design)",
    }
