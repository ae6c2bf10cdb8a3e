"""The ``hlsfix`` command line: parses, calls the build API (``hlsfix.flows``), prints. Nothing imports it.

A user's mistake prints one line ``hlsfix: error: …`` and exits with status 2; an interrupted run
(Ctrl-C: 130, SIGTERM: 143) and a failed one leave no output directory behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hlsfix.boards import ALL_BOARD_NAMES, CORTEX_M_BOARDS
from hlsfix.errors import HlsfixError
from hlsfix.flows.options import (
    ACTIVATIONS,
    BACKENDS,
    BITS,
    DEFAULT_BAUD,
    HLS_INTERFACES,
    HOSTS,
    METRICS,
    OUTPUT_KINDS,
    SIMULATORS,
    BuildOptions,
    CompileOptions,
    ModelSpec,
    SimOptions,
)
from hlsfix.flows.output import Terminated, sigterm_as_exception
from hlsfix.zoo import DEFAULT_MODEL, ZOO_NAMES
from hlsfix.zoo.imported import IMPORTED_NAMES
from hlsfix.zoo.int8 import is_int8_tflite, resolve_int8

EXIT_USER_ERROR = 2
EXIT_MISMATCH = 1
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
EXIT_BROKEN_PIPE = 141

COMPILE_KEYS = (
    "bits", "metric", "activation", "budget_pp", "weight_budget", "min_sqnr", "max_rel_err",
    "no_reorder", "no_partial_execution",
)  # fmt: skip
# Options that may come from a --config file: argparse dest → (table, key).
CONFIG_KEYS = {
    "model": ("model", "model"),
    "weights": ("model", "weights"),
    "data": ("model", "data"),
    "input_range": ("model", "input_range"),
    "output_kind": ("model", "output_kind"),
    **{k: ("compile", k) for k in COMPILE_KEYS},
    **{
        k: ("build", k)
        for k in ("board", "backend", "baud", "run_vivado", "compare_uno", "interface", "clock_ns", "synth")
    },
    "vcd": ("sim", "vcd"),
}
SHARED_KEYS = ("lanes", "inputs", "simulator", "host", "pins")  # [build] or [sim], by command


# -- from arguments to options --------------------------------------------------------------------------


def _apply_config(args: argparse.Namespace) -> dict[str, Any]:
    """Fill every option not given on the command line from ``--config``; the file's provenance."""
    if getattr(args, "config", None) is None:
        return {}
    from hlsfix.flows.config import load_config

    tables = load_config(args.config)
    stage = "sim" if args.command in ("sim", "rtl") else "build"
    keys = {**CONFIG_KEYS, **{k: (stage, k) for k in SHARED_KEYS}}
    if args.command == "run-board":  # a build's [build] table says how it was checked, not what to send
        keys = {d: tk for d, tk in keys.items() if tk[0] in ("model", "compile") or d == "baud"}
    for dest, (table, key) in keys.items():
        if hasattr(args, dest) and getattr(args, dest) is None and key in tables.get(table, {}):
            setattr(args, dest, tables[table][key])
    return tables.get("provenance", {})


def _spec(args: argparse.Namespace) -> ModelSpec:
    if args.model is None:
        raise HlsfixError(f"model must be given (a zoo name: {', '.join(ZOO_NAMES)}, or a file), not missing")
    return ModelSpec(
        str(args.model),
        Path(args.weights) if args.weights else None,
        Path(args.data) if getattr(args, "data", None) else None,
        getattr(args, "input_range", None),
        getattr(args, "output_kind", None),
    )


def _compile_options(args: argparse.Namespace) -> CompileOptions:
    return CompileOptions(
        bits=args.bits or "16",
        metric=args.metric,
        activation=args.activation or "auto",
        budget_pp=args.budget_pp,
        weight_budget=args.weight_budget,
        min_sqnr=args.min_sqnr,
        max_rel_err=args.max_rel_err,
    )


def _out(args: argparse.Namespace) -> Path:
    """``-o``: a path (``Path("")`` would silently mean the current directory)."""
    from hlsfix.flows.output import OutputError

    if not args.output.strip():
        raise OutputError("output directory (-o) must be a path, not empty")
    return Path(args.output)


def _check_output_early(args: argparse.Namespace) -> None:
    """Refuse an unsafe ``-o`` before anything slow runs (the flow checks again when it writes)."""
    from hlsfix.flows.output import check_output_dir
    from hlsfix.zoo import ZOO_DIR

    model = str(args.model or "")
    files = [ZOO_DIR / model if model in ZOO_NAMES else Path(model)]
    files += [Path(f) for f in (args.weights, getattr(args, "data", None)) if f]
    check_output_dir(_out(args), [f for f in files if str(f)], force=bool(args.force))


def _progress(args: argparse.Namespace):
    from hlsfix.flows.progress import QuietProgress, StepProgress

    return QuietProgress() if args.quiet else StepProgress()


def _compile(args: argparse.Namespace, progress, provenance: dict[str, Any]):
    from hlsfix.flows.api import compile_spec
    from hlsfix.flows.config import fingerprint

    options = _compile_options(args)  # a bad option fails before the model is read
    cm = compile_spec(_spec(args), options, progress)
    want = provenance.get("fingerprint")
    if want is not None and fingerprint(cm.program) != want:
        raise HlsfixError(
            f"{args.config}: the program must match the recorded fingerprint {want}, not "
            f"{fingerprint(cm.program)} (the model, its data or hlsfix changed since)"
        )
    return cm


# -- commands -------------------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from hlsfix.flows.api import load
    from hlsfix.flows.inspect import model_info

    if is_int8_tflite(args.model or ""):
        from hlsfix.flows.int8 import compile_tflite, int8_info

        print("\n".join(int8_info(compile_tflite(resolve_int8(args.model)))))
        return 0

    print("\n".join(model_info(load(_spec(args)))))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from hlsfix.flows.api import load
    from hlsfix.flows.inspect import float_evaluation

    print("\n".join(float_evaluation(load(_spec(args)))))
    return 0


def cmd_export_sd(args: argparse.Namespace) -> int:
    from hlsfix.flows.api import load
    from hlsfix.flows.export import export_model_sd

    spec = _spec(args)
    protected = tuple(p for p in (spec.weights, spec.data) if p is not None)
    print("\n".join(export_model_sd(load(spec), _out(args), protected=protected, force=bool(args.force))))
    return 0


def _run_flow(args: argparse.Namespace, flow) -> int:
    provenance = _apply_config(args)
    if args.command == "build" and args.model is None:
        args.model = DEFAULT_MODEL
    _check_output_early(args)
    progress = _progress(args)
    try:
        result = flow(provenance, progress)
    except BaseException:
        progress.abandon()
        raise
    progress.close()
    print("\n".join(result.summary))
    if result.bit_exact is False:
        print(
            "hlsfix: error: the design must equal the golden model, not differ (see the report)",
            file=sys.stderr,
        )
        return EXIT_MISMATCH
    return 0


_INT8_FLAGS = {"no_reorder": "--no-reorder", "no_partial_execution": "--no-partial-execution"}
_NOT_FOR_INT8 = {
    "bits": "--bits", "metric": "--metric", "activation": "--activation", "budget_pp": "--budget-pp",
    "weight_budget": "--weight-budget", "weights": "--weights", "data": "--data",
    "min_sqnr": "--min-sqnr", "max_rel_err": "--max-rel-err", "input_range": "--input-range",
    "output_kind": "--output-kind",
}  # fmt: skip


def _int8_compiled(args: argparse.Namespace):
    """The int8 .tflite model of ``args`` compiled (its quantisation is its own: no data options)."""
    from hlsfix.flows.int8 import compile_tflite

    for dest, flag in _NOT_FOR_INT8.items():
        if getattr(args, dest, None) is not None:
            raise HlsfixError(f"{flag} applies to float models, not to an int8 .tflite model ({args.model})")
    return compile_tflite(
        resolve_int8(args.model),
        reorder=not args.no_reorder,
        partial_execution=not args.no_partial_execution,
    )


def _refuse_int8_flags(args: argparse.Namespace) -> None:
    for dest, flag in _INT8_FLAGS.items():
        if getattr(args, dest, None):
            raise HlsfixError(f"{flag} applies to int8 .tflite models, not to {args.model}")


def cmd_compile(args: argparse.Namespace) -> int:
    def flow(provenance, progress):
        if is_int8_tflite(args.model or ""):  # an int8 TFLite model: its own quantisation, no data
            from hlsfix.flows.int8 import compile_int8_flow

            return compile_int8_flow(_int8_compiled(args), _out(args), force=bool(args.force))
        _refuse_int8_flags(args)
        cm = _compile(args, progress, provenance)
        return cm.save(_out(args), force=bool(args.force))

    return _run_flow(args, flow)


def _build_options(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        board=args.board or "arduino-uno",
        backend=args.backend,
        lanes=args.lanes,
        inputs=args.inputs,
        baud=args.baud,
        run_vivado=bool(args.run_vivado),
        compare_uno=args.compare_uno is not False,
        interface=args.interface,
        clock_ns=args.clock_ns,
        host=args.host,
        pins=args.pins,
        synth=args.synth is not False,
        simulator=args.simulator,
    )


def cmd_build(args: argparse.Namespace) -> int:
    from hlsfix.flows.build import build, check_prerequisites

    def flow(provenance, progress):
        if is_int8_tflite(args.model):  # an int8 TFLite model on a Cortex-M board
            from hlsfix.flows.int8 import build_int8_flow

            cm = _int8_compiled(args)
            board = args.board or "nucleo-f446re"
            return build_int8_flow(cm, _out(args), board, inputs=args.inputs or 10, force=bool(args.force))
        _refuse_int8_flags(args)
        options = _build_options(args)
        check_prerequisites(options)  # a wrong board, option or missing tool fails before the compile
        cm = _compile(args, progress, provenance)
        return build(cm, _out(args), options, force=bool(args.force), progress=progress)

    return _run_flow(args, flow)


def _sim_options(args: argparse.Namespace) -> SimOptions:
    return SimOptions(
        lanes=args.lanes,
        inputs=args.inputs,
        simulator=args.simulator or "icarus",
        vcd=Path(args.vcd) if args.vcd else None,
        host=args.host,
        pins=args.pins,
    )


def cmd_sim(args: argparse.Namespace) -> int:
    from hlsfix.flows.accel import simulate
    from hlsfix.flows.prereq import accelerator_requirements, require

    def flow(provenance, progress):
        options = _sim_options(args)
        require(accelerator_requirements(options.simulator), f"simulating with {options.simulator}")
        cm = _compile(args, progress, provenance)
        return simulate(cm, _out(args), options, force=bool(args.force), progress=progress)

    return _run_flow(args, flow)


def cmd_rtl(args: argparse.Namespace) -> int:
    from hlsfix.flows.accel import emit_rtl

    def flow(provenance, progress):
        lanes = SimOptions(lanes=args.lanes).lanes or 1
        cm = _compile(args, progress, provenance)
        return emit_rtl(cm, _out(args), lanes, force=bool(args.force))

    return _run_flow(args, flow)


def cmd_run_board(args: argparse.Namespace) -> int:
    from hlsfix.flows.board_run import run_board

    provenance = _apply_config(args)
    cm = _compile(args, _progress(args), {})
    lines = run_board(
        cm,
        args.port,
        args.baud or DEFAULT_BAUD,
        args.inputs or 20,
        expected_fingerprint=provenance.get("fingerprint"),
    )
    print("\n".join(lines))
    return 0


# -- the parser -----------------------------------------------------------------------------------------


def _add_model_args(p: argparse.ArgumentParser, *, default: str | None = None) -> None:
    p.add_argument(
        "model",
        nargs="?",
        default=None,
        help=f"a zoo model ({', '.join(ZOO_NAMES + IMPORTED_NAMES)}) or a model file (.sd, .onnx, .tflite)"
        + (f"; default {default}" if default else ""),
    )
    p.add_argument(
        "--weights", metavar="FILE.npz", help="weights (default: weights.npz or <model>.npz beside the .sd)"
    )
    p.add_argument(
        "--data",
        metavar="FILE.npz",
        help="X_train, y_train, X_test, y_test (default: the zoo split; an .onnx or .tflite model needs it, "
        "its labels optional)",
    )
    p.add_argument(
        "--input-range",
        metavar="LO,HI",
        help="the input's real range (default: the .sd's declared range, or an imported model's data); "
        "a negative LO as --input-range=-1,1",
    )
    p.add_argument(
        "--output-kind",
        choices=OUTPUT_KINDS,
        help="an imported model's output: the class (argmax of its scores) or the output tensor's values "
        "(default: values when the data's labels are real-valued targets, else class)",
    )


def _add_compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bits", choices=BITS, help="uniform width, or Shiftry-style mixed 8/16 (default 16)")
    p.add_argument("--metric", choices=METRICS, help="what exploration maximises on the training data")
    p.add_argument(
        "--activation", choices=ACTIVATIONS, help="sigmoid/tanh by exp tables, clipped-linear, or auto"
    )
    p.add_argument(
        "--budget-pp", type=float, help="mixed: accuracy loss allowed against float, in pp (default 1.0)"
    )
    p.add_argument("--weight-budget", type=int, metavar="BYTES", help="mixed: fail unless the weights fit")
    p.add_argument(
        "--min-sqnr",
        type=float,
        metavar="DB",
        help="mixed, tensor output by --metric sqnr: the SQNR against float it keeps (default 40)",
    )
    p.add_argument(
        "--max-rel-err",
        type=float,
        metavar="E",
        help="mixed, tensor output by --metric max_rel_err: the worst relative error allowed (default 0.05)",
    )
    p.add_argument(
        "--no-reorder", action="store_true", default=None, help="int8 .tflite: keep the file's operator order"
    )
    p.add_argument(
        "--no-partial-execution",
        action="store_true",
        default=None,
        help="int8 .tflite: no channel-sliced execution of conv → depthwise chains",
    )
    p.add_argument("--config", metavar="FILE.toml", help="take every option not given here from this file")
    p.add_argument("-q", "--quiet", action="store_true", default=None, help="no progress lines")


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="replace OUT even if it holds files hlsfix did not write",
    )


def _add_target_args(p: argparse.ArgumentParser, *, build: bool) -> None:
    p.add_argument("--lanes", metavar="auto|P" if build else "P", help="parallel lanes of the accelerator")
    p.add_argument("--inputs", type=int, metavar="N", help="test inputs checked in simulation")
    p.add_argument("--simulator", choices=SIMULATORS, help="HDL simulator under cocotb (default icarus)")
    p.add_argument("--host", choices=HOSTS, help="co-design: split the model between this host and the FPGA")
    p.add_argument(
        "--pin", dest="pins", metavar="K=SIDE,...", help="co-design: pin top-level kernels to a side"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hlsfix",
        description="Compile small float ML models to bit-exact fixed-point programs for microcontrollers "
        "and FPGAs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="inputs, outputs, parameters, sparsity, MACs and op counts of a model")
    _add_model_args(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("eval", help="float accuracy of a model on its test data")
    _add_model_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "export-sd", help="write a model (e.g. an imported .onnx) as a SeeDot program + weights + data"
    )
    _add_model_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_export_sd)

    p = sub.add_parser("compile", help="choose scales on data; write the fixed-point program and reports")
    _add_model_args(p)
    _add_compile_args(p)
    _add_output_args(p)
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser(
        "build",
        help="compile a model and build it for a board (Vivado project, HLS or sketch), measured",
        description="Compile the model and build it for the board: an MCU (C, sketch, checked in simavr), an "
        "FPGA (the accelerator as a Vivado project, resources by Yosys, cycles by cocotb; or --backend hls), "
        "or with --host a split between a microcontroller and the FPGA.",
    )
    _add_model_args(p, default=DEFAULT_MODEL)
    _add_compile_args(p)
    p.add_argument(
        "--board",
        metavar="BOARD",
        help=f"{', '.join(ALL_BOARD_NAMES)} (default arduino-uno); for an int8 .tflite model: "
        f"{', '.join(CORTEX_M_BOARDS)} (default nucleo-f446re)",
    )
    p.add_argument(
        "--backend", choices=BACKENDS, help="FPGA: the accelerator (rtl, default) or HLS C++ (hls)"
    )
    p.add_argument("--interface", choices=HLS_INTERFACES, help="HLS: top-level interface (default ap_memory)")
    p.add_argument("--clock-ns", type=float, help="HLS: clock period in ns (default 10)")
    _add_target_args(p, build=True)
    p.add_argument("--baud", type=int, help=f"FPGA: UART baud rate (default {DEFAULT_BAUD})")
    p.add_argument("--run-vivado", action="store_true", default=None, help="FPGA: run Vivado on the project")
    p.add_argument(
        "--no-uno", dest="compare_uno", action="store_const", const=False, help="FPGA: skip the Uno build"
    )
    p.add_argument(
        "--no-synth", dest="synth", action="store_const", const=False, help="co-design: no Yosys estimate"
    )
    _add_output_args(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("rtl", help="write the accelerator's Verilog for a model")
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument("--lanes", metavar="P", help="parallel lanes of the accelerator (default 1)")
    _add_output_args(p)
    p.set_defaults(func=cmd_rtl)

    p = sub.add_parser(
        "sim", help="simulate the accelerator on test inputs (cocotb): cycles and bit-exactness"
    )
    _add_model_args(p)
    _add_compile_args(p)
    _add_target_args(p, build=False)
    p.add_argument("--vcd", metavar="FILE", help="also write a VCD waveform of the run (icarus)")
    _add_output_args(p)
    p.set_defaults(func=cmd_sim)

    p = sub.add_parser("run-board", help="run test inputs on a programmed FPGA board over its serial port")
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument("--port", required=True, help="serial port of the board (the Arty: /dev/ttyUSB1)")
    p.add_argument("--baud", type=int, help=f"baud rate (default {DEFAULT_BAUD})")
    p.add_argument("--inputs", type=int, metavar="N", help="test inputs to send (default 20)")
    p.set_defaults(func=cmd_run_board)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with sigterm_as_exception():
            return args.func(args)
    except HlsfixError as e:
        print(f"hlsfix: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("hlsfix: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("hlsfix: terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except BrokenPipeError:  # `hlsfix info … | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
