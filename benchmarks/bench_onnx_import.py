"""Models from the frameworks, imported from ONNX or TFLite, end to end: one markdown table per
model of what it is (framework, ONNX/TFLite ops, parameters, MACs), how the imported float graph
agrees with its runtime — onnxruntime, or the TFLite interpreter (max abs error of the model's
output, class agreement, test split) —, the fixed-point
test accuracy at 16, 8 and mixed bits, and on how many inputs each backend was bit-exact with the
golden model (16-bit program; the 8-bit and mixed programs through host C and HLS). For keras-cnn,
its int8 twin's rows too (TFLM-exact path: test accuracy, golden vs TFLM, host C and Cortex-M4
QEMU bit-exact). With ``--node-tests``: the onnx
backend node tests per operator.

    .venv/bin/python benchmarks/bench_onnx_import.py [--inputs 20] [--rtl-inputs 3] [--uno-inputs 20]
        [--node-tests] [--models sklearn-logreg,...] [--skip host,hls,uno,qemu,rtl,mixed]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import hlsfix
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.frontend.onnx_oracle import compare_with_onnxruntime, run_node_tests, summary
from hlsfix.ir.interp import run_float
from hlsfix.mcu import runners
from hlsfix.mcu.firmware import decode_records, emit_firmware
from hlsfix.memory.liveness import plan_memory
from hlsfix.zoo.imported import IMPORTED_NAMES

PART = "xc7a35ticsg324-1L"


def host(cm: hlsfix.CompiledModel, x: np.ndarray, d: Path) -> str:
    x_q = quantize_input(cm.program, x)
    fw = emit_firmware(cm.program, plan_memory(cm.program), x_q, d)
    exe = runners.compile_host(fw.sources, d / "fw", sanitize=True, include_dirs=fw.include_dirs)
    got = decode_records(cm.program, runners.run_host(exe).records)
    return f"{int(np.sum(got == cm.golden(x).output))}/{len(x)}"


def hls(cm: hlsfix.CompiledModel, d: Path) -> str:
    from hlsfix.hls.build import build_hls

    s = build_hls(cm, d, PART, 10.0, "ap_memory", sanitize=True)
    return f"{s['checked_inputs']}/{s['checked_inputs']}" if s["bit_exact"] else "MISMATCH"


def uno(cm: hlsfix.CompiledModel, n: int, d: Path) -> str:
    from hlsfix.mcu.uno import build_uno

    try:
        b = build_uno(cm, d, n_inputs=n)
    except HlsfixError as e:
        return f"does not fit: {e}"
    return (
        f"{b.checked_inputs}/{n} ({b.mean_cycles:.0f} cycles, {b.flash_bytes} B flash, "
        f"{b.ram_bytes}+{b.stack_bytes} B RAM)"
    )


def qemu(cm: hlsfix.CompiledModel, x: np.ndarray, d: Path) -> str:
    fw = emit_firmware(cm.program, plan_memory(cm.program), quantize_input(cm.program, x), d)
    elf = runners.compile_cortex_m(fw.sources, d / "fw_m3.elf", include_dirs=fw.include_dirs)
    run = runners.run_qemu(elf)
    got = decode_records(cm.program, run.records)
    return (
        f"{int(np.sum(got == cm.golden(x).output))}/{len(x)} ({np.mean(run.measurements):.0f} instructions)"
    )


def rtl(cm: hlsfix.CompiledModel, x: np.ndarray, d: Path) -> str:
    from hlsfix.sim.runner import run_cocotb

    res = run_cocotb(cm.program, quantize_input(cm.program, x), lanes=1, build_dir=d, trace=False)
    same = int(np.sum(np.asarray(res.outputs).reshape(len(x)) == cm.golden(x).output))
    return f"{same}/{len(x)} ({res.cycles_per_inference:.0f} cycles)"


def model_rows(name: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    m = hlsfix.load_model(name)
    assert m.data is not None
    stats = m.graph.stats()
    xt, yt = m.data.x_test, m.data.y_test
    if "tflite" in m.meta:
        from hlsfix.frontend.tflite_oracle import compare_with_interpreter

        ops = ", ".join(f"{op} {n}" for op, n in m.meta["tflite"]["operators"])
        ops_row = ("ONNX ops (imported)", f"TFLite: {ops}")
        agree, runtime = compare_with_interpreter(m.source, xt), "TFLite interpreter (ai-edge-litert)"
    else:
        onnx_ops = ", ".join(f"{op} {n}" for op, n in m.meta["onnx"]["onnx_ops"])
        ops_row = ("ONNX ops (imported)", f"{onnx_ops}; {m.meta['onnx']['folded']} nodes folded at import")
        agree, runtime = compare_with_onnxruntime(m.source, xt), "onnxruntime"
    rows = [
        ("framework", m.meta.get("framework", "?")),
        ops_row,
        ("parameters / MACs", f"{stats.parameters} / {stats.macs}"),
        (
            f"float vs its runtime (test split): {runtime}",
            f"output {agree.output!r}: max abs error {agree.max_abs_error:.2e}, "
            f"class agreement {agree.class_agreement:.2%} of {agree.rows}",
        ),
        ("float test accuracy (imported graph)", f"{np.mean(run_float(m.graph, xt) == yt):.4f}"),
    ]
    programs = {}
    for bits in ("16", "8", "mixed"):
        if bits == "mixed" and "mixed" in args.skip:
            continue
        t = time.perf_counter()
        cm = hlsfix.compile(m, bits=bits)
        programs[bits] = cm
        rows.append(
            (
                f"fixed test accuracy, {bits} bits",
                f"{cm.accuracy(xt, yt):.4f} ({time.perf_counter() - t:.0f} s)",
            )
        )
    cm = programs["16"]
    n = args.inputs
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        steps = {
            "host C (gcc, sanitizers), 16 bits": lambda: host(cm, xt, d / "host"),
            "HLS C-simulation (g++), 16 bits": lambda: hls(cm, d / "hls"),
            "Uno (avr-gcc + simavr), 16 bits": lambda: uno(cm, min(n, args.uno_inputs), d / "uno"),
            "Cortex-M3 (QEMU), 16 bits": lambda: qemu(cm, xt[:n], d / "m3"),
            "accelerator (cocotb, Icarus, 1 lane), 16 bits": lambda: rtl(
                cm, xt[: args.rtl_inputs], d / "rtl"
            ),
        }
        for (label, run), key in zip(steps.items(), ("host", "hls", "uno", "qemu", "rtl"), strict=True):
            if key in args.skip:
                continue
            try:
                rows.append((f"bit-exact: {label}", run()))
            except HlsfixError as e:
                rows.append((f"bit-exact: {label}", f"error: {e}"))
            sys.stdout.flush()
        for bits in ("8", "mixed"):  # the other programs through the fast backends
            if bits not in programs:
                continue
            if "host" not in args.skip:
                label = f"bit-exact: host C (gcc, sanitizers), {bits} bits"
                rows.append((label, host(programs[bits], xt, d / f"host{bits}")))
            if "hls" not in args.skip:
                rows.append(
                    (f"bit-exact: HLS C-simulation (g++), {bits} bits", hls(programs[bits], d / f"hls{bits}"))
                )
    if name == "keras-cnn":
        rows += int8_rows("keras_cnn_int8", m, args)
    return rows


def int8_rows(name: str, m, args: argparse.Namespace) -> list[tuple[str, str]]:
    """The int8 twin through the TFLM-exact path: accuracy on the test split, golden vs TFLM,
    host C (sanitizers) and Cortex-M4 (QEMU) bit-exact with the golden model."""
    from hlsfix.fixedpoint.int8.golden import run_int8
    from hlsfix.mcu.int8_emit import decode_int8_records, emit_int8_firmware, emit_int8_model
    from hlsfix.memory.int8_plan import plan_int8_memory

    cm = hlsfix.compile(name)
    xt, yt = m.data.x_test, m.data.y_test
    scale, zp = cm.scales[:2]  # the test rows as the model's int8 input
    q = cm.quantize_input(np.clip(np.round(xt / scale) + zp, -128, 127).astype(np.int8))
    pred = cm.output_values(run_int8(cm.program, q).output).reshape(len(xt), -1).argmax(axis=1)
    rows = [(f"int8 twin ({name}): test accuracy", f"{np.mean(pred == yt):.4f}")]
    tflm = cm.check_tflm(args.inputs)
    rows.append(
        (
            "int8 twin: golden vs TFLM",
            f"{tflm.checked_inputs if tflm.bit_exact else 'NOT'} bit-exact of {tflm.checked_inputs}"
            if tflm
            else "tflite-micro missing",
        )
    )
    n = args.inputs
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        mem = plan_int8_memory(cm.model.program)
        em = emit_int8_firmware(emit_int8_model(mem, d, scales=cm.scales), name, q[:n], d)
        want = run_int8(cm.model.program, q[:n]).output
        try:
            if "host" not in args.skip:
                exe = runners.compile_host(em.sources, d / "fw", sanitize=True, include_dirs=em.include_dirs)
                got = decode_int8_records(runners.run_host(exe).records)
                rows.append(
                    ("int8 twin bit-exact: host C", f"{int(np.sum(np.all(got == want, axis=1)))}/{n}")
                )
            if "qemu" not in args.skip:
                elf = runners.compile_cortex_m(
                    em.sources, d / "m4.elf", cpu="cortex-m4", include_dirs=em.include_dirs
                )
                run = runners.run_qemu(elf, machine="mps2-an386", timeout_s=300)
                got = decode_int8_records(run.records)
                same = int(np.sum(np.all(got == want, axis=1)))
                insns = f"{np.mean(run.measurements):.0f} instructions"
                rows.append(("int8 twin bit-exact: Cortex-M4 (QEMU)", f"{same}/{n} ({insns})"))
        except HlsfixError as e:
            rows.append(("int8 twin: C", f"error: {e}"))
    return rows


def node_table() -> None:
    results = run_node_tests()
    print("| ONNX operator | cases passed / present | refused (one-line ModelError) | wrong | crash |")
    print("|---|---|---|---|---|")
    total = [0, 0]
    for op, c in sorted(summary(results).items()):
        present = sum(c.values())
        total[0] += c["pass"]
        total[1] += present
        print(f"| {op} | {c['pass']} / {present} | {c['refused']} | {c['wrong']} | {c['crash']} |")
    print(f"| **all** | **{total[0]} / {total[1]}** | | | |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=20, help="inputs through simavr and QEMU")
    ap.add_argument("--rtl-inputs", type=int, default=3, help="inputs through the accelerator in Icarus")
    ap.add_argument(
        "--uno-inputs",
        type=int,
        default=20,
        help="at most this many through simavr (they sit in the Uno's flash)",
    )
    ap.add_argument("--models", default=",".join(IMPORTED_NAMES))
    ap.add_argument("--skip", default="", help="comma-separated: host, hls, uno, qemu, rtl, mixed")
    ap.add_argument("--node-tests", action="store_true")
    args = ap.parse_args()
    args.skip = set(filter(None, args.skip.split(",")))
    if args.node_tests:
        node_table()
        return 0
    everything = {}
    for name in args.models.split(","):
        print(f"\n### {name}\n\n| | |\n|---|---|")
        everything[name] = model_rows(name, args)
        for key, value in everything[name]:
            print(f"| {key} | {value} |")
        sys.stdout.flush()
    keys = [k for k, _ in next(iter(everything.values()))]
    print("\n### all models\n\n| | " + " | ".join(everything) + " |\n|---|" + "---|" * len(everything))
    for key in keys:
        print(f"| {key} | " + " | ".join(dict(rows).get(key, "") for rows in everything.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
