"""hlsfix_quantize_f32, the float input path of the sketch: exactly golden.quantize_input's
rule, floor(x * 2^frac + 0.5) saturated, for every kind of float (subnormals, halves, NaN,
infinities), on the host (ASan+UBSan) and in simavr at -O2 and -Os."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from hlsfix.mcu import runners
from tests.tools import require_tool

FIRMWARE = Path(__file__).parent / "firmware"
KERNELS = runners.MCU_DIR / "kernels"
FORMATS = ((8, 6), (8, -2), (16, 14), (16, 0), (16, 30), (32, 20), (32, 7))


def _expected(x: np.float32, frac: int, bits: int) -> int:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if np.isnan(x):
        return lo
    v = np.floor(np.float64(x) * 2.0**frac + 0.5)  # golden.quantize_input, one value
    return int(np.clip(v, lo, hi)) if np.isfinite(v) else (hi if v > 0 else lo)


def _cases(d: Path) -> bytes:
    rng = np.random.default_rng(3)
    specials = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-45, -1e-45, 1e-38, 3.0e38, -3.0e38]
    specials += [float("inf"), float("-inf"), float("nan")]
    xs = [np.float32(v) for v in specials]
    xs += list(rng.uniform(-4, 4, 120).astype(np.float32))
    xs += list((rng.integers(-300, 300, 60) / 2.0 ** rng.integers(0, 12, 60)).astype(np.float32))  # ties
    xs += list(rng.standard_normal(40).astype(np.float32) * np.float32(2.0**20))
    rows, want = [], []
    for bits, frac in FORMATS:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        for x in xs:
            (u,) = struct.unpack("<I", struct.pack("<f", float(x)))
            qmin = "INT32_MIN" if bits == 32 else f"INT32_C({lo})"
            rows.append(f"{{UINT32_C({u}), {frac}, {qmin}, INT32_C({hi})}}")
            want.append(_expected(x, frac, bits))
    (d / "quantize_cases.h").write_text(
        f"#define N_QCASES {len(rows)}\nstatic const qcase_t QCASES[] CASES_PROGMEM = {{\n"
        + ",\n".join(rows)
        + "};\n"
    )
    return struct.pack(f"<{len(want)}i", *want)


def test_quantize_f32_on_the_host(tmp_path: Path) -> None:
    require_tool("gcc")
    expected = _cases(tmp_path)
    exe = runners.compile_host(
        [FIRMWARE / "quantize.c"], tmp_path / "q", sanitize=True, include_dirs=[tmp_path, KERNELS]
    )
    assert runners.run_host(exe).records == (expected,)


def test_quantize_f32_in_simavr(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    expected = _cases(tmp_path)
    for opt in ("-O2", "-Os"):
        elf = runners.compile_avr(
            [FIRMWARE / "quantize.c"], tmp_path / "q.elf", include_dirs=[tmp_path, KERNELS], opt=opt
        )
        assert runners.run_avr(elf).records == (expected,), opt
