"""The rtl report section: a wall-clock speedup over the Uno only at a measured Fmax."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hlsfix.board import accel_report

SIM = SimpleNamespace(
    cycles_per_inference=670, ideal_cycles=249, bit_exact=True, outputs=[0] * 5, per_kernel=[]
)


@pytest.fixture
def uno(monkeypatch):
    monkeypatch.setattr(
        accel_report,
        "uno_comparison",
        lambda cm, n: {"uno_cycles": 99_209, "uno_ms_at_16mhz": 6.2, "uno_note": ""},
    )


def section(fmax_mhz):
    return accel_report.rtl_section(
        None,
        SIM,
        lanes=8,
        fmax_mhz=fmax_mhz,
        clock_hz=100e6,
        simulator="icarus",
        compare_uno=True,
        n_inputs=5,
        progress=lambda _: None,
    )


def test_the_speedup_is_at_the_measured_fmax_capped_by_the_board_clock(uno) -> None:
    rtl = section(80.0)
    assert rtl["speedup_clock_mhz"] == 80.0 and rtl["us_at_fmax"] == round(670 / 80.0, 3)
    assert rtl["speedup_vs_uno"] == round((99_209 / 16e6) / (670 / 80e6), 1)
    assert section(130.0)["speedup_clock_mhz"] == 100.0  # never above the board's clock


def test_without_an_fmax_the_uno_is_compared_by_cycles_only(uno) -> None:
    rtl = section(None)
    assert rtl["speedup_vs_uno"] is None and rtl["us_at_fmax"] is None
    assert rtl["cycle_ratio_vs_uno"] == round(99_209 / 670, 1)
    assert rtl["uno_note"].startswith("148.1x fewer cycles than the Uno's 99209")
