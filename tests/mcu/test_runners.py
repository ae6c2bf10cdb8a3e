"""The MCU measurement infrastructure, proven with small hand-written firmwares.

sums.c computes a few things over a compiled-in int16 array (the values come from this file, via a
generated values.h) and measures a loop of 0, N and 2N iterations; the tests check the records against
Python and that the measured cost is exact, deterministic and linear in N.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from hlsfix.mcu.runners import (
    _PLUGIN_VERSION_RE,
    FirmwareBuildError,
    FirmwareRun,
    SimulationError,
    SimulationTimeout,
    ToolMissing,
    avr_size,
    build_simavr_harness,
    compile_avr,
    compile_cortex_m,
    compile_host,
    cortex_m_size,
    run_avr,
    run_host,
    run_qemu,
)
from tests.tools import require_tool, tool_missing

FIRMWARE = Path(__file__).parent / "firmware"
N_VALUES = 16
LOOP_N = 50


def _values() -> list[int]:
    rng = np.random.default_rng(20240611)
    values = [int(v) for v in rng.integers(-9000, 9001, N_VALUES)]
    values[3], values[10] = 11000, -11000  # 3 * v saturates int16 both ways
    return values


VALUES = _values()


def _expected_records(values: list[int]) -> tuple[bytes, ...]:
    total = sum(values)
    dot = sum(a * b for a, b in zip(values[:-1], values[1:], strict=True))
    assert -(2**31) <= dot < 2**31, "test data must not overflow the firmware's int32"
    scaled = [max(-32768, min(32767, 3 * v)) for v in values]
    return (
        struct.pack("<i", total),
        struct.pack("<i", dot),
        struct.pack(f"<{N_VALUES}h", *scaled),
        b"",
    )


EXPECTED = _expected_records(VALUES)


@contextmanager
def _tools() -> Iterator[None]:
    """A ToolMissing from the runners skips the test (or fails it under HLSFIX_REQUIRE_TOOLS=1)."""
    try:
        yield
    except ToolMissing as e:
        tool_missing(str(e))


@pytest.fixture(scope="module")
def values_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("values")
    body = ", ".join(str(v) for v in VALUES)
    (d / "values.h").write_text(
        "#include <stdint.h>\n"
        f"#define N_VALUES {N_VALUES}\n"
        f"#define LOOP_N {LOOP_N}\n"
        f"static const int16_t values[N_VALUES] = {{{body}}};\n"
    )
    return d


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _check_linear(run: FirmwareRun) -> None:
    empty, zero, n, two_n = run.measurements
    assert empty == 0, "marker overhead is not fully subtracted"
    assert n - zero > 0
    # Each iteration costs the same, so doubling N adds exactly what the first N added.
    assert abs((two_n - n) - (n - zero)) <= 2, run.measurements


# ---------------------------------------------------------------------------------------- AVR


@pytest.fixture(scope="module")
def avr_sums(values_dir: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("avr-gcc")
    require_tool("gcc")
    with _tools():
        build_simavr_harness(cache_dir)
        # -Os: the linearity check needs spin()'s loop as written (-O2 may unroll or align it)
        return compile_avr(
            [FIRMWARE / "sums.c"],
            tmp_path_factory.mktemp("avr") / "sums.elf",
            include_dirs=[values_dir],
            opt="-Os",
        )


def test_avr_records_cycles_and_stack(avr_sums: Path, cache_dir: Path) -> None:
    run = run_avr(avr_sums, cache_dir=cache_dir)
    assert run.unit == "cycles"
    assert run.records == EXPECTED
    assert len(run.measurements) == 4
    _check_linear(run)
    assert run.max_stack_bytes is not None and 0 < run.max_stack_bytes < 2048
    # simavr is cycle-exact and deterministic: a second run reports exactly the same.
    assert run_avr(avr_sums, cache_dir=cache_dir) == run


def test_avr_size(avr_sums: Path) -> None:
    with _tools():
        flash, ram = avr_size(avr_sums)
    assert 0 < flash < 32 * 1024
    # On AVR a const array is copied to RAM unless it is declared PROGMEM.
    assert 2 * N_VALUES <= ram < 2048


def test_avr_cycle_limit(cache_dir: Path, tmp_path: Path) -> None:
    require_tool("avr-gcc")
    with _tools():
        elf = compile_avr([FIRMWARE / "hang.c"], tmp_path / "hang.elf")
        with pytest.raises(SimulationTimeout, match="cycle limit of 100000 cycles"):
            run_avr(elf, cycle_limit=100_000, cache_dir=cache_dir)


def test_compile_error_shows_compiler_stderr(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return undeclared_thing; }\n")
    with _tools(), pytest.raises(FirmwareBuildError, match="undeclared_thing"):
        compile_avr([bad], tmp_path / "bad.elf")


def test_missing_compiler_raises_tool_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as info:
        compile_avr([FIRMWARE / "sums.c"], tmp_path / "x.elf")
    assert info.value.tool == "avr-gcc"


# ------------------------------------------------------------------------------------ Cortex-M

MACHINES = [("mps2-an385", "cortex-m3"), ("mps2-an386", "cortex-m4")]


@pytest.mark.parametrize(("machine", "cpu"), MACHINES)
def test_qemu_records_instructions_and_stack(
    machine: str, cpu: str, values_dir: Path, cache_dir: Path, tmp_path: Path
) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("gcc")
    with _tools():
        elf = compile_cortex_m(
            [FIRMWARE / "sums.c"], tmp_path / "sums.elf", cpu=cpu, include_dirs=[values_dir]
        )
        run = run_qemu(elf, machine=machine, cache_dir=cache_dir)
        flash, ram = cortex_m_size(elf)
    assert run.unit == "instructions"
    assert run.records == EXPECTED
    assert len(run.measurements) == 4
    _check_linear(run)
    assert run.max_stack_bytes is not None and 0 < run.max_stack_bytes < 2048
    assert run_qemu(elf, machine=machine, cache_dir=cache_dir) == run
    assert 0 < flash < 64 * 1024 and 0 < ram < 1024


def test_qemu_timeout(cache_dir: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    with _tools():
        elf = compile_cortex_m([FIRMWARE / "hang.c"], tmp_path / "hang.elf")
        with pytest.raises(SimulationTimeout, match="did not exit within 2 s"):
            run_qemu(elf, timeout_s=2, cache_dir=cache_dir)


def test_qemu_fault_is_reported(cache_dir: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    with _tools():
        elf = compile_cortex_m([FIRMWARE / "fault.c"], tmp_path / "fault.elf")
        with pytest.raises(SimulationError, match=r"fault: exception 3 at pc 0x"):
            run_qemu(elf, timeout_s=20, cache_dir=cache_dir)


# ---------------------------------------------------------------------------------------- host


def test_host_under_sanitizers(values_dir: Path, tmp_path: Path) -> None:
    require_tool("gcc")
    with _tools():
        exe = compile_host([FIRMWARE / "sums.c"], tmp_path / "sums", sanitize=True, include_dirs=[values_dir])
    run = run_host(exe)
    assert run == FirmwareRun(
        records=EXPECTED, measurements=(), unit="none", max_stack_bytes=None, simulator="host"
    )


def test_host_sanitizer_catches_out_of_bounds(tmp_path: Path) -> None:
    require_tool("gcc")
    with _tools():
        exe = compile_host([FIRMWARE / "fault.c"], tmp_path / "fault", sanitize=True)
    # UBSan's bounds check or ASan's global-buffer-overflow, whichever sees it first.
    with pytest.raises(SimulationError, match="out of bounds|AddressSanitizer"):
        run_host(exe)


# ----------------------------------------------------------------------------------- all targets


@pytest.mark.parametrize("target", ["avr", "qemu", "host"])
def test_return_from_main_exits_cleanly(target: str, cache_dir: Path, tmp_path: Path) -> None:
    src = [FIRMWARE / "returns.c"]
    with _tools():
        if target == "avr":
            require_tool("avr-gcc")
            run = run_avr(compile_avr(src, tmp_path / "r.elf"), cycle_limit=1_000_000, cache_dir=cache_dir)
        elif target == "qemu":
            require_tool("arm-none-eabi-gcc")
            require_tool("qemu-system-arm")
            run = run_qemu(compile_cortex_m(src, tmp_path / "r.elf"), timeout_s=20, cache_dir=cache_dir)
        else:
            require_tool("gcc")
            run = run_host(compile_host(src, tmp_path / "r", sanitize=False))
    assert run.records == (b"\x2a",)
    assert run.measurements == ()


def test_plugin_api_version_is_read_from_qemus_complaint() -> None:
    # The two messages QEMU 7.2 prints for a plugin API version it does not accept.
    too_new = "plugin requires API version 7, but this QEMU supports only up to version 1"
    too_old = "plugin requires API version 1, but this QEMU supports only a minimum version of 2"
    assert [m.group(1) for m in map(_PLUGIN_VERSION_RE.search, (too_new, too_old)) if m] == ["1", "2"]


# --------------------------------------------------------------------------------- test helper


def test_require_tool_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HLSFIX_REQUIRE_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool-hlsfix"):
        require_tool("no-such-tool-hlsfix")
    monkeypatch.setenv("HLSFIX_REQUIRE_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-tool-hlsfix"):
        require_tool("no-such-tool-hlsfix")
