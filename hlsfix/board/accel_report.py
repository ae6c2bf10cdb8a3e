"""The report's ``rtl`` section of a board build (Arty or open FPGA): cycles against the ideal,
bit-exactness in cocotb, microseconds at the clock the design was shown to reach, and the speedup
over the Uno build of the same model."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.errors import HlsfixError

if TYPE_CHECKING:
    from hlsfix.fixedpoint.compiler import CompiledModel

UNO_HZ = 16e6


def rtl_section(
    cm: CompiledModel,
    sim,
    *,
    lanes: int,
    fmax_mhz: float | None,
    clock_hz: float,
    simulator: str,
    compare_uno: bool,
    n_inputs: int,
    progress: Callable[[str], None],
) -> dict:
    """``sim`` is the cocotb run (``simulate_accelerator``); ``fmax_mhz`` the post-route Fmax (None:
    not measured). Microseconds and the speedup are at min(Fmax, the board's clock), never at an
    assumed clock: without an Fmax there are no microseconds (``us_at_fmax`` is None) and the Uno
    is compared by cycles only."""
    cycles = sim.cycles_per_inference
    clock_mhz = min(fmax_mhz, clock_hz / 1e6) if fmax_mhz else None
    rtl = {
        "lanes": lanes,
        "cycles": round(cycles),
        "ideal_cycles": sim.ideal_cycles,
        "ratio": round(cycles / max(1, sim.ideal_cycles), 3),
        "bit_exact": sim.bit_exact,
        "checked_inputs": len(sim.outputs),
        "simulator": f"cocotb+{simulator}",
        "us_at_fmax": round(cycles / clock_mhz, 3) if clock_mhz else None,
        "per_kernel": [{"kernel": n, "cycles": c, "ideal": i} for n, c, i in sim.per_kernel],
    }
    if compare_uno:
        progress("building the Uno version for the speedup (simavr)")
        rtl.update(uno_comparison(cm, n_inputs))
    else:
        rtl.update({"uno_cycles": None, "uno_note": "not compared (--no-uno)"})
    if rtl["uno_cycles"] and clock_mhz:
        # Wall-clock: the Uno at 16 MHz against the accelerator at the clock it was shown to reach
        # (the post-route Fmax, at most the board's clock).
        rtl["speedup_vs_uno"] = round((rtl["uno_cycles"] / UNO_HZ) / (cycles / (clock_mhz * 1e6)), 1)
        rtl["speedup_clock_mhz"] = round(clock_mhz, 1)
        rtl["cycle_ratio_vs_uno"] = round(rtl["uno_cycles"] / cycles, 1)
    elif rtl["uno_cycles"]:
        # No Fmax: a wall-clock speedup would rest on an assumed clock, so only cycles are compared.
        rtl["speedup_vs_uno"] = None
        rtl["cycle_ratio_vs_uno"] = round(rtl["uno_cycles"] / cycles, 1)
        rtl["uno_note"] = (
            f"{rtl['cycle_ratio_vs_uno']}x fewer cycles than the Uno's {rtl['uno_cycles']}; "
            "no wall-clock speedup without a measured Fmax"
        )
    else:
        rtl["speedup_vs_uno"] = None
    return rtl


def uno_comparison(cm: CompiledModel, n_inputs: int) -> dict:
    """Cycles of the Uno build of the same model (simavr), or why there are none."""
    from hlsfix.mcu.uno import build_uno

    missing = [t for t in ("avr-gcc", "avr-size", "simavr") if shutil.which(t) is None]
    if missing:
        return {"uno_cycles": None, "uno_note": f"no Uno build: {', '.join(missing)} not installed"}
    try:
        with tempfile.TemporaryDirectory(prefix="hlsfix-uno-") as tmp:
            built = build_uno(cm, Path(tmp), n_inputs=n_inputs)
    except HlsfixError as e:
        return {"uno_cycles": None, "uno_note": f"no Uno build: {e}"}
    return {"uno_cycles": round(built.mean_cycles), "uno_ms_at_16mhz": round(built.ms, 3), "uno_note": ""}
