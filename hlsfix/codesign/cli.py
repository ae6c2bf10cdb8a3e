"""The co-design commands: ``hlsfix build MODEL --board arty-a7 --host H`` and ``hlsfix sim MODEL --host H``.

``build`` writes ``fpga/`` (the SPI design as a Vivado project with its pins on Pmod JA, or the
AXI4-Lite module and how to add it to a MicroBlaze block design), ``host/`` (driver, model,
Arduino sketch + WIRING.md or bare-metal main) and the reports; ``sim`` only co-simulates. Both
put the ``codesign`` section in report.json: the partition, predicted and simulated cycles of it
and of the two baselines (all on the host, all on the FPGA), link bytes, bit-exactness.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from hlsfix.board.fpga_boards import FpgaBoard, get_fpga_board
from hlsfix.board.html_report import render_html
from hlsfix.codesign.costs import HOST_LINKS, HOSTS
from hlsfix.codesign.flow import CodesignResult, codesign_markdown, run_codesign_flow, test_inputs
from hlsfix.codesign.partition import parse_pins
from hlsfix.report import write_reports

FIT_MARGIN = 0.9  # as the UART board build: room for place-and-route
DEFAULT_LANES = 1  # the link dominates a co-design's latency: more lanes save host time only at the margin


def _lanes(text: str) -> int:
    from hlsfix.build import parse_lanes

    return parse_lanes(text) or DEFAULT_LANES


def _progress(args: argparse.Namespace):
    def progress(message: str) -> None:
        if not getattr(args, "quiet", False):
            print(f"hlsfix: {message}", file=sys.stderr, flush=True)

    return progress


def _summary(result: CodesignResult, out: str) -> None:
    sim, plan = result.chosen, result.plan
    hz = plan.link.host_hz
    print(
        f"{plan.host} + FPGA over {plan.link.name}: partition {sim.partition} "
        f"({len(plan.partition.fpga_kernels)} of {len(plan.partition.sides)} kernels on the FPGA), "
        f"bit-exact on {sim.checked_inputs} inputs (co-simulated)"
    )
    for name, run, pred in (
        ("chosen", sim, plan.prediction),
        ("all on the host", result.all_mcu, plan.all_mcu),
        ("all on the FPGA", result.all_fpga, plan.all_fpga),
    ):
        print(
            f"  {name:16} {run.total_cycles:12,.0f} host cycles simulated "
            f"({run.total_cycles / hz * 1e6:,.1f} us), {pred.total_cycles:12,.0f} predicted"
        )
    if plan.prediction.estimated:
        print("  (MicroBlaze host cycles are estimates: QEMU Cortex-M3 instructions at CPI 1)")
    print(f"wrote {out}/")


def _flow(args: argparse.Namespace, cm, work: Path) -> CodesignResult:
    pins = parse_pins(args.pin) if args.pin else None
    return run_codesign_flow(
        cm,
        args.host,
        _lanes(args.lanes),
        pins,
        args.inputs,
        work_dir=work,
        simulator=getattr(args, "simulator", "icarus"),
        progress=_progress(args),
    )


def _command(args: argparse.Namespace, default_inputs: int, write_sides=None) -> dict:
    """Compile, run the co-design flow, let ``write_sides`` add files to the staged output, and
    write the reports; the report written."""
    from hlsfix.cli import compile_from_args, staged_output

    args.inputs = args.inputs or default_inputs
    cm = compile_from_args(args)
    with (
        staged_output(Path(args.output)) as stage,
        tempfile.TemporaryDirectory(prefix="hlsfix-cosim-") as tmp,
    ):
        report = cm.save(stage)
        result = _flow(args, cm, Path(tmp))
        if write_sides is not None:
            write_sides(cm, result, stage, Path(tmp), report)
        report["codesign"] = result.to_report()
        write_reports(stage, report)
        with open(stage / "report.md", "a") as f:
            f.write("\n" + codesign_markdown(report["codesign"]))
        (stage / "report.html").write_text(render_html(report))
    _summary(result, args.output)
    return report


def _write_sides(
    args: argparse.Namespace,
    board: FpgaBoard,
    cm,
    result: CodesignResult,
    stage: Path,
    tmp: Path,
    report: dict,
) -> None:
    """``host/`` (driver, model, sketch or bare-metal main) and ``fpga/`` (the SPI design as a
    Vivado project, or the AXI4-Lite module), and the FPGA side's resource estimate."""
    from hlsfix.board.arty import write_vivado_project
    from hlsfix.board.resources import check_fit, estimate_resources
    from hlsfix.codesign.board import ARTY_SPI_WIRING, AXI_NOTES, CodesignSpiTop
    from hlsfix.codesign.host_c import emit_host
    from hlsfix.codesign.top import TOP, emit_codesign_verilog
    from hlsfix.rtl.microcode import compile_image

    plan = result.plan
    program, partition = cm.program, plan.partition
    link, host_link = HOST_LINKS[args.host]
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
    if args.no_synth:
        return
    _progress(args)("estimating FPGA resources (yosys synth_xilinx)")
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


def build_codesign(args: argparse.Namespace, board: FpgaBoard) -> int:
    """``hlsfix build --board arty-a7 --host H``."""

    def write_sides(*rest) -> None:
        _write_sides(args, board, *rest)

    report = _command(args, 5, write_sides)
    if "fpga" in report:
        f = report["fpga"]
        print(
            f"  FPGA side: LUT {f['lut']}, FF {f['ff']}, DSP {f['dsp']}, BRAM36 {f['bram36']:g} "
            "(Yosys estimate)"
        )
    return 0


def sim_codesign(args: argparse.Namespace) -> int:
    """``hlsfix sim MODEL --host H``: co-simulation only."""
    get_fpga_board("arty-a7")  # the FPGA side is the Arty's accelerator
    _command(args, 20)
    return 0


def add_codesign_arguments(p: argparse.ArgumentParser, *, build: bool) -> None:
    """``--host`` and ``--pin`` (and ``--no-synth`` for build)."""
    p.add_argument(
        "--host",
        choices=HOSTS,
        default=None,
        help="co-design: split the model between this host (arduino-uno over SPI, microblaze over "
        "AXI4-Lite) and the FPGA accelerator, chosen by the cost model",
    )
    p.add_argument(
        "--pin",
        default=None,
        metavar="K=SIDE,...",
        help="co-design: pin top-level kernels to a side, e.g. 3=mcu,5=fpga (see report.json's partition)",
    )
    if build:
        p.add_argument(
            "--no-synth",
            action="store_true",
            help="co-design: skip the Yosys resource estimate of the FPGA side",
        )
