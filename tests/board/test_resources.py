"""Resource estimates by Yosys synth_xilinx, and the fit check against a board."""

from __future__ import annotations

import pytest
from amaranth import Module, Signal, signed
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hlsfix.board.fpga_boards import get_fpga_board
from hlsfix.board.resources import Resources, check_fit, count_resources, estimate_resources, find_yosys
from hlsfix.board.top import BoardCore
from hlsfix.errors import BoardError, ToolError
from tests.board.standin import SumAccelerator
from tests.tools import tool_missing

ARTY = get_fpga_board("arty-a7-35")


def test_cells_are_summed_by_kind():
    cells = {"LUT1": 2, "LUT6": 5, "SRLC32E": 1, "RAM64M": 2, "FDRE": 10, "FDCE": 3, "DSP48E1": 2}
    cells |= {"RAMB36E1": 1, "RAMB18E1": 3, "CARRY4": 7, "IBUF": 9, "MUXF7": 4}
    got = count_resources(cells, "test")
    assert (got.lut, got.ff, got.dsp, got.bram36, got.estimator) == (16, 13, 2, 2.5, "test")
    # the RAM primitives, by type: what the report lists beside each memory
    assert got.memory_cells == (("RAM64M", 2), ("RAMB18E1", 3), ("RAMB36E1", 1))


def test_a_design_within_the_margin_fits():
    utilisation = check_fit(Resources(18_000, 100, 81, 45, "test"), ARTY)
    assert utilisation["DSP48E1"] == pytest.approx(0.9)


def test_what_overflows_is_named_with_the_excess():
    with pytest.raises(BoardError) as e:
        check_fit(Resources(lut=20_000, ff=100, dsp=100, bram36=10, estimator="test"), ARTY)
    message = str(e.value)
    assert message.startswith("design must fit arty-a7-35 (xc7a35ticsg324-1L) within 90% of each resource")
    assert "LUT 20000 > 18720 by 1280" in message
    assert "DSP48E1 100 > 81 by 19" in message
    assert "FF" not in message and "BRAM36" not in message


def test_a_missing_design_file_is_refused(tmp_path):
    with pytest.raises(ToolError, match="design Verilog must be a file"):
        estimate_resources(tmp_path / "none.v", "top")


class RegisteredMultiplier(wiring.Component):
    """16x16 signed multiply with registered inputs and output: one DSP48E1 and nothing else."""

    def __init__(self) -> None:
        super().__init__({"a": In(signed(16)), "b": In(signed(16)), "p": Out(signed(32))})

    def elaborate(self, platform):
        m = Module()
        ra, rb = Signal(signed(16)), Signal(signed(16))
        m.d.sync += [ra.eq(self.a), rb.eq(self.b), self.p.eq(ra * rb)]
        return m


def yosys_or_skip():
    try:
        return find_yosys()
    except ToolError as e:
        tool_missing(str(e))


@pytest.mark.slow
def test_a_registered_multiplier_is_one_dsp(tmp_path):
    yosys_or_skip()
    design = tmp_path / "mul.v"
    design.write_text(verilog.convert(RegisteredMultiplier(), name="mul16"))
    used = estimate_resources(design, "mul16")
    assert used.dsp == 1
    assert used.bram36 == 0
    assert used.lut <= 2  # the registers go into the DSP's A/B/P registers
    assert "synth_xilinx" in used.estimator


@pytest.mark.slow
def test_the_board_core_with_the_standin_is_small(tmp_path):
    yosys_or_skip()
    core = BoardCore(lambda: SumAccelerator(16, 16), clk_hz=ARTY.clock_hz, baud=115_200)
    design = tmp_path / "board_core.v"
    design.write_text(verilog.convert(core, name="board_core"))
    used = estimate_resources(design, "board_core")
    print(used)
    # UART, framer and the 16-element input buffer: a few hundred cells; no DSP; the buffer is
    # small enough for distributed RAM or registers rather than a block RAM.
    assert 50 <= used.lut <= 600
    assert 40 <= used.ff <= 400
    assert used.dsp == 0
    assert used.bram36 <= 0.5
    check_fit(used, ARTY)
