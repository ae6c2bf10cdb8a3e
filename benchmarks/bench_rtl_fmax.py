"""Post-route Fmax of the accelerator alone on an ECP5 (nextpnr-ecp5, slowest speed grade), the
worst over several placement seeds, with the worst run's cells (TRELLIS_COMB: LUT4) and critical
path cell by cell: the tool for finding and fixing the accelerator's long paths.

    .venv/bin/python benchmarks/bench_rtl_fmax.py [--models protonn mlp] [--lanes 1 8]
        [--seeds 1 2 3] [--device 45k] [--bits 16] [--router router2] [--timeout 3600]

One synthesis per row, then one nextpnr run per seed (minutes each at P >= 8).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hlsfix  # noqa: E402
from hlsfix.board import timing  # noqa: E402
from hlsfix.board.timing import ECP5_DEVICES, ECP5_ROUTERS, place_and_route_ecp5  # noqa: E402
from hlsfix.errors import ToolError  # noqa: E402
from hlsfix.rtl.microcode import compile_image  # noqa: E402
from hlsfix.rtl.verilog import TOP, emit_verilog  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["protonn", "mlp"])
    ap.add_argument("--lanes", type=int, nargs="+", default=[1])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--device", choices=ECP5_DEVICES, default="45k")
    ap.add_argument("--bits", default="16")
    ap.add_argument("--timeout", type=int, help="seconds for each of synth_ecp5 and nextpnr (P >= 8)")
    ap.add_argument("--router", choices=ECP5_ROUTERS, default="router1", help="nextpnr's router")
    args = ap.parse_args()
    if args.timeout:
        timing.ECP5_SYNTH_TIMEOUT_S = timing.NEXTPNR_TIMEOUT_S = args.timeout
    print("| model | P | device | worst Fmax MHz | estimator | s |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        cm = hlsfix.compile(model, bits=args.bits)
        for lanes in args.lanes:
            image = compile_image(cm.program, lanes)
            with tempfile.TemporaryDirectory(prefix="hlsfix-fmax-") as tmp:
                path = emit_verilog(cm.program, lanes, Path(tmp), image=image)
                t0 = time.time()
                try:
                    t = place_and_route_ecp5(
                        path, TOP, device=args.device, seeds=tuple(args.seeds), router=args.router
                    )
                except ToolError as e:  # a row of its own: the other models and lane counts still run
                    took = time.time() - t0
                    print(f"| {model} | {lanes} | {args.device} | — | {e} | {took:.0f} |", flush=True)
                    continue
            print(
                f"| {model} | {lanes} | {args.device} | {t.fmax_mhz:.1f} | {t.estimator} "
                f"| {time.time() - t0:.0f} |",
                flush=True,
            )
            used = ", ".join(f"{name} {n:,} / {cap:,}" for name, n, cap in t.cells_used)
            print(f"    cells: {used}", flush=True)
            print(f"    critical path: {t.critical_path}", flush=True)
            for s in t.steps:
                print(f"      {s.cell:<40} logic {s.logic_ns:.2f} routing {s.routing_ns:.2f}", flush=True)


if __name__ == "__main__":
    main()
