"""The co-design partitioner: its cost model's inputs (per-kernel marks, driver costs), the search
against brute force and against the baselines, pins, and the report section."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.codesign import costs
from hlsfix.codesign import partition as pt
from hlsfix.codesign.transfers import FPGA, MCU, plan_partition
from hlsfix.fixedpoint.golden import quantize_input
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.mcu import runners
from hlsfix.mcu.emit import emit_model
from hlsfix.mcu.firmware import emit_firmware
from hlsfix.memory.liveness import plan_memory
from tests.tools import require_tool

MODELS = ("protonn", "bonsai", "fastgrnn")
LANES = 4
N_INPUTS = 4
TOOLS = {"arduino-uno": ("avr-gcc", "simavr"), "microblaze": ("arm-none-eabi-gcc", "qemu-system-arm")}


def _require(host: str) -> None:
    for tool in TOOLS[host]:
        require_tool(tool)
    if host == "arduino-uno" and not Path("/usr/include/simavr/sim_avr.h").exists():
        require_tool("pkg-config")


@pytest.fixture(scope="module")
def programs() -> dict[str, tuple[KernelProgram, np.ndarray]]:
    out = {}
    for name in MODELS:
        cm = hlsfix.compile(name)
        assert cm.test is not None
        out[name] = (cm.program, quantize_input(cm.program, cm.test[0][:N_INPUTS]))
    return out


@pytest.fixture(scope="module")
def measured(programs) -> dict[tuple[str, str], costs.McuKernelCycles]:
    """MCU costs per (model, host), measured once for the module (a fresh cache: no stale file)."""
    cache: dict[tuple[str, str], costs.McuKernelCycles] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for host in costs.HOSTS:
            for name, (program, x_q) in programs.items():
                with contextlib.suppress(runners.ToolMissing):  # the test that needs it skips
                    cache[(name, host)] = costs.mcu_kernel_cycles(program, host, x_q, cache_dir=Path(tmp))
    return cache


def mcu_costs(measured, name: str, host: str) -> costs.McuKernelCycles:
    _require(host)
    return measured[(name, host)]


# -- measurements ---------------------------------------------------------------------------


def test_kernel_marks_off_leave_the_generated_code_unchanged(programs) -> None:
    program, _ = programs["bonsai"]
    plan = plan_memory(program)
    default, off = emit_model(program, plan), emit_model(program, plan, kernel_marks=False)
    marked = emit_model(program, plan, kernel_marks=True)
    assert default.source == off.source and "HLSFIX_KERNEL_MARK" not in default.source
    assert marked.source.count("HLSFIX_KERNEL_MARK(") == len(program.kernels) + 1  # the define too


@pytest.mark.parametrize("name", MODELS)
def test_per_kernel_cycles_add_up_to_the_whole_prediction(programs, measured, name: str) -> None:
    """Entry + Σ per-kernel simavr cycles = the unmarked firmware's cycles, within the register
    saves the marker calls cause (KERNEL_MARK_PERTURBATION_CYCLES per mark)."""
    marked = mcu_costs(measured, name, "arduino-uno")
    program, x_q = programs[name]
    with tempfile.TemporaryDirectory() as tmp:
        fw = emit_firmware(program, plan_memory(program), x_q, Path(tmp))
        run = runners.run_avr(
            runners.compile_avr(fw.sources, Path(tmp) / "fw.elf", include_dirs=fw.include_dirs)
        )
    whole = float(np.mean(run.measurements))
    tolerance = costs.KERNEL_MARK_PERTURBATION_CYCLES * len(program.kernels)
    assert abs(marked.whole - whole) <= tolerance, (marked.whole, whole)
    assert marked.unit == "cycles" and not marked.estimated and marked.inputs == N_INPUTS
    assert len(marked.cycles) == len(program.kernels) and min(marked.cycles) >= 0


def test_microblaze_figures_are_labelled_estimates(programs, measured) -> None:
    program, _ = programs["protonn"]
    mcu = mcu_costs(measured, "protonn", "microblaze")
    assert mcu.estimated and mcu.unit == "instructions" and "estimate" in mcu.source
    link = costs.link_for(program, "microblaze")
    assert link.driver.estimated and "Cortex-M3" in link.driver.source
    _require("arduino-uno")
    assert not costs.link_for(program, "arduino-uno").driver.estimated


def test_uno_link_costs_per_byte_at_least_the_wire(programs) -> None:
    _require("arduino-uno")
    program, _ = programs["protonn"]
    link = costs.link_for(program, "arduino-uno")
    per_word = link.buffer_cycles(65, 1, 2, write=True) - link.buffer_cycles(1, 1, 2, write=True)
    # 64 words of 2 bytes: 16 cycles a byte on the wire plus the driver's own instructions
    assert per_word / 64 == pytest.approx(link.driver.write_per_word[1] + 16 * link.data_bytes)
    assert link.driver.write_per_word[1] > 0 and link.poll_cycles() > 16 * 8


# -- the search ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("host", costs.HOSTS)
@pytest.mark.parametrize("name", MODELS)
def test_chosen_plan_beats_or_ties_both_baselines(programs, measured, name: str, host: str) -> None:
    program, _ = programs[name]
    plan = pt.choose_partition(program, host, LANES, mcu=mcu_costs(measured, name, host))
    best = plan.prediction.total_cycles
    assert best <= plan.all_mcu.total_cycles and best <= plan.all_fpga.total_cycles
    assert set(plan.all_mcu.sides) == {MCU} and set(plan.all_fpga.sides) == {FPGA}
    assert plan.all_mcu.link_bytes == 0 and plan.all_fpga.link_bytes > 0


@pytest.mark.slow
@pytest.mark.parametrize("host", costs.HOSTS)
def test_search_equals_brute_force_over_all_protonn_partitions(programs, measured, host: str) -> None:
    program, _ = programs["protonn"]
    mcu = mcu_costs(measured, "protonn", host)
    n = len(program.kernels)
    exact = {
        sides: costs.predict(program, plan_partition(program, sides), host, LANES, mcu=mcu).total_cycles
        for sides in itertools.product((MCU, FPGA), repeat=n)
    }
    assert len(exact) == 16
    plan = pt.choose_partition(program, host, LANES, max_segments=n, mcu=mcu)
    assert plan.prediction.total_cycles == pytest.approx(min(exact.values()))
    assert exact[plan.partition.sides] == pytest.approx(min(exact.values()))


@pytest.mark.slow
def test_search_costs_equal_exact_recosting_on_bonsai(programs, measured) -> None:
    """The search's fast replay of the transfer rule and its all-segments cycle table agree with
    plan_partition + predict (an image compiled for just those segments) on sampled partitions."""
    host = "arduino-uno"
    program, _ = programs["bonsai"]
    mcu = mcu_costs(measured, "bonsai", host)
    acc = costs.all_segment_costs(program, LANES)
    tables = pt._tables(program, mcu, acc, costs.link_for(program, host))
    candidates = list(pt.candidate_spans(len(program.kernels), 2))
    for spans in random.Random(8).sample(candidates, 40):
        sides = pt.sides_of(len(program.kernels), spans)
        exact = costs.predict(program, plan_partition(program, sides), host, LANES, mcu=mcu)
        fast = pt._candidate_cycles(program, spans, tables, acc, mcu.entry_cycles)
        assert fast == pytest.approx(exact.total_cycles), spans


def test_pins_are_respected_and_cost_at_least_the_optimum(programs, measured) -> None:
    program, _ = programs["bonsai"]
    mcu = mcu_costs(measured, "bonsai", "arduino-uno")
    free = pt.choose_partition(program, "arduino-uno", LANES, mcu=mcu)
    pins = {0: MCU, 4: FPGA, 26: MCU}
    pinned = pt.choose_partition(program, "arduino-uno", LANES, pins=pins, mcu=mcu)
    assert all(pinned.partition.sides[i] == side for i, side in pins.items())
    assert pinned.prediction.total_cycles >= free.prediction.total_cycles
    assert len(pinned.partition.segments) <= 2


def test_invalid_pins_raise_clear_errors(programs) -> None:
    program, _ = programs["protonn"]
    mcu = costs.McuKernelCycles("arduino-uno", (1.0,) * 4, 0.0, 3, "cycles", False, "test")
    with pytest.raises(pt.PartitionError, match=r"within 0\.\.3, not 4"):
        pt.choose_partition(program, "arduino-uno", LANES, pins={4: MCU}, mcu=mcu)
    with pytest.raises(pt.PartitionError, match="not 'gpu'"):
        pt.choose_partition(program, "arduino-uno", LANES, pins={1: "gpu"}, mcu=mcu)
    with pytest.raises(pt.PartitionError, match="max_segments=1"):
        pt.choose_partition(
            program, "arduino-uno", LANES, pins={0: FPGA, 1: MCU, 2: FPGA}, max_segments=1, mcu=mcu
        )
    with pytest.raises(costs.UnknownHost, match="not 'esp32'"):
        pt.choose_partition(program, "esp32", LANES, mcu=mcu)
    for text, message in (
        ("3", "KERNEL=SIDE"),
        ("x=mcu", "KERNEL=SIDE"),
        ("3=gpu", "not 'gpu'"),
        ("1=mcu,1=fpga", "one side"),
    ):
        with pytest.raises(pt.PartitionError, match=message):
            pt.parse_pins(text)
    assert pt.parse_pins(" 3=mcu, 5=fpga ") == {3: MCU, 5: FPGA} and pt.parse_pins("") == {}


def test_report_section(programs, measured) -> None:
    program, _ = programs["fastgrnn"]
    plan = pt.choose_partition(
        program, "arduino-uno", LANES, pins={2: MCU}, mcu=mcu_costs(measured, "fastgrnn", "arduino-uno")
    )
    report = json.loads(json.dumps(plan.to_report()))
    assert [k["side"] for k in report["partition"]] == list(plan.partition.sides)
    assert report["partition"][2] == {"kernel": 2, "label": plan.labels[2], "side": MCU}
    assert report["predicted"]["total_cycles"] == pytest.approx(plan.prediction.total_cycles, abs=0.1)
    assert report["baselines"]["all_mcu"]["link_bytes"] == 0
    assert report["link"] == "spi" and report["pins"] == {"2": MCU}
    assert (
        sum(s["write_bytes"] + s["read_bytes"] for s in report["segments"])
        == report["predicted"]["link_bytes"]
    )
