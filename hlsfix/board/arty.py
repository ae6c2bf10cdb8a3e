"""The Arty A7 build: the accelerator for one program inside the board top, the Vivado project
written by amaranth-boards, a Yosys resource estimate checked against the part, the number of lanes
that fits, and the cycles per inference measured in cocotb.

``build_arty`` does it all; its pieces are public for tests and for other boards of the same kind:

* ``BoardAccelerator`` — the accelerator with plain stream payloads (model-input elements in,
  32-bit signed results out), the shape ``BoardCore`` wraps;
* ``write_vivado_project`` — the platform's own files (Verilog, XDC, TCL, build script) for a top;
* ``estimate_board`` — Yosys ``synth_xilinx`` counts of that very Verilog;
* ``choose_lanes`` — the largest P in ``LANE_CHOICES`` that fits, from few synthesis runs;
* ``simulate_accelerator`` — cocotb run of the accelerator (sim/runner.py), bit-exact checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.board.accel_report import rtl_section
from hlsfix.board.fpga_boards import FpgaBoard
from hlsfix.board.resources import Resources, check_fit, estimate_resources
from hlsfix.board.timing import Timing, place_and_route_ecp5
from hlsfix.errors import BoardError, CompileError, HlsfixError, ToolError

if TYPE_CHECKING:
    from hlsfix.compiler import CompiledModel
    from hlsfix.fixedpoint.program import KernelProgram

LANE_CHOICES = (16, 8, 4, 2, 1)
# From 16 lanes on (``rtl/copies.py``'s ``SPREAD_BELOW``) the accelerator is built to fit the part,
# not for the clock (its bypassed scratch reads cross the write and the read network in one cycle),
# and its post-route clock is not measured: the automatic choice stops below, ``--lanes 16`` builds it.
AUTO_LANE_CHOICES = (8, 4, 2, 1)
REQUEST_ONLY = (
    "built to fit the part, not for the clock (its post-route clock is not measured): "
    "only on request (--lanes 16)"
)
FIT_MARGIN = 0.9
# The line through two measured P overestimates a wider design that drops per-lane parts (late
# forwarding above 8 lanes: ProtoNN's P = 1 and 8 predict 21,286 LUT at P = 16, which takes 16,446);
# a P predicted to overflow by at most this factor is no known misfit: it is synthesised.
NEAR_FIT = 1.15
TOP_NAME = "hlsfix_arty"
OUTPUT_BITS = 32  # every result element goes over the link as a 32-bit signed value
VIVADO_TIMEOUT_S = 4 * 3600


class MismatchError(HlsfixError):
    """The simulated accelerator disagrees with the golden model."""


def board_accelerator_class():
    """``BoardAccelerator`` (defined late: amaranth is the optional ``rtl`` extra)."""
    global _BoardAccelerator
    if _BoardAccelerator is None:
        _BoardAccelerator = _define_board_accelerator()
    return _BoardAccelerator


_BoardAccelerator = None


def _define_board_accelerator():
    from amaranth import Module, signed
    from amaranth.lib import stream, wiring
    from amaranth.lib.wiring import In, Out

    from hlsfix.rtl.accelerator import Accelerator

    class BoardAccelerator(wiring.Component):
        """The accelerator for ``image`` with plain payloads: a signed model-input element per beat
        in, a signed 32-bit result element per beat out (the class, or each output element)."""

        def __init__(self, image) -> None:
            self.image = image
            self.n_inputs = image.program.input_buffer.size
            self.n_outputs = image.output_len
            self.input_bits = image.program.input_buffer.fmt.bits
            super().__init__(
                {
                    "input": In(stream.Signature(signed(self.input_bits))),
                    "output": Out(stream.Signature(signed(OUTPUT_BITS))),
                }
            )

        def elaborate(self, platform):
            m = Module()
            m.submodules.accel = accel = Accelerator(self.image)
            m.d.comb += [
                accel.inp.valid.eq(self.input.valid),
                accel.inp.payload.value.eq(self.input.payload),
                self.input.ready.eq(accel.inp.ready),
                self.output.valid.eq(accel.out.valid),
                self.output.payload.eq(accel.out.payload.value),
                accel.out.ready.eq(self.output.ready),
            ]
            return m

    return BoardAccelerator


def image_for(program: KernelProgram, lanes: int):
    from hlsfix.rtl.microcode import compile_image

    return compile_image(program, lanes)


def board_top(program: KernelProgram, lanes: int, board: FpgaBoard, baud: int, *, image=None):
    """The ``BoardTop`` (UART link, LEDs, reset button) around the accelerator for ``program``."""
    from hlsfix.board.protocol import fingerprint_to_bytes
    from hlsfix.board.top import BoardTop
    from hlsfix.fixedpoint.fingerprint import fingerprint

    image = image or image_for(program, lanes)
    cls = board_accelerator_class()
    return BoardTop(
        lambda: cls(image),
        board,
        baud,
        n_inputs=program.input_buffer.size,
        n_outputs=image.output_len,
        fingerprint=fingerprint_to_bytes(fingerprint(program)),
    )


@dataclass(frozen=True)
class VivadoProject:
    directory: Path
    verilog: Path
    xdc: Path
    tcl: Path
    script: Path


def vivado_timing_check(name: str) -> str:
    """Tcl run after routing: a timing summary file, and an error (no bitstream) on negative
    setup or hold slack, so a design that misses the board's clock never reaches the board."""
    return "\n".join(
        [
            f"report_timing_summary -max_paths 10 -file {name}_timing_summary.rpt",
            "set hlsfix_wns [get_property SLACK [get_timing_paths -delay_type max -max_paths 1]]",
            "set hlsfix_whs [get_property SLACK [get_timing_paths -delay_type min -max_paths 1]]",
            'puts "hlsfix: worst setup slack $hlsfix_wns ns, worst hold slack $hlsfix_whs ns"',
            "if {$hlsfix_wns < 0 || $hlsfix_whs < 0} {",
            '    error "hlsfix: timing must be met, not negative slack (setup $hlsfix_wns ns, '
            'hold $hlsfix_whs ns)"',
            "}",
        ]
    )


def write_vivado_project(top, board: FpgaBoard, directory: Path, name: str = TOP_NAME) -> VivadoProject:
    """Let the amaranth-boards platform write its Vivado project for ``top`` into ``directory``
    (Verilog, XDC constraints, the TCL flow and ``build_<name>.sh``), without running Vivado."""
    directory = Path(directory)
    plan = board.platform().build(top, name=name, build_dir=str(directory), do_build=False)
    plan.extract(str(directory))
    project = VivadoProject(
        directory=directory,
        verilog=directory / f"{name}.v",
        xdc=directory / f"{name}.xdc",
        tcl=directory / f"{name}.tcl",
        script=directory / f"build_{name}.sh",
    )
    for path in (project.verilog, project.xdc, project.tcl, project.script):
        if not path.is_file():
            raise ToolError(f"the amaranth-boards platform must write {path.name}, not leave it out")
    # The board's platform already uses the hooks after routing (SPI flash settings), so the
    # slack check goes into the written flow, right before the bitstream.
    tcl = project.tcl.read_text()
    if "write_bitstream" not in tcl:
        raise ToolError(f"the Vivado flow {project.tcl.name} must write a bitstream, not leave it out")
    head, tail = tcl.split("write_bitstream", 1)
    indent = head[head.rfind("\n") + 1 :]
    check = "\n".join(indent + line for line in vivado_timing_check(name).splitlines())
    project.tcl.write_text(head.rstrip(" ") + check.lstrip(" ") + "\n" + indent + "write_bitstream" + tail)
    project.script.chmod(0o755)
    return project


def estimate_board(program: KernelProgram, lanes: int, board: FpgaBoard, baud: int) -> Resources:
    """Yosys' resource counts for the whole board top at ``lanes`` (the Verilog the project uses)."""
    with tempfile.TemporaryDirectory(prefix="hlsfix-arty-") as tmp:
        project = write_vivado_project(board_top(program, lanes, board, baud), board, Path(tmp))
        return estimate_resources(project.verilog, TOP_NAME, family=board.family)


def fits(resources: Resources, board: FpgaBoard, margin: float = FIT_MARGIN) -> bool:
    try:
        check_fit(resources, board, margin)
    except BoardError:
        return False
    return True


@dataclass
class LaneChoice:
    lanes: int
    resources: Resources
    measured: dict[int, Resources] = field(default_factory=dict)  # every synthesis run, by P
    failed: dict[int, str] = field(default_factory=dict)  # P whose synthesis failed (auto only), why
    skipped: dict[int, str] = field(default_factory=dict)  # P never synthesised (auto only), why


def lanes_tried(choice: LaneChoice, board: FpgaBoard, margin: float = FIT_MARGIN) -> list[dict]:
    """Every P that was synthesised (or whose synthesis failed), its resources, and why it was
    chosen or rejected: the report's ``fpga.lanes_tried``."""
    out = []
    for p in sorted(set(choice.measured) | set(choice.failed)):
        row: dict = {"lanes": p}
        if p in choice.failed:
            row["verdict"] = f"rejected: synthesis failed: {choice.failed[p]}"
        else:
            r = choice.measured[p]
            row.update(lut=r.lut, ff=r.ff, dsp=r.dsp, bram36=r.bram36)
            try:
                check_fit(r, board, margin)
                row["verdict"] = "chosen" if p == choice.lanes else f"fits; P = {choice.lanes} was chosen"
            except BoardError as e:
                row["verdict"] = f"rejected: {e}"
        out.append(row)
    for p, why in choice.skipped.items():
        if p not in choice.measured and p not in choice.failed:
            out.append({"lanes": p, "verdict": f"rejected, not synthesised: {why}"})
    return sorted(out, key=lambda r: r["lanes"])


def memories_report(image, resources: Resources) -> dict:
    """The report's ``fpga.memories`` (each memory of the accelerator: words, bits, copies, ports
    and how it is built, ``Image.memories``) and ``fpga.memory_primitives`` (the RAM cells Yosys
    inferred for the whole design, by type)."""
    return {"memories": image.memories(), "memory_primitives": dict(resources.memory_cells)}


def _predict(measured: dict[int, Resources], lanes: int) -> dict[str, float]:
    """Resources at ``lanes`` by a straight line through the measured points (one point: all of
    it scales with P, an overestimate, since the link and sequencer do not)."""
    keys = ("lut", "ff", "dsp", "bram36")
    ps = sorted(measured)
    if len(ps) == 1:
        r = measured[ps[0]]
        return {k: getattr(r, k) * lanes / ps[0] for k in keys}
    lo, hi = measured[ps[0]], measured[ps[-1]]
    out = {}
    for k in keys:
        slope = (getattr(hi, k) - getattr(lo, k)) / (ps[-1] - ps[0])
        out[k] = getattr(lo, k) + slope * (lanes - ps[0])
    return out


def _predicted_fit(pred: dict[str, float], board: FpgaBoard, margin: float) -> bool:
    cap = board.capacity
    return all(pred[k] <= getattr(cap, k) * margin for k in ("lut", "ff", "dsp", "bram36"))


def _near_fit(pred: dict[str, float], board: FpgaBoard, margin: float) -> bool:
    return _predicted_fit(pred, board, margin * NEAR_FIT)


def choose_lanes(
    estimate: Callable[[int], Resources],
    board: FpgaBoard,
    *,
    requested: int | None = None,
    margin: float = FIT_MARGIN,
    choices: tuple[int, ...] = LANE_CHOICES,
    progress: Callable[[str], None] = lambda _: None,
    known_misfit: Callable[[int], str | None] | None = None,
) -> LaneChoice:
    """P lanes for the board: ``requested`` (checked), or the largest of ``choices`` that fits.

    Automatic choice synthesises the smallest P (which must fit, else the BoardError of
    ``check_fit``), then the largest P an all-of-it-scales prediction allows, then at most one larger
    P that the line through two measured points predicts to fit, then the next P above the best so
    far that the line predicts to overflow by at most ``NEAR_FIT``; a P that does not fit, or whose
    synthesis fails (the estimator running out of memory on a big design), steps down one choice.
    ``known_misfit`` (``memory_misfit``) rules out, before any synthesis, a P whose memories alone
    cannot fit: it is never tried, and the report says why.
    """
    measured: dict[int, Resources] = {}
    failed: dict[int, str] = {}

    def run(p: int) -> Resources:
        progress(f"synthesising P={p} with Yosys")
        measured[p] = estimate(p)
        return measured[p]

    def run_fits(p: int) -> bool:
        try:
            return fits(run(p), board, margin)
        except ToolError as e:
            failed[p] = str(e)
            return False

    if requested is not None:
        r = run(requested)
        check_fit(r, board, margin)
        return LaneChoice(requested, r, measured, failed)
    choices = tuple(sorted(choices, reverse=True))
    # the P above what the caller offers: built only on request (``AUTO_LANE_CHOICES``)
    request_only = {p: REQUEST_ONLY for p in LANE_CHOICES if p > choices[0]}
    ruled = {p: why for p in choices[:-1] if known_misfit and (why := known_misfit(p))}
    choices = tuple(p for p in choices if p not in ruled)
    check_fit(run(choices[-1]), board, margin)  # the clear error: what overflowed, by how much
    best = choices[-1]
    # Conservative first guess, then step down until one fits.
    for p in choices:
        if p <= best:
            break
        if _predicted_fit(_predict(measured, p), board, margin) and run_fits(p):
            best = p
            break
    # One step up, to the largest P the line through two measurements says fits (or nearly:
    # ``NEAR_FIT``, tried after the largest that fits).
    if len(measured) >= 2:
        larger = [p for p in choices if p > best and p not in measured and p not in failed]
        fitting = [p for p in larger if _predicted_fit(_predict(measured, p), board, margin)]
        for p in fitting[:2]:  # a failure above may still leave the next one down
            if run_fits(p):
                best = p
                break
        near = [p for p in choices if p > best and p not in measured and p not in failed]
        near = [p for p in near if _near_fit(_predict(measured, p), board, margin)]
        if near and run_fits(near[-1]):
            best = near[-1]
    skipped = {
        p: _skip_reason(measured, p, board, margin) if p > best else f"P = {best} fits and was chosen"
        for p in choices
        if p not in measured and p not in failed
    }
    return LaneChoice(best, measured[best], measured, failed, request_only | skipped | ruled)


def memory_misfit(program: KernelProgram, board: FpgaBoard, margin: float = FIT_MARGIN):
    """For ``choose_lanes``: why P lanes cannot fit ``board`` from the memories alone (the weight
    ROM's dual-port block RAM copies, one per two read ports: P of them, per-lane or shared), or None."""
    bits = board.bram_cell_bits

    def misfit(lanes: int) -> str | None:
        try:
            image = image_for(program, lanes)
        except CompileError:  # the synthesis run will say what is wrong
            return None
        per_copy = -(-image.rom_depth * image.word_bits // bits)
        need, have = lanes * per_copy, board.capacity.bram36 * margin
        if per_copy > 1 and need > have:
            return (
                f"the weight ROM alone needs {need} {board.bram_cell} ({lanes} dual-port copies of "
                f"{per_copy}) > {have:.0f}"
            )
        return None

    return misfit


def _skip_reason(measured: dict[int, Resources], lanes: int, board: FpgaBoard, margin: float) -> str:
    """Why a P above the chosen one was not synthesised: what the prediction overflows, or (a
    prediction that fits) the next P down did not fit when synthesised."""
    pred, cap = _predict(measured, lanes), board.capacity
    names = {"lut": board.lut_cell, "ff": "FF", "dsp": board.dsp_cell, "bram36": board.bram_cell}
    over = [
        f"{names[k]} {pred[k]:.0f} > {getattr(cap, k) * margin:.0f}"
        for k in ("lut", "ff", "dsp", "bram36")
        if pred[k] > getattr(cap, k) * margin
    ]
    basis = "P = " + ", ".join(str(p) for p in sorted(measured))
    if over:
        return f"predicted from the synthesis of {basis}: " + ", ".join(over)
    return f"a smaller P did not fit when synthesised ({basis})"


def import_sim_runner(module: str = "runner"):
    """``hlsfix.sim.<module>`` (the cocotb runners); they import cocotb, so the ``rtl`` extra is needed."""
    import importlib

    try:
        return importlib.import_module(f"hlsfix.sim.{module}")
    except ImportError as e:
        raise ToolError(
            f'simulation needs the rtl extra (pip install "hlsfix[rtl]"), not missing {e.name}'
        ) from None


@contextmanager
def _output_to(log: Path):
    """Send this process's stdout and stderr (and its children's: the simulator) to ``log``; the
    simulator's chatter is not the build's output. Its last lines join an error raised inside."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log, "wb") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
    try:
        yield
    except Exception as e:
        sys.stdout.flush()
        sys.stderr.flush()
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        if tail and isinstance(e, HlsfixError):
            raise type(e)(f"{e} (simulator: {tail[-1].strip()})") from None
        raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def simulate_accelerator(cm: CompiledModel, lanes: int, n_inputs: int, simulator: str = "icarus"):
    """Cycles per inference and bit-exactness of the accelerator on the first test inputs."""
    import numpy as np

    from hlsfix.fixedpoint.golden import quantize_input

    if shutil.which("iverilog") is None and simulator == "icarus":
        raise ToolError("iverilog must be installed to simulate the accelerator, not missing")
    if cm.test is None or len(cm.test[0]) == 0:
        raise BoardError(f"model {cm.name}: test inputs must be known to check the RTL, not missing")
    x_q = quantize_input(cm.program, np.asarray(cm.test[0][:n_inputs]))
    runner = import_sim_runner()
    with tempfile.TemporaryDirectory(prefix="hlsfix-rtl-") as tmp, _output_to(Path(tmp) / "sim.log"):
        result = runner.run_cocotb(cm.program, x_q, lanes, simulator, build_dir=Path(tmp))
    if not result.bit_exact:
        i = result.mismatches[0]
        raise MismatchError(
            f"RTL of {cm.name} at P={lanes}: outputs must equal the golden model's, not differ on "
            f"{len(result.mismatches)} of {len(x_q)} inputs (first: input {i}, got {result.outputs[i]}, "
            f"want {result.expected[i]})"
        )
    return result


def run_vivado(project: VivadoProject, timeout_s: int = VIVADO_TIMEOUT_S) -> str:
    """Run the project's build script (Vivado batch mode); the bitstream lands beside it."""
    vivado = shutil.which("vivado")
    if vivado is None:
        raise ToolError("vivado must be on PATH for --run-vivado, not missing")
    run = subprocess.run(
        ["bash", project.script.name],
        cwd=project.directory,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if run.returncode != 0:
        lines = (run.stdout + run.stderr).strip().splitlines()
        raise ToolError(f"vivado must build the project, not fail: {lines[-1] if lines else run.returncode}")
    bit = project.directory / f"{TOP_NAME}.bit"
    return str(bit.name) if bit.exists() else "ran (no bitstream found)"


def _ecp5_timing(verilog: Path) -> Timing:
    from hlsfix.rtl.verilog import TOP

    return place_and_route_ecp5(verilog, TOP)


def accelerator_timing(program: KernelProgram, image, timing: Callable[[Path], Timing]) -> dict:
    """The report's ``fpga`` timing keys for the accelerator of ``image`` (its Verilog alone: the
    board top holds vendor primitives an open flow cannot place), or why there are none."""
    from hlsfix.rtl.verilog import emit_verilog

    with tempfile.TemporaryDirectory(prefix="hlsfix-timing-") as tmp:
        verilog = emit_verilog(program, image.lanes, Path(tmp), image=image)
        try:
            t = timing(verilog)
        except ToolError as e:
            return {"fmax_mhz": None, "timing_estimator": f"none: {e}", "critical_path": None}
    return {**t.report(), "timing_target_mhz": t.target_mhz, "timing_scope": "accelerator (hlsfix_accel)"}


@dataclass
class ArtyBuild:
    board: FpgaBoard
    project: VivadoProject
    choice: LaneChoice
    fpga: dict
    rtl: dict


def build_arty(
    cm: CompiledModel,
    out_dir: Path,
    board: FpgaBoard,
    *,
    lanes: int | None = None,
    baud: int = 115_200,
    n_inputs: int = 5,
    vivado: bool = False,
    compare_uno: bool = True,
    margin: float = FIT_MARGIN,
    progress: Callable[[str], None] = lambda _: None,
    estimate: Callable[[int], Resources] | None = None,
    timing: Callable[[Path], Timing] | None = None,
    simulator: str = "icarus",
) -> ArtyBuild:
    """Choose P, write the Vivado project into ``out_dir/vivado``, simulate, and (with ``vivado``) run it.

    ``lanes`` None chooses P automatically; ``estimate`` replaces the Yosys run (tests).
    ``timing`` times the accelerator's Verilog (default: ``timing.place_and_route_ecp5``, a
    post-route Fmax on the slowest ECP5); microseconds are given at that Fmax (at most the
    board's clock), never at an assumed clock.
    """
    from hlsfix.board.uart import baud_divisor

    program = cm.program
    baud_divisor(board.clock_hz, baud)  # an impossible baud rate fails before any synthesis
    estimate = estimate or (lambda p: estimate_board(program, p, board, baud))
    choice = choose_lanes(
        estimate,
        board,
        requested=lanes,
        margin=margin,
        progress=progress,
        known_misfit=memory_misfit(program, board, margin),
        choices=AUTO_LANE_CHOICES,
    )
    p = choice.lanes
    progress(f"writing the Vivado project (P={p})")
    image = image_for(program, p)
    project = write_vivado_project(board_top(program, p, board, baud, image=image), board, out_dir / "vivado")
    progress("placing and routing the accelerator on an ECP5 for its Fmax (nextpnr)")
    timed = accelerator_timing(program, image, timing or _ecp5_timing)
    progress(f"simulating the accelerator on {n_inputs} test inputs (cocotb, {simulator})")
    sim = simulate_accelerator(cm, p, n_inputs, simulator)
    r = choice.resources
    cap = board.capacity
    vivado_status = "project written, not run (vivado not on PATH)"
    if vivado:
        progress("running Vivado")
        vivado_status = f"built: {run_vivado(project)}"
    elif shutil.which("vivado"):
        vivado_status = "project written, not run (pass --run-vivado)"
    fpga = {
        "board": board.name,
        "part": board.part,
        "lut": r.lut,
        "ff": r.ff,
        "dsp": r.dsp,
        "bram36": r.bram36,
        "fits": True,
        "estimator": r.estimator,
        "margin": margin,
        "capacity": {"lut": cap.lut, "ff": cap.ff, "dsp": cap.dsp, "bram36": cap.bram36},
        "synthesised_lanes": {
            str(k): {"lut": v.lut, "ff": v.ff, "dsp": v.dsp, "bram36": v.bram36}
            for k, v in sorted(choice.measured.items())
        },
        "synthesis_failed": {str(k): v for k, v in sorted(choice.failed.items())},
        "lanes_tried": lanes_tried(choice, board, margin),
        **memories_report(image, r),
        "clock_mhz": board.clock_hz / 1e6,
        "baud": baud,
        "project": "vivado/",
        "top": TOP_NAME,
        "vivado": vivado_status,
        **timed,
    }
    rtl = rtl_section(
        cm,
        sim,
        lanes=p,
        fmax_mhz=timed["fmax_mhz"],
        clock_hz=board.clock_hz,
        simulator=simulator,
        compare_uno=compare_uno,
        n_inputs=n_inputs,
        progress=progress,
    )
    return ArtyBuild(board=board, project=project, choice=choice, fpga=fpga, rtl=rtl)
