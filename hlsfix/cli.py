"""The ``hlsfix`` command line.

A user's mistake prints one line ``hlsfix: error: …`` and exits with status 2; an output directory
is written beside its final place and renamed only when complete, so a failure leaves none behind.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from hlsfix.compiler import CompiledModel
from hlsfix.errors import DataError, HlsfixError
from hlsfix.zoo import DEFAULT_MODEL, ZOO_NAMES, Model, load_model

EXIT_USER_ERROR = 2


@contextmanager
def staged_output(out: Path):
    """Yield a scratch directory that replaces ``out`` only if the block succeeds."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    stage.rename(out)


def _model(args: argparse.Namespace) -> Model:
    return load_model(
        args.model,
        Path(args.weights) if args.weights else None,
        Path(args.data) if getattr(args, "data", None) else None,
    )


def cmd_info(args: argparse.Namespace) -> int:
    m = _model(args)
    g = m.graph
    st = g.stats()
    print(f"model: {g.name}  ({m.source})")
    print(f"input: {g.input.name} shape {g.input.shape} range {list(g.input.declared_range)}")
    out = g.output_type
    print(f"output: {'class index' if out.is_int else 'tensor ' + out.shape_str}")
    print(f"parameters: {st.parameters} values, {st.nonzeros} non-zero")
    for p in g.params:
        sparse = ""
        if p.sparse:
            nnz, size = int(np.count_nonzero(g.weights[p.name])), g.weights[p.name].size
            sparse = f"  sparse: {nnz}/{size} non-zero ({1 - nnz / size:.0%} zeros)"
        print(f"  {p.name:<8} {str(p.shape):<14} range {list(p.declared_range)}{sparse}")
    print(f"MACs per inference: {st.macs}")
    print("ops: " + ", ".join(f"{name} {n}" for name, n in st.op_counts))
    if m.meta.get("float_test_accuracy") is not None:
        print(f"recorded float test accuracy: {m.meta['float_test_accuracy']:.4f}")
    return 0


def _eval_data(m: Model, args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    if m.data is None:
        raise DataError("evaluation data must be given with --data FILE.npz (X_test, y_test), not be missing")
    return m.data.x_test, m.data.y_test


def cmd_eval(args: argparse.Namespace) -> int:
    from hlsfix.ir.interp import run_float

    m = _model(args)
    x, y = _eval_data(m, args)
    pred = run_float(m.graph, x)
    print(f"accuracy: {np.mean(pred == y):.4f}")
    print(f"inputs: {len(y)}")
    return 0


def compile_from_args(args: argparse.Namespace) -> CompiledModel:
    """The model and fixed-point options every compiling subcommand shares."""
    import hlsfix

    return hlsfix.compile(
        _model(args),
        bits=args.bits,
        metric=args.metric,
        activation=args.activation,
        budget_pp=args.budget_pp,
        weight_budget=args.weight_budget,
        progress=not args.quiet and sys.stderr.isatty(),
    )


def cmd_compile(args: argparse.Namespace) -> int:
    cm = compile_from_args(args)
    with staged_output(Path(args.output)) as stage:
        report = cm.save(stage)
    acc = report.get("accuracy") or {}
    if acc:
        print(f"accuracy: float {acc['float']:.4f}, fixed {acc['fixed']:.4f} ({acc['n']} test inputs)")
    print(
        f"bits: {report['bits']}, weights: {report['weights_bytes']} bytes, "
        f"explored {report['choice']['candidates_run']} candidates in {report['choice']['explore_seconds']} s"
    )
    print(f"wrote {args.output}/program.json, constants.npz, report.md, report.json")
    return 0


def _add_model_args(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument(
        "model",
        nargs="?" if optional else None,
        default=DEFAULT_MODEL if optional else None,
        help=f"a zoo model ({', '.join(ZOO_NAMES)}) or a path to an .sd program"
        + (f"; default {DEFAULT_MODEL}" if optional else ""),
    )
    p.add_argument(
        "--weights", metavar="FILE.npz", help="weights (default: weights.npz or <model>.npz beside the .sd)"
    )


def _add_compile_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bits",
        default="16",
        choices=["8", "16", "32", "mixed"],
        help="uniform width, or Shiftry-style mixed 8/16 (default 16)",
    )
    p.add_argument(
        "--metric",
        default="red_disagree",
        choices=["acc", "disagree", "red_disagree"],
        help="what exploration maximises on the training data (default red_disagree)",
    )
    p.add_argument(
        "--activation",
        default="auto",
        choices=["auto", "table", "linear"],
        help="sigmoid/tanh by exp tables, clipped-linear, or whichever the data favours",
    )
    p.add_argument(
        "--budget-pp",
        type=float,
        default=1.0,
        help="mixed: accuracy loss allowed against float, in percentage points (default 1.0)",
    )
    p.add_argument(
        "--weight-budget",
        type=int,
        default=None,
        metavar="BYTES",
        help="mixed: fail unless the weights fit this many bytes",
    )
    p.add_argument(
        "--data", metavar="FILE.npz", help="X_train, y_train, X_test, y_test (default: the zoo split)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hlsfix",
        description="Compile small float ML models (SeeDot language) to bit-exact fixed-point programs "
        "for microcontrollers and FPGAs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "info",
        help="inputs, outputs, parameters, sparsity, MACs and op counts of a model",
        description="Show a model's interface, parameters, sparsity, MACs per inference and op counts.",
    )
    _add_model_args(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "eval",
        help="float accuracy of a model on its test data",
        description="Run the float reference on test data and print 'accuracy: 0.XXXX'.",
    )
    _add_model_args(p)
    p.add_argument(
        "--data", metavar="FILE.npz", help="X_test and y_test (default: the zoo model's test split)"
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "compile",
        help="choose scales on data and write the fixed-point program and reports",
        description="Profile on the training split, explore scales (and widths for --bits mixed) "
        "on the golden model, and write program.json, constants.npz, report.md, report.json.",
    )
    _add_model_args(p)
    _add_compile_args(p)
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output directory (replaced on success)"
    )
    p.set_defaults(func=cmd_compile)

    from hlsfix.build import add_build_parser, add_run_board_parser

    add_build_parser(sub, _add_model_args, _add_compile_args)
    add_run_board_parser(sub, _add_model_args, _add_compile_args)
    __import__("hlsfix.rtl.cli").rtl.cli.register(sub, _add_model_args, _add_compile_args)
    return parser


def main(argv: Sequence[str] | None = None, run: Callable[[argparse.Namespace], int] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return (run or args.func)(args)
    except HlsfixError as e:
        print(f"hlsfix: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("hlsfix: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
