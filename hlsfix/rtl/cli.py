"""``hlsfix rtl`` (the accelerator's Verilog) and ``hlsfix sim`` (cycles and bit-exactness in cocotb).

    hlsfix rtl MODEL [--lanes P] [compile options] -o OUT
    hlsfix sim MODEL [--simulator icarus|verilator] [--lanes P] [--inputs N] [--vcd FILE] -o OUT

``sim`` writes ``report.json`` with the ``rtl`` section of DESIGN.md (lanes, cycles, ideal_cycles,
bit_exact, checked_inputs, simulator) plus the cycle ratio and the per-kernel breakdown, and
``report.md``. A design that differs from the golden model still gets its report (that is what a
user's CI reads), and the command then exits with status 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from hlsfix.errors import BoardError, CompileError, DataError, ToolError

SIMULATORS = {"icarus": "iverilog", "verilator": "verilator"}
MAX_LANES = 64
EXIT_MISMATCH = 1


def parse_lanes(text: str) -> int:
    try:
        lanes = int(text)
    except ValueError:
        lanes = 0
    if not 1 <= lanes <= MAX_LANES:
        raise BoardError(f"--lanes must be an integer from 1 to {MAX_LANES}, not {text!r}")
    return lanes


def _image(program, lanes: int):
    from hlsfix.rtl.microcode import UnsupportedKernel, compile_image

    try:
        return compile_image(program, lanes)
    except UnsupportedKernel as e:
        raise CompileError(f"the accelerator must support every kernel of the program, not: {e}") from None


def _require_simulator(simulator: str) -> None:
    tool = SIMULATORS[simulator]
    if shutil.which(tool) is None:
        raise ToolError(f"--simulator {simulator} needs {tool} on PATH, not missing")


def cmd_rtl(args: argparse.Namespace) -> int:
    from hlsfix.cli import compile_from_args, staged_output
    from hlsfix.report import write_reports
    from hlsfix.rtl.verilog import TOP, emit_verilog

    lanes = parse_lanes(args.lanes)
    cm = compile_from_args(args)
    image = _image(cm.program, lanes)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
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
        }
        write_reports(stage, report)
    v = report["verilog"]
    print(
        f"{cm.name}: P={lanes} lanes, {v['microcode_words']} microcode words, ROM {v['rom_words']}, "
        f"RAM {v['ram_words']} words; {v['predicted_cycles']} cycles per inference "
        f"(ideal {v['ideal_cycles']})"
    )
    print(f"wrote {args.output}/{path.name} (top module {TOP}), program.json, report.md, report.json")
    return 0


def sim_markdown(report: dict) -> str:
    from hlsfix.report import render_markdown

    rtl = report["rtl"]
    flat = {k: v for k, v in rtl.items() if not isinstance(v, (dict, list))}
    lines = [render_markdown({**report, "rtl": flat}), "## Cycles per kernel (cocotb)", ""]
    lines += ["| kernel | cycles | ideal |", "|---|---|---|"]
    lines += [
        f"| {k['kernel'].replace('|', chr(92) + '|')} | {k['cycles']} | {k['ideal']} |"
        for k in rtl["per_kernel"]
    ]
    if rtl["mismatches"]:
        lines += ["", f"**Not bit-exact**: inputs {rtl['mismatches'][:20]} differ from the golden model."]
    return "\n".join(lines) + "\n"


def rtl_section(result, lanes: int, simulator: str) -> dict:
    """The report's ``rtl`` section from a ``sim.runner.SimResult``."""
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
        "us_at_100mhz": round(cycles / 100, 3),
        "mismatches": [int(i) for i in result.mismatches],
        "per_kernel": [{"kernel": n, "cycles": c, "ideal": i} for n, c, i in result.per_kernel],
    }


def cmd_sim(args: argparse.Namespace) -> int:
    import numpy as np

    if args.host:
        from hlsfix.codesign.cli import sim_codesign

        _require_simulator(args.simulator)
        return sim_codesign(args)
    args.inputs = 10 if args.inputs is None else args.inputs

    from hlsfix.board.arty import _output_to, import_sim_runner
    from hlsfix.cli import compile_from_args, staged_output
    from hlsfix.fixedpoint.golden import quantize_input
    from hlsfix.report import write_reports

    lanes = parse_lanes(args.lanes)
    if args.inputs < 1:
        raise DataError(f"--inputs must be a positive integer, not {args.inputs}")
    _require_simulator(args.simulator)
    if args.vcd and args.simulator != "icarus":
        raise ToolError(f"--vcd is written by the icarus simulator, not {args.simulator}")
    runner = import_sim_runner()
    cm = compile_from_args(args)
    if cm.test is None or len(cm.test[0]) == 0:
        raise DataError(f"model {cm.name}: test inputs must be known to simulate (--data), not missing")
    _image(cm.program, lanes)  # an unsupported kernel is a one-line error, not a traceback
    x_q = quantize_input(cm.program, np.asarray(cm.test[0][: args.inputs]))
    out = Path(args.output).resolve()
    vcd = Path(args.vcd).resolve() if args.vcd else None
    with staged_output(out) as stage:
        report = cm.save(stage)
        with tempfile.TemporaryDirectory(prefix="hlsfix-sim-") as tmp:
            wave = Path(tmp) / "waves.vcd" if vcd else None
            with _output_to(stage / "sim.log"):
                result = runner.run_cocotb(
                    cm.program, x_q, lanes, args.simulator, build_dir=Path(tmp), vcd=wave
                )
            shutil.copy(Path(tmp) / "hlsfix_accel.v", stage / "hlsfix_accel.v")
            if vcd is not None:
                if vcd.is_relative_to(out):  # inside OUT: goes with the staged directory
                    dest = stage / vcd.relative_to(out)
                else:
                    dest = vcd
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(wave, dest)
        report["rtl"] = rtl_section(result, lanes, args.simulator)
        write_reports(stage, report)
        (stage / "report.md").write_text(sim_markdown(report))
    rtl = report["rtl"]
    exact = (
        f"bit-exact on {rtl['checked_inputs']} inputs"
        if rtl["bit_exact"]
        else f"NOT bit-exact: {len(rtl['mismatches'])} of {rtl['checked_inputs']} inputs differ"
    )
    print(
        f"{cm.name}: P={lanes} lanes, {rtl['cycles']} cycles per inference (ideal {rtl['ideal_cycles']}, "
        f"ratio {rtl['ratio']:.2f}), {exact} (cocotb, {args.simulator})"
    )
    print(f"wrote {args.output}/ (hlsfix_accel.v, sim.log, report.md, report.json)")
    if vcd is not None:
        print(f"wrote {args.vcd}")
    if not rtl["bit_exact"]:
        print("hlsfix: error: the accelerator must equal the golden model, not differ", file=sys.stderr)
        return EXIT_MISMATCH
    return 0


def add_codesign_arguments(p: argparse.ArgumentParser, *, build: bool) -> None:
    from hlsfix.codesign.cli import add_codesign_arguments as add

    add(p, build=build)


def register(sub: argparse._SubParsersAction, add_model_args, add_compile_args) -> None:
    """Add ``rtl`` and ``sim`` to the ``hlsfix`` command line."""
    p = sub.add_parser(
        "rtl",
        help="write the accelerator's Verilog for a model",
        description="Compile the model and write the Amaranth accelerator as Verilog (top module "
        "hlsfix_accel: input stream in, class or output buffer out), with the compile reports.",
    )
    add_model_args(p)
    add_compile_args(p)
    p.add_argument("--lanes", default="1", metavar="P", help="parallel lanes of the accelerator (default 1)")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.set_defaults(func=cmd_rtl)

    p = sub.add_parser(
        "sim",
        help="simulate the accelerator on test inputs (cocotb): cycles and bit-exactness",
        description="Compile the model, simulate the accelerator's Verilog under cocotb on the first "
        "N test inputs, check every output against the golden model and write report.json (rtl "
        "section: cycles per inference against the ideal, per kernel) and report.md.",
    )
    add_model_args(p)
    add_compile_args(p)
    p.add_argument(
        "--simulator",
        choices=tuple(SIMULATORS),
        default="icarus",
        help="HDL simulator under cocotb (default icarus; verilator is optional)",
    )
    p.add_argument("--lanes", default="1", metavar="P", help="parallel lanes of the accelerator (default 1)")
    p.add_argument(
        "--inputs",
        type=int,
        default=None,
        metavar="N",
        help="test inputs to check (default 10; 20 with --host)",
    )
    p.add_argument("--vcd", metavar="FILE", help="also write a VCD waveform of the run (icarus)")
    add_codesign_arguments(p, build=False)
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.set_defaults(func=cmd_sim)
