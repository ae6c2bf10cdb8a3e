"""Every backend of a KernelProgram against the golden model, on the same quantised inputs.

Each ``check_*`` returns a ``Verdict``: the backend's outputs equal the golden model's in every bit
("ok"), they differ ("mismatch", with the count), the backend refused the program with a clean,
user-level error ("refused") or its tool is missing ("skipped"). Anything else (a crash, a
sanitizer report, a compiler warning under -Werror, a hang) is a "failure" with its message.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import run_golden
from hlsfix.fixedpoint.program import KernelProgram

Outcome = Literal["ok", "mismatch", "refused", "skipped", "failure"]
BACKENDS = ("host", "hls", "avr", "rtl1", "rtl2", "rtl4", "rtl8")
HLS_PART = "xc7a35ticsg324-1L"


@dataclass(frozen=True)
class Verdict:
    backend: str
    outcome: Outcome
    inputs: int = 0
    mismatches: int = 0
    message: str = ""


def golden_rows(program: KernelProgram, x_q: np.ndarray) -> np.ndarray:
    """The golden outputs, one row per input (a class is a 1-element row)."""
    return run_golden(program, x_q).output.reshape(len(x_q), -1)


def _compare(backend: str, got: np.ndarray, expected: np.ndarray) -> Verdict:
    got = np.asarray(got, dtype=np.int64).reshape(len(expected), -1)
    bad = int(np.sum(np.any(got != expected, axis=1)))
    return Verdict(backend, "mismatch" if bad else "ok", len(expected), bad)


def _guard(backend: str, run: Callable[[], Verdict]) -> Verdict:
    from hlsfix.mcu.runners import ToolMissing

    try:
        return run()
    except ToolMissing as e:
        return Verdict(backend, "skipped", message=str(e))
    except (HlsfixError, NotImplementedError) as e:
        # build/simulation failures are HlsfixErrors too: tell them from a refusal by type
        from hlsfix.hls.csim import CsimError
        from hlsfix.mcu.runners import FirmwareBuildError, SimulationError

        if isinstance(e, FirmwareBuildError | SimulationError | CsimError):
            return Verdict(backend, "failure", message=str(e)[-3000:])
        return Verdict(backend, "refused", message=f"{type(e).__name__}: {e}")
    except subprocess.TimeoutExpired as e:
        return Verdict(backend, "failure", message=f"timeout: {e}")
    except Exception as e:  # noqa: BLE001 - any other escape is a bug to report, not to hide
        return Verdict(backend, "failure", message=f"{type(e).__name__}: {e}")


def check_host(program: KernelProgram, x_q: np.ndarray, work: Path) -> Verdict:
    """model.c + firmware on the host, -Wall -Wextra -Werror, ASan + UBSan."""

    def run() -> Verdict:
        from hlsfix.mcu import runners
        from hlsfix.mcu.firmware import decode_records, emit_firmware
        from hlsfix.memory.liveness import plan_memory

        if shutil.which("gcc") is None:
            return Verdict("host", "skipped", message="gcc not found")
        work.mkdir(parents=True, exist_ok=True)
        fw = emit_firmware(program, plan_memory(program), x_q, work)
        exe = runners.compile_host(fw.sources, work / "fw", sanitize=True, include_dirs=fw.include_dirs)
        got = decode_records(program, runners.run_host(exe).records)
        return _compare("host", got, golden_rows(program, x_q))

    return _guard("host", run)


def check_avr(program: KernelProgram, x_q: np.ndarray, work: Path) -> Verdict:
    """The same firmware for the ATmega328P (avr-gcc -Werror), run in simavr."""

    def run() -> Verdict:
        from hlsfix.boards import BOARDS
        from hlsfix.mcu import runners
        from hlsfix.mcu.firmware import decode_records, emit_firmware
        from hlsfix.mcu.uno import check_static_fit
        from hlsfix.memory.liveness import plan_memory

        if shutil.which("avr-gcc") is None:
            return Verdict("avr", "skipped", message="avr-gcc not found")
        work.mkdir(parents=True, exist_ok=True)
        plan = plan_memory(program)
        # a buffer avr-gcc cannot hold is the Uno build's "does not fit" (a refusal), as in build_uno
        check_static_fit(BOARDS["arduino-uno"], program, plan)
        fw = emit_firmware(program, plan, x_q, work)
        elf = runners.compile_avr(fw.sources, work / "fw.elf", include_dirs=fw.include_dirs)
        got = decode_records(program, runners.run_avr(elf, timeout_s=120.0).records)
        return _compare("avr", got, golden_rows(program, x_q))

    return _guard("avr", run)


def check_hls(program: KernelProgram, x_q: np.ndarray, work: Path) -> Verdict:
    """The HLS C++ and its testbench in g++ C-simulation (sanitizers on)."""

    def run() -> Verdict:
        from hlsfix.hls.cost import choose_unroll
        from hlsfix.hls.csim import compile_csim, run_csim
        from hlsfix.hls.emit import emit_hls, write_sources

        if shutil.which("g++") is None:
            return Verdict("hls", "skipped", message="g++ not found")
        work.mkdir(parents=True, exist_ok=True)
        expected = golden_rows(program, x_q)
        plan = choose_unroll(program, HLS_PART)
        sources = emit_hls(program, plan, "ap_memory", x_q, expected, part=HLS_PART, clock_ns=10)
        write_sources(sources, work)
        result = run_csim(compile_csim(work, sanitize=True), timeout=120.0)
        if result.returncode != 0 and result.mismatches == 0:
            return Verdict("hls", "failure", message=result.stdout[-2000:])
        return _compare("hls", result.outputs, expected)

    return _guard("hls", run)


def check_rtl(program: KernelProgram, x_q: np.ndarray, work: Path, lanes: int) -> Verdict:
    """The accelerator with ``lanes`` lanes in cocotb on Icarus."""
    name = f"rtl{lanes}"

    def run() -> Verdict:
        from hlsfix.rtl.microcode import compile_image
        from hlsfix.sim.runner import run_cocotb

        if shutil.which("iverilog") is None:
            return Verdict(name, "skipped", message="iverilog not found")
        compile_image(program, lanes)  # a refusal (an unsupported kernel) before any simulation
        work.mkdir(parents=True, exist_ok=True)
        res = run_cocotb(program, x_q, lanes, build_dir=work, trace=False)
        return _compare(name, res.outputs, golden_rows(program, x_q))

    return _guard(name, run)


def check(program: KernelProgram, x_q: np.ndarray, work: Path, backend: str) -> Verdict:
    if backend == "host":
        return check_host(program, x_q, work / "host")
    if backend == "avr":
        return check_avr(program, x_q, work / "avr")
    if backend == "hls":
        return check_hls(program, x_q, work / "hls")
    if backend.startswith("rtl"):
        return check_rtl(program, x_q, work / backend, int(backend[3:]))
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
