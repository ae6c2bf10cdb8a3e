"""The accelerator's host port (co-design): segments run one at a time, the host moving tensors.

The host side of each partition is played by the golden model stepped kernel by kernel, so a
segment's inputs are what the MCU would have computed at that point (a loop-carried buffer such
as ProtoNN's running sum differs from its final value)."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator

import hlsfix
from hlsfix.codesign.transfers import FPGA, MCU, plan_partition
from hlsfix.fixedpoint.golden import Golden, quantize_input, run_golden
from hlsfix.rtl.accelerator import Accelerator, check_segments
from hlsfix.rtl.microcode import compile_image


def _program_and_inputs(name: str, n: int):
    cm = hlsfix.compile(name)
    return cm.program, quantize_input(cm.program, cm.test[0][:n])


def _run_partition(program, x_q: np.ndarray, sides: tuple[str, ...], lanes: int = 1):
    """Outputs of the accelerator in amaranth.sim for each input row, with the MCU kernels run by
    the golden model, and the cycles each segment took (start to idle)."""
    partition = plan_partition(program, sides)
    image = compile_image(program, lanes, segments=[s.kernels for s in partition.segments])
    dut = Accelerator(image, host_port=True)
    host = dut.host
    outputs: list[int] = []
    seg_cycles: list[int] = []
    registers = set(program.registers)

    def address(ctx, name: str, j: int) -> None:
        """Point the host port at element j of a buffer, or at a register."""
        if name in registers:
            ctx.set(host.addr, image.regs[name])
        else:
            loc = image.locs[name]
            ctx.set(host.addr, loc.base + j * loc.scale)
        ctx.set(host.reg, name in registers)

    async def bench(ctx):
        for row in x_q:
            g = Golden(program)
            g.begin(row[None, :])
            on_fpga: dict[str, np.ndarray] = {}
            for i, side in enumerate(sides):
                seg = partition.segment_before(i)
                if seg is not None:
                    for name in seg.writes:
                        values = g.regs[name] if name in registers else g.mem[name][0]
                        for j, v in enumerate(np.atleast_1d(values)):
                            address(ctx, name, j)
                            ctx.set(host.wdata, int(v))
                            ctx.set(host.we, 1)
                            await ctx.tick()
                        ctx.set(host.we, 0)
                    ctx.set(host.segment, seg.index)
                    ctx.set(host.start, 1)
                    await ctx.tick()
                    ctx.set(host.start, 0)
                    cycles = 1
                    while ctx.get(host.busy):
                        await ctx.tick()
                        cycles += 1
                        assert cycles < 200_000, "segment never finished"
                    seg_cycles.append(cycles)
                    for name in seg.reads:
                        size = 1 if name in registers else program.buffer(name).size
                        values = []
                        for j in range(size):
                            address(ctx, name, j)
                            ctx.set(host.re, 1)
                            await ctx.tick()
                            ctx.set(host.re, 0)
                            values.append(ctx.get(host.rdata))
                        on_fpga[name] = np.array(values, dtype=np.int64)
                        if name in registers:
                            g.regs[name] = on_fpga[name]
                        else:
                            g.mem[name] = on_fpga[name][None, :]
                if side == MCU:
                    g.block((program.kernels[i],))
            out = g.regs[program.output] if program.output_is_class else g.mem[program.output]
            outputs.append(int(np.ravel(out)[0]))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(outputs), seg_cycles, image


@pytest.mark.parametrize(
    "sides",
    # every kernel on the FPGA: tests/codesign/test_link.py, through the SPI and AXI links too
    [
        (FPGA, MCU, FPGA, MCU),  # the loop on the FPGA, its accumulator filled by the host
        (MCU, FPGA, FPGA, MCU),
    ],
)
@pytest.mark.slow
def test_protonn_segments_match_golden(sides):
    program, x_q = _program_and_inputs("protonn", 2)  # each input ~15 s of Amaranth simulation
    outputs, seg_cycles, image = _run_partition(program, x_q, sides)
    assert outputs.tolist() == run_golden(program, x_q).output.tolist()
    # every segment takes exactly the schedule's predicted cycles (START to idle), every input
    assert seg_cycles == image.segment_cycles * len(x_q)


def test_bonsai_register_crosses_the_link():
    program, x_q = _program_and_inputs("bonsai", 2)
    k = len(program.kernels)
    # Select (7) on the MCU between two FPGA segments: its register r_sel goes back to the FPGA
    sides = tuple(MCU if i in (7, 14, 15, 16, 17, 18) else FPGA for i in range(k))
    partition = plan_partition(program, sides)
    assert any(any(n in program.registers for n in s.writes) for s in partition.segments)
    outputs, _, _ = _run_partition(program, x_q, sides)
    assert outputs.tolist() == run_golden(program, x_q).output.tolist()


def test_bad_segment_lists_are_refused():
    program, _ = _program_and_inputs("protonn", 1)
    with pytest.raises(ValueError, match="consecutive"):
        compile_image(program, 1, segments=[[0, 2]])
    with pytest.raises(ValueError, match="consecutive"):
        compile_image(program, 1, segments=[[7]])
    with pytest.raises(ValueError, match="one segment"):  # what Accelerator(image) checks first
        check_segments(compile_image(program, 1, segments=[[0], [2]]), host_port=False)
    check_segments(compile_image(program, 1, segments=[[0], [2]]), host_port=True)
