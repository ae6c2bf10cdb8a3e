"""``hlsfix build --host`` and ``hlsfix sim --host``: partition, both sides' code, co-simulation.

One flow for both commands: measure the host's per-kernel cycles on test inputs, choose the
partition (``partition.choose_partition``), co-simulate it (``sim/codesign_runner.py``: the
generated host C against the FPGA side's Verilog over the real link pins) and also the two
baselines — every kernel on the host (its cycles measured in simavr, or QEMU for the MicroBlaze
estimate) and every kernel on the FPGA plus the transfers (co-simulated). ``build`` also writes
the FPGA side (a Vivado project with the SPI pins, or the AXI4-Lite module for a block design)
and the host side (driver, model, sketch or bare-metal main).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hlsfix.codesign import costs
from hlsfix.codesign.partition import Plan, check_pins, choose_partition
from hlsfix.codesign.transfers import FPGA, Partition, plan_partition
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.program import KernelProgram

MCU_CALIBRATION_INPUTS = 5  # test inputs the host's per-kernel cycles are averaged over


class CosimMismatch(HlsfixError):
    """The co-simulated host + FPGA outputs differ from the golden model's."""


@dataclass(frozen=True)
class SimulatedRun:
    """One partition's simulated end-to-end latency, in host cycles per inference."""

    partition: str  # one letter per top-level kernel: M (host) or F (FPGA)
    bit_exact: bool
    checked_inputs: int
    mcu_cycles: float  # the host's kernels, measured (simavr) or estimated (QEMU instructions)
    link_cycles: float  # link + accelerator + polling, co-simulated (0 when all on the host)
    total_cycles: float
    fpga_cycles: int  # accelerator cycles of one inference (all its segments)
    link_bytes: float  # per inference: SPI bytes on the wire, or AXI accesses × 4
    simulator: str

    def to_report(self) -> dict:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(self).items()}


def simulate_partition(
    program: KernelProgram,
    partition: Partition,
    x_q: np.ndarray,
    host: str,
    lanes: int,
    mcu: costs.McuKernelCycles,
    *,
    build_dir: Path | None = None,
    simulator: str = "icarus",
) -> SimulatedRun:
    mcu_cycles = mcu.entry_cycles + sum(mcu.cycles[i] for i in partition.mcu_kernels)
    if not partition.segments:  # the host alone: its measurement is the simulation
        return SimulatedRun(
            partition.describe(), True, mcu.inputs, mcu_cycles, 0.0, mcu_cycles, 0, 0.0, mcu.source
        )
    from hlsfix.board.arty import _output_to, import_sim_runner

    runner = import_sim_runner("codesign_runner")
    work = build_dir or Path(tempfile.mkdtemp(prefix="hlsfix-cosim-"))
    work.mkdir(parents=True, exist_ok=True)
    with _output_to(work / "cosim.log"):  # the simulator's chatter, kept for a failure's message
        res = runner.run_codesign(
            program, partition, x_q, host, lanes=lanes, build_dir=work, simulator=simulator
        )
    return SimulatedRun(
        partition=partition.describe(),
        bit_exact=res.bit_exact,
        checked_inputs=len(x_q),
        mcu_cycles=mcu_cycles,
        link_cycles=res.link_host_cycles,
        total_cycles=mcu_cycles + res.link_host_cycles,
        fpga_cycles=res.fpga_cycles,
        link_bytes=float(np.mean(res.link_bytes)),
        simulator=f"cocotb+{simulator} (link, FPGA); {mcu.source} (host kernels)",
    )


@dataclass(frozen=True)
class CodesignResult:
    plan: Plan
    chosen: SimulatedRun
    all_mcu: SimulatedRun
    all_fpga: SimulatedRun

    def to_report(self) -> dict:
        section = self.plan.to_report()
        section["simulated"] = self.chosen.to_report()
        section["baselines_simulated"] = {
            "all_mcu": self.all_mcu.to_report(),
            "all_fpga": self.all_fpga.to_report(),
        }
        section["bit_exact"] = self.chosen.bit_exact and self.all_fpga.bit_exact
        section["checked_inputs"] = self.chosen.checked_inputs
        return section


def test_inputs(cm, n: int) -> np.ndarray:
    if cm.test is None or len(cm.test[0]) == 0:
        raise HlsfixError(f"model {cm.name}: test inputs must be known to co-simulate (--data), not missing")
    if n < 1:
        raise HlsfixError(f"inputs must be at least 1, not {n}")
    return quantize_input(cm.program, np.asarray(cm.test[0][:n]))


def run_codesign_flow(
    cm,
    host: str,
    lanes: int,
    pins: dict[int, str] | None,
    n_inputs: int,
    *,
    work_dir: Path,
    simulator: str = "icarus",
    progress=lambda message: None,
) -> CodesignResult:
    """Choose the partition and co-simulate it and the two baselines on ``n_inputs`` test inputs;
    a partition whose outputs differ from the golden model's is an error (nothing is kept)."""
    program = cm.program
    costs.check_host(host)
    pins = check_pins(program, pins)  # a wrong pin fails before the measurements
    x_q = test_inputs(cm, n_inputs)
    calibration = test_inputs(cm, max(MCU_CALIBRATION_INPUTS, 3))
    progress(f"measuring the host's per-kernel cycles ({host})")
    mcu = costs.mcu_kernel_cycles(program, host, calibration)
    plan = choose_partition(program, host, lanes, pins, mcu=mcu)
    n = len(program.kernels)
    runs: dict[str, SimulatedRun] = {}
    for label, partition in (
        ("chosen", plan.partition),
        ("all_fpga", plan_partition(program, (FPGA,) * n)),
        ("all_mcu", plan_partition(program, ("mcu",) * n)),
    ):
        key = partition.describe()
        if key not in runs:
            progress(
                f"co-simulating partition {key} on {len(x_q)} inputs"
                if partition.segments
                else f"partition {key}: the host alone ({mcu.source}, {mcu.inputs} inputs)"
            )
            runs[key] = simulate_partition(
                program, partition, x_q, host, lanes, mcu, build_dir=work_dir / key, simulator=simulator
            )
        run = runs[key]
        if not run.bit_exact:
            raise CosimMismatch(
                f"co-simulated outputs of partition {key} ({label}) must equal the golden model's, not differ"
            )
    result = CodesignResult(
        plan=plan,
        chosen=runs[plan.partition.describe()],
        all_mcu=runs["M" * n],
        all_fpga=runs["F" * n],
    )
    return result


def codesign_markdown(section: dict) -> str:
    """The co-design part of report.md: the partition, then predicted vs simulated latency."""
    lines = [
        f"## Co-design: {section['host']} + FPGA over {section['link']}",
        "",
        f"Host cycles per inference at {section['host_hz'] / 1e6:g} MHz"
        + (" (MicroBlaze figures are estimates: see mcu_source)" if section["estimated"] else "")
        + f"; bit-exact on {section['checked_inputs']} inputs: {section['bit_exact']}.",
        "",
        "| # | kernel | side |",
        "|---|---|---|",
    ]
    for k in section["partition"]:
        label = k["label"].replace("|", r"\|")
        lines.append(f"| {k['kernel']} | {label} | {k['side']} |")
    sim, base = section["simulated"], section["baselines_simulated"]
    pred, pbase = section["predicted"], section["baselines"]
    lines += [
        "",
        "| partition | predicted cycles | simulated cycles | link bytes |",
        "|---|---|---|---|",
        f"| chosen ({sim['partition']}) | {pred['total_cycles']} | {sim['total_cycles']} | "
        f"{sim['link_bytes']} |",
        f"| all on the host | {pbase['all_mcu']['total_cycles']} | {base['all_mcu']['total_cycles']} | 0 |",
        f"| all on the FPGA | {pbase['all_fpga']['total_cycles']} | {base['all_fpga']['total_cycles']} | "
        f"{base['all_fpga']['link_bytes']} |",
        "",
    ]
    return "\n".join(lines)
