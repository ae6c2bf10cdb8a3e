"""The accelerator as hardware, per model and lane count: LUT, FF, DSP and BRAM36 on the xc7a35t
(Yosys synth_xilinx, with Yosys' cell-delay timing), post-route Fmax on an ECP5-45F of the slowest
speed grade (nextpnr-ecp5), cycles per inference against the ideal, microseconds at that Fmax, and
the speedup over the Uno build of the same model (simavr, 16 MHz).

Cycles are the static schedule's exact timing model (``Image.predicted_cycles``), which the cocotb
tests check equal to the simulated cycles on every run (``tests/rtl``); ``--sim N`` simulates N
inputs here too and prints the measured figure and bit-exactness beside it.

    .venv/bin/python benchmarks/bench_rtl_hw.py [--models protonn mlp cnn] [--lanes 1 2 4 8 16]
        [--no-pnr] [--no-uno] [--sim N] [--seeds 1 2 3] [--device 45k|85k] [--json FILE]
        [--yosys-timeout S]

``cnn-wide`` (``benchmarks/wide_cnn.py``, 22.6 k parameters) may be named beside the zoo models.

Each row costs a Yosys run and a nextpnr run (minutes for P >= 8): run a small size first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hlsfix  # noqa: E402
from hlsfix.board import timing  # noqa: E402
from hlsfix.board.timing import place_and_route_ecp5, synthesize_xilinx  # noqa: E402
from hlsfix.errors import HlsfixError  # noqa: E402
from hlsfix.rtl.microcode import compile_image  # noqa: E402
from hlsfix.rtl.verilog import TOP, emit_verilog  # noqa: E402

HEADER = (
    "| model | P | LUT | FF | DSP | BRAM36 | ECP5 Fmax MHz | xc7 cells ns | cycles | ideal | ratio "
    "| µs @ Fmax | Uno µs | speedup |"
)


def compile_model(model: str, bits: str):
    """A zoo model, or ``cnn-wide``: the 22.6 k-parameter CNN of ``benchmarks/wide_cnn.py``."""
    if model != "cnn-wide":
        return hlsfix.compile(model, bits=bits)
    from benchmarks.wide_cnn import write_wide_cnn

    directory = Path(tempfile.mkdtemp(prefix="hlsfix-wide-cnn-"))
    return hlsfix.compile(str(write_wide_cnn(directory)), bits=bits)


def uno_us(cm) -> float | None:
    from hlsfix.board.accel_report import uno_comparison

    try:
        r = uno_comparison(cm, 3)
    except HlsfixError:  # a model the Uno cannot hold
        return None
    return None if not r.get("uno_cycles") else r["uno_cycles"] / 16.0


def row(
    model: str,
    cm,
    lanes: int,
    *,
    pnr: bool,
    uno: float | None,
    sim: int,
    seeds: tuple[int, ...] = (1,),
    device: str = "45k",
) -> dict:
    image = compile_image(cm.program, lanes)
    out = {
        "model": model,
        "lanes": lanes,
        "cycles": image.predicted_cycles,
        "ideal": sum(image.ideal),
    }
    out["ratio"] = round(out["cycles"] / out["ideal"], 3)
    with tempfile.TemporaryDirectory(prefix="hlsfix-bench-") as tmp:
        path = emit_verilog(cm.program, lanes, Path(tmp), image=image)
        t0 = time.time()
        try:
            res, sta = synthesize_xilinx(path, TOP)
            out.update(lut=res.lut, ff=res.ff, dsp=res.dsp, bram36=res.bram36, xc7_cells_ns=sta.arrival_ns)
            out["memory_cells"] = dict(res.memory_cells)
        except HlsfixError as e:
            out["xc7_error"] = str(e)
        out["yosys_s"] = round(time.time() - t0)
        if pnr:
            t0 = time.time()
            try:
                t = place_and_route_ecp5(path, TOP, device=device, seeds=seeds)
                out.update(
                    fmax_mhz=round(t.fmax_mhz, 1), critical_path=t.critical_path, estimator=t.estimator
                )
            except HlsfixError as e:
                out["pnr_error"] = str(e)
            out["nextpnr_s"] = round(time.time() - t0)
        if sim:
            from hlsfix.fixedpoint.golden import quantize_input
            from hlsfix.sim.runner import run_cocotb

            x_q = quantize_input(cm.program, cm.test[0][:sim])
            r = run_cocotb(cm.program, x_q, lanes, build_dir=Path(tmp) / "sim", trace=False)
            out.update(sim_cycles=r.cycles_per_inference, bit_exact=r.bit_exact, sim_inputs=len(x_q))
    if "fmax_mhz" in out:
        out["us"] = round(out["cycles"] / out["fmax_mhz"], 3)
        if uno:
            out["uno_us"] = round(uno, 1)
            out["speedup"] = round(uno / out["us"], 1)
    return out


def fmt(r: dict) -> str:
    def g(k, spec=""):
        v = r.get(k)
        return "—" if v is None else format(v, spec)

    return (
        f"| {r['model']} | {r['lanes']} | {g('lut')} | {g('ff')} | {g('dsp')} | {g('bram36', 'g')} "
        f"| {g('fmax_mhz')} | {g('xc7_cells_ns', '.2f')} | {r['cycles']} | {r['ideal']} | {r['ratio']:.2f} "
        f"| {g('us')} | {g('uno_us')} | {g('speedup')} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["protonn", "mlp", "cnn"])
    ap.add_argument("--lanes", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--bits", default="16")
    ap.add_argument("--no-pnr", action="store_true", help="skip nextpnr (Yosys only)")
    ap.add_argument("--no-uno", action="store_true", help="skip the Uno build (simavr)")
    ap.add_argument("--sim", type=int, default=0, metavar="N", help="also simulate N inputs in cocotb")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1], help="nextpnr seeds: the worst is reported")
    ap.add_argument("--device", default="45k", help="ECP5 device (85k where a design does not fit a 45k)")
    ap.add_argument("--json", type=Path, help="append every row as a JSON line to FILE")
    ap.add_argument("--yosys-timeout", type=int, metavar="S", help="seconds a Yosys run may take")
    args = ap.parse_args()
    if args.yosys_timeout:
        timing.YOSYS_TIMEOUT_S = args.yosys_timeout
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    for model in args.models:
        cm = compile_model(model, args.bits)
        uno = None if args.no_uno else uno_us(cm)
        for lanes in args.lanes:
            r = row(
                model,
                cm,
                lanes,
                pnr=not args.no_pnr,
                uno=uno,
                sim=args.sim,
                seeds=tuple(args.seeds),
                device=args.device,
            )
            print(fmt(r), flush=True)
            # the estimator names every seed's Fmax where several were placed (the row has the worst)
            for k in ("memory_cells", "estimator", "critical_path", "xc7_error", "pnr_error"):
                if k in r:
                    print(f"    {k}: {r[k]}", flush=True)
            if args.json:
                with args.json.open("a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
