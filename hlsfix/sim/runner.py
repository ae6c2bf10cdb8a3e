"""Run the accelerator's Verilog under cocotb and score it against the golden model.

``run_cocotb(program, x_q, lanes)`` emits the Verilog, builds it for the simulator, streams the
integer inputs through ``tb_accelerator.py`` and returns the outputs, whether every one equals the
golden model's, and cycles per inference (with a per-kernel breakdown against the ideal).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.microcode import Image, compile_image
from hlsfix.rtl.verilog import TOP, emit_verilog

SIM_DIR = Path(__file__).resolve().parent
# Amaranth's Verilog is lint-noisy (width extensions, unused bits) and kicks its combinational logic
# with an `initial #1` that Verilator must be told to drop (--no-timing: cocotb drives all time).
VERILATOR_ARGS = ("-Wno-fatal", "-Wno-lint", "-Wno-style", "--no-timing")


@dataclass
class SimResult:
    outputs: np.ndarray  # (N,) classes or (N, size) output buffers
    expected: np.ndarray
    cycles_per_inference: float  # mean over the inputs, from the last input beat to the result
    bit_exact: bool
    mismatches: list[int]
    ideal_cycles: int
    predicted_cycles: int  # the static schedule's timing model (must equal the measured cycles)
    per_kernel: list[tuple[str, int, int]] = field(default_factory=list)  # (kernel, measured, ideal)
    wall_seconds: float = 0.0

    @property
    def ratio(self) -> float:
        return self.cycles_per_inference / max(1, self.ideal_cycles)


def kernel_names(image: Image) -> list[str]:
    labels = image.program.labels
    return [
        f"{i}:{type(k).__name__}" + (f" {labels[i]}" if i < len(labels) else "")
        for i, k in enumerate(image.kernels)
    ]


VCD_DUMP_TOP = "hlsfix_vcd_dump"


def _vcd_dump_module(directory: Path, vcd: Path) -> Path:
    """A second top-level module that dumps every signal of the accelerator to ``vcd``."""
    path = Path(vcd).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"')
    text = (
        f"module {VCD_DUMP_TOP}();\n"
        f'  initial begin\n    $dumpfile("{escaped}");\n    $dumpvars(0, {TOP});\n  end\n'
        "endmodule\n"
    )
    src = directory / f"{VCD_DUMP_TOP}.v"
    src.write_text(text)
    return src


@contextmanager
def _vcd_format(enabled: bool):
    """cocotb's Icarus runner passes ``-none`` (no waveforms) to vvp unless it dumps FST itself;
    an extended argument given later wins, and ``SIM_CMD_SUFFIX`` is appended last."""
    if not enabled:
        yield
        return
    saved = os.environ.get("SIM_CMD_SUFFIX")
    os.environ["SIM_CMD_SUFFIX"] = ((saved or "") + " -vcd").strip()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SIM_CMD_SUFFIX", None)
        else:
            os.environ["SIM_CMD_SUFFIX"] = saved


def run_testbench(
    simulator: str,
    sources: list[Path],
    toplevel: str,
    test_module: str,
    work: Path,
    config: dict,
    *,
    build_args: list[str] | None = None,
) -> dict:
    """Build ``sources`` for ``simulator`` and run the cocotb test module ``sim/<test_module>.py``
    on them in ``work``; the testbench reads ``config`` and writes its results as JSON, returned.

    A failing scoreboard fails the cocotb test, and under pytest the runner then calls sys.exit(1)
    (SystemExit is not an Exception); the result file still says what happened."""

    (work / "tb_config.json").write_text(json.dumps(config))
    # The simulator's embedded Python imports the testbench from the working directory.
    shutil.copy(SIM_DIR / f"{test_module}.py", work / f"{test_module}.py")
    result_file = work / "tb_result.json"
    result_file.unlink(missing_ok=True)  # a reused build directory must not report an old run
    if simulator == "verilator":
        build_args = [*VERILATOR_ARGS, *(build_args or [])]
    with _simulator_env(simulator):
        return _build_and_test(simulator, sources, toplevel, test_module, work, build_args, result_file)


@contextmanager
def _simulator_env(simulator: str):
    if simulator == "verilator":
        from hlsfix.sim.verilator import verilator_env

        with verilator_env():
            yield
    else:
        yield


def _build_and_test(
    simulator: str,
    sources: list[Path],
    toplevel: str,
    test_module: str,
    work: Path,
    build_args: list[str] | None,
    result_file: Path,
) -> dict:
    from cocotb_tools.runner import get_runner

    runner = get_runner(simulator)
    runner.build(
        sources=sources,
        hdl_toplevel=toplevel,
        build_dir=work / "build",
        timescale=("1ns", "1ps"),
        build_args=build_args or [],
        always=True,
    )
    env = {
        "HLSFIX_TB_CONFIG": str(work / "tb_config.json"),
        "HLSFIX_TB_RESULT": str(result_file),
        "PYTHONPATH": os.pathsep.join([str(work), os.environ.get("PYTHONPATH", "")]),
        "GPI_LOG_LEVEL": os.environ.get("GPI_LOG_LEVEL", "WARNING"),
    }
    try:
        runner.test(
            hdl_toplevel=toplevel,
            test_module=test_module,
            build_dir=work / "build",
            test_dir=work,
            extra_env=env,
            timescale=("1ns", "1ps"),
        )
    except (Exception, SystemExit):
        if not result_file.exists():
            raise
    if not result_file.exists():
        raise RuntimeError(f"the cocotb testbench {test_module} wrote no results (see {work})")
    return json.loads(result_file.read_text())


def run_cocotb(
    program: KernelProgram,
    x_q: np.ndarray,
    lanes: int,
    simulator: str = "icarus",
    *,
    build_dir: Path | None = None,
    fault: Callable[[Image], None] | None = None,
    trace: bool = True,
    vcd: Path | None = None,
    ram_layout: str = "auto",
    unroll: int | None = None,
) -> SimResult:
    """Simulate the accelerator on every row of ``x_q``. ``fault`` may corrupt the image (ROM,
    microcode) before the Verilog is written, to show the scoreboard catches a broken design.
    ``vcd`` (Icarus only) names a VCD waveform file of the whole run to write; ``ram_layout`` and
    ``unroll`` are ``compile_image``'s."""

    t0 = time.monotonic()
    x_q = np.asarray(x_q, dtype=np.int64).reshape(len(x_q), -1)
    image = compile_image(program, lanes, ram_layout, unroll=unroll)
    golden = run_golden(program, x_q).output
    expected = golden.reshape(len(x_q), -1)
    if fault is not None:
        fault(image)
    own_tmp = build_dir is None
    tmp = Path(tempfile.mkdtemp(prefix="hlsfix-sim-")) if own_tmp else Path(build_dir)
    verilog = emit_verilog(program, lanes, tmp, image=image)
    cfg = {
        "inputs": x_q.tolist(),
        "expected": expected.tolist(),
        "out_len": image.output_len,
        "in_bits": program.input_buffer.fmt.bits,
        "trace": trace,
    }
    build_args: list[str] = []
    sources = [verilog]
    if vcd is not None:
        if simulator != "icarus":
            raise ValueError(f"VCD waveforms are written with Icarus only, not {simulator}")
        sources.append(_vcd_dump_module(tmp, Path(vcd)))
        build_args += ["-s", VCD_DUMP_TOP]
    with _vcd_format(vcd is not None):
        res = run_testbench(simulator, sources, TOP, "tb_accelerator", tmp, cfg, build_args=build_args)
    outputs = np.array(res["outputs"], dtype=np.int64)
    if program.output_is_class:
        outputs, expected = outputs[:, 0], expected[:, 0]
    per_kernel = []
    if res["per_pc"]:
        measured = [0] * len(image.kernels)
        for pc, n in res["per_pc"].items():
            if pc != "io":
                measured[image.kernel_of[int(pc)]] += n
        names = kernel_names(image)
        per_kernel = [(names[i], measured[i], image.ideal[i]) for i in range(len(names))]
    return SimResult(
        outputs=outputs,
        expected=expected,
        cycles_per_inference=float(np.mean(res["cycles"])),
        bit_exact=not res["mismatches"],
        mismatches=res["mismatches"],
        ideal_cycles=sum(image.ideal),
        predicted_cycles=image.predicted_cycles,
        per_kernel=per_kernel,
        wall_seconds=time.monotonic() - t0,
    )
