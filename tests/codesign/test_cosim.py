"""Co-simulation of the generated host C with the FPGA side's Verilog over the real link pins.

The must-show of co-design: for ProtoNN, Bonsai and FastGRNN the chosen partition's host C +
RTL is bit-exact with the golden model over SPI (Uno) and over AXI4-Lite (MicroBlaze), and no
slower in simulated end-to-end cycles than every kernel on the host or on the FPGA (6 inputs
here; the must-show's 20: ``benchmarks/bench_codesign.py --inputs 20``); split partitions (a
loop or a register crossing the link) are bit-exact too; and a host that misbehaves gets
defined errors from the RTL at once, never a hang.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import hlsfix
from hlsfix.codesign import costs
from hlsfix.codesign.flow import simulate_partition
from hlsfix.codesign.partition import choose_partition
from hlsfix.codesign.transfers import FPGA, MCU, plan_partition
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.rtl.microcode import compile_image
from tests.tools import require_tool

pytest.importorskip("cocotb_tools")

# the suite's slice; the must-show's 20 inputs per row: benchmarks/bench_codesign.py --inputs 20
N_INPUTS = 6
HOSTS = ("arduino-uno", "microblaze")
# Partitions that cut through each model: the FPGA runs a loop between host kernels (ProtoNN,
# FastGRNN), or the host computes a Select and integer registers the FPGA indexes with (Bonsai).
SPLITS = {
    "protonn": "FMFM",
    "fastgrnn": "MMFMMM",
    "bonsai": "FFFFFFFMFFFFFFMMMMMFFFFFFFF",
}


def _model(name: str, n: int):
    cm = hlsfix.compile(name)
    return cm.program, quantize_input(cm.program, cm.test[0][:n])


def _tools(host: str) -> None:
    require_tool("iverilog")
    require_tool("gcc")
    require_tool("avr-gcc" if host == "arduino-uno" else "arm-none-eabi-gcc")
    require_tool("simavr" if host == "arduino-uno" else "qemu-system-arm")


@pytest.mark.slow
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("name", ["protonn", "bonsai", "fastgrnn"])
def test_chosen_partition_is_bit_exact_and_no_slower(name, host, tmp_path):
    _tools(host)
    program, x_q = _model(name, N_INPUTS)
    mcu = costs.mcu_kernel_cycles(program, host, x_q[:5])
    plan = choose_partition(program, host, 1, mcu=mcu)
    chosen = simulate_partition(program, plan.partition, x_q, host, 1, mcu, build_dir=tmp_path / "chosen")
    assert chosen.bit_exact and chosen.checked_inputs == N_INPUTS
    n = len(program.kernels)
    all_mcu = simulate_partition(program, plan_partition(program, (MCU,) * n), x_q, host, 1, mcu)
    if plan.partition.sides == (FPGA,) * n:
        all_fpga = chosen
    else:
        all_fpga = simulate_partition(
            program, plan_partition(program, (FPGA,) * n), x_q, host, 1, mcu, build_dir=tmp_path / "fpga"
        )
        assert all_fpga.bit_exact
    assert chosen.total_cycles <= all_mcu.total_cycles
    assert chosen.total_cycles <= all_fpga.total_cycles
    # the cost model's prediction is close to what the co-simulation measured
    assert chosen.total_cycles == pytest.approx(plan.prediction.total_cycles, rel=0.10)
    assert chosen.fpga_cycles == plan.prediction.fpga_cycles


@pytest.mark.slow
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("name", sorted(SPLITS))
def test_split_partitions_are_bit_exact(name, host, tmp_path):
    _tools(host)
    program, x_q = _model(name, 4)
    sides = tuple(FPGA if c == "F" else MCU for c in SPLITS[name])
    partition = plan_partition(program, sides)
    mcu = costs.mcu_kernel_cycles(program, host, _model(name, 5)[1])
    run = simulate_partition(program, partition, x_q, host, 1, mcu, build_dir=tmp_path)
    assert run.bit_exact
    assert run.link_cycles > 0 and run.mcu_cycles > mcu.entry_cycles


@pytest.mark.slow
@pytest.mark.parametrize("host", HOSTS)
def test_misbehaving_host_gets_defined_errors_never_a_hang(host, tmp_path):
    """Malformed command / bad address, START of a missing segment, and a read of the result
    before DONE, against the real RTL; then the same link classifies every input correctly."""
    require_tool("iverilog")
    from hlsfix.sim.codesign_runner import run_codesign

    program, x_q = _model("protonn", 3)
    partition = plan_partition(program, (FPGA,) * len(program.kernels))
    image = compile_image(program, 1, segments=[s.kernels for s in partition.segments])
    loc = image.locs[program.input]
    spec = {
        "link": "spi" if host == "arduino-uno" else "axi",
        "data_bytes": (image.word_bits + 7) // 8,
        "segments": len(image.segment_entries),
        "input_base": loc.base,
        "input_scale": loc.scale,
        "output_register": image.regs[program.output],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    script = Path(__file__).with_name("scripted_host.py")
    res = run_codesign(
        program,
        partition,
        x_q,
        host,
        build_dir=tmp_path / "sim",
        host_command=[sys.executable, str(script), str(tmp_path / "spec.json")],
        pace=False,  # the read must reach the FPGA while the segment still runs
    )
    assert res.bit_exact
    assert res.outputs.tolist() == run_golden(program, x_q).output.tolist()
