"""The arithmetic primitives with an AVR assembly version (16 x 16 -> 32 multiply, multiply-shift-
accumulate, 32-bit arithmetic right shift, short division) against exact integer arithmetic, on
simavr and on the host (the C versions, under ASan+UBSan)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hlsfix.mcu import runners
from hlsfix.mcu.runners import ToolMissing
from tests.tools import require_tool, tool_missing

FIRMWARE = Path(__file__).parent / "firmware"
KERNELS = runners.MCU_DIR / "kernels"
MAC_SHIFTS = (0, 1, 3, 7, 14)


def _cases() -> tuple[list[tuple[int, int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    rng = np.random.default_rng(7)
    edge = [-32768, -32767, -256, -255, -129, -128, -1, 0, 1, 127, 128, 255, 256, 32766, 32767]
    pairs = [(a, b, 0) for a in edge for b in edge]
    for _ in range(200):
        a, b = (int(v) for v in rng.integers(-32768, 32768, 2))
        pairs.append((a, b, int(rng.integers(-(1 << 29), 1 << 29))))
    shifts = [
        (v, s)
        for v in (-(1 << 31), -(1 << 31) + 1, -65536, -257, -1, 0, 1, 255, (1 << 31) - 1)
        for s in range(32)
    ]
    for _ in range(150):
        shifts.append((int(rng.integers(-(1 << 31), 1 << 31)), int(rng.integers(0, 32))))
    divs = [
        (0, 1),
        (1, 1),
        (65535, 65535),
        ((1 << 31) - 1, 65535),
        ((32767 << 16) | 0xFFFF, 32768),
        (1 << 29, 1 << 14),
        (-1, 3),
        (-(1 << 30), 7),
        (1 << 30, 3),
        (12345, 65536),
        (5, 70000),
    ]
    for _ in range(150):
        d = int(rng.integers(1, 1 << 16))
        divs.append((int(rng.integers(0, min(d << 16, 1 << 31))), d))
        divs.append((int(rng.integers(-(1 << 31), 1 << 31)), int(rng.integers(1, 1 << 20))))
    return pairs, shifts, divs


def _write_cases(d: Path) -> tuple[bytes, ...]:
    pairs, shifts, divs = _cases()

    def lit(v: int) -> str:
        return "INT32_MIN" if v == -(1 << 31) else f"INT32_C({v})"

    (d / "arith_cases.h").write_text(
        "#include <stdint.h>\n"
        f"#define N_PAIRS {len(pairs)}\n#define N_SHIFTS {len(shifts)}\n#define N_DIVS {len(divs)}\n"
        "typedef struct { int16_t a, b; int32_t acc; } pair_t;\n"
        "typedef struct { int32_t v; int16_t s; } shift_t;\n"
        "typedef struct { int32_t n, d; } div_t_;\n"
        "static const pair_t PAIRS[] CASES_PROGMEM = {"
        + ", ".join(f"{{{a}, {b}, {lit(c)}}}" for a, b, c in pairs)
        + "};\nstatic const shift_t SHIFTS[] CASES_PROGMEM = {"
        + ", ".join(f"{{{lit(v)}, {s}}}" for v, s in shifts)
        + "};\nstatic const div_t_ DIVS[] CASES_PROGMEM = {"
        + ", ".join(f"{{{lit(n)}, {lit(dd)}}}" for n, dd in divs)
        + "};\n"
    )

    def pack(vals: list[int]) -> bytes:
        return struct.pack(f"<{len(vals)}i", *vals)

    return (
        pack([a * b for a, b, _ in pairs]),
        pack([c + ((a * b) >> s) for s in MAC_SHIFTS for a, b, c in pairs]),
        pack([v >> s for v, s in shifts]),
        pack([n // dd for n, dd in divs]),
    )


def test_avr_primitives_are_exact(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    expected = _write_cases(tmp_path)
    for opt in ("-O2", "-Os"):
        try:
            elf = runners.compile_avr(
                [FIRMWARE / "arith.c"], tmp_path / "arith.elf", include_dirs=[tmp_path, KERNELS], opt=opt
            )
            run = runners.run_avr(elf)
        except ToolMissing as e:
            tool_missing(str(e))
        assert run.records == expected, opt


@pytest.mark.parametrize("sanitize", [True, False])
def test_host_primitives_are_exact(tmp_path: Path, sanitize: bool) -> None:
    require_tool("gcc")
    expected = _write_cases(tmp_path)
    exe = runners.compile_host(
        [FIRMWARE / "arith.c"], tmp_path / "arith", sanitize=sanitize, include_dirs=[tmp_path, KERNELS]
    )
    assert runners.run_host(exe).records == expected
