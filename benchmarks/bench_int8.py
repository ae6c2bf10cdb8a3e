"""The int8 table: every bundled int8 TFLite model against TensorFlow Lite Micro.

    python benchmarks/bench_int8.py [--inputs N] [--qemu-inputs M] [--board B] [MODEL ...]

Per model: operators, parameters, bit-exact with TFLM (tflite-micro) on N inputs, TFLM's arena
(head = activations; total = head + its bookkeeping tail, 64-bit host build), hlsfix's arena for
the given order, with operator reordering, with partial execution (each the arena the planner
achieved; the lower bounds in brackets), flash of the board build, and Cortex-M4 instructions per
inference in QEMU (instructions, not cycles) with the firmware's outputs checked against the golden
model. Needs tflite-micro, arm-none-eabi-gcc, make and qemu-system-arm.

"= LiteRT" counts the inputs on which the desktop TFLite interpreter (ai-edge-litert, optimised
kernels) gives the same int8 outputs as TFLM's reference kernels, which hlsfix follows: a user who
checks a build against the desktop interpreter should expect the rows it names to differ by an
output unit or so (max |diff| in brackets).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from hlsfix.boards import CORTEX_M_BOARDS, get_cortex_m_board
from hlsfix.flows.int8 import build_cortexm, compile_tflite
from hlsfix.zoo.int8 import INT8_MODEL_NAMES, int8_model_path


def litert_agreement(cm, n_inputs: int) -> str:
    """How many of ``n_inputs`` random inputs the desktop TFLite interpreter answers as hlsfix does."""
    from hlsfix.errors import ModelError
    from hlsfix.frontend.tflite_oracle import run_interpreter

    x = cm.random_model_inputs(n_inputs, 0)
    got = np.asarray(cm.predict(x)).reshape(n_inputs, -1)
    try:
        lite = run_interpreter(cm.source, x).reshape(n_inputs, -1)
    except ModelError as e:
        return f"n/a ({e})"
    except (ValueError, RuntimeError) as e:  # LiteRT refuses some files TFLM runs
        return f"n/a (LiteRT: {str(e).split('.')[0]})"
    diff = np.abs(got.astype(np.int64) - lite.astype(np.int64))
    same = int((diff.max(axis=1) == 0).sum())
    return f"{same}/{n_inputs} [{int(diff.max())}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=list(INT8_MODEL_NAMES))
    ap.add_argument("--inputs", type=int, default=50, help="random inputs checked against TFLM")
    ap.add_argument("--qemu-inputs", type=int, default=3, help="inputs run in QEMU (0: no build)")
    ap.add_argument("--board", default="nucleo-l4r5zi", choices=list(CORTEX_M_BOARDS))
    args = ap.parse_args()
    board = get_cortex_m_board(args.board)
    head = (
        "| model | operators | params | bit-exact vs TFLM | TFLM arena head | TFLM total | "
        "hlsfix given order [bound] | best order [bound] | + partial exec. [bound] | flash | "
        f"{board.name} fits | M4 instructions (QEMU) | QEMU = golden | = LiteRT [max diff] |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name in args.models:
        cm = compile_tflite(int8_model_path(name))
        tflm = cm.check_tflm(args.inputs)
        m = cm.memory
        ops = len(cm.model.operators)
        exact = "n/a" if tflm is None else f"{'yes' if tflm.bit_exact else 'NO'} ({tflm.checked_inputs})"
        head_b = "n/a" if tflm is None else str(tflm.arena_head_bytes)
        total_b = "n/a" if tflm is None else str(tflm.arena_total_bytes)
        flash = fits = instr = qemu_ok = "-"
        if args.qemu_inputs:
            with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
                b = build_cortexm(cm, Path(tmp), board, n_inputs=args.qemu_inputs, tflm_inputs=0)
            flash, fits = str(b.flash_bytes), "yes" if b.fits else "no"
            if b.qemu is not None:
                instr = f"{max(b.qemu.instructions):,}"
                qemu_ok = f"{'yes' if b.qemu.bit_exact else 'NO'} ({b.qemu.checked_inputs})"
        litert = litert_agreement(cm, args.inputs)
        print(
            f"| {name} | {ops} | {cm.model.parameters:,} | {exact} | {head_b} | {total_b} | "
            f"{m.given_order_arena} [{m.given_order_bound}] | {m.reordered_arena} [{m.best_order_bound}] | "
            f"{m.pex_arena} [{m.pex_bound}] | {flash} | {fits} | {instr} | {qemu_ok} | {litert} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
