# amaranth: UnusedElaboratable=no
# (components made here only to be refused are never elaborated)
"""BoardTop on the amaranth-boards Arty platform (without Vivado), and BoardCore's checks."""

from __future__ import annotations

import pytest
from amaranth import Module, signed
from amaranth.back import verilog
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hlsfix.board.fpga_boards import get_fpga_board
from hlsfix.board.top import BoardCore, BoardTop, accelerator_streams
from hlsfix.errors import BoardError
from tests.board.standin import SumAccelerator


@pytest.mark.parametrize("name", ["arty-a7-35", "arty-a7-100"])
def test_board_top_builds_a_vivado_plan_with_the_arty_pins(name):
    board = get_fpga_board(name)
    top = BoardTop(lambda: SumAccelerator(8, 16), name)
    plan = board.platform().build(top, name="hlsfix_top", do_build=False)
    files = plan.files
    assert "hlsfix_top.v" in files
    xdc = files["hlsfix_top.xdc"]
    for pin in ("A9", "D10", "D9", "H5", "J5", "T9", "T10", "E3"):  # uart rx/tx, btn0, 4 LEDs, clock
        assert f"LOC {pin} " in xdc, pin
    assert board.device in files["hlsfix_top.tcl"]


def test_an_impossible_baud_is_refused_when_the_top_is_made():
    with pytest.raises(BoardError, match="baud rate must be"):
        BoardTop(lambda: SumAccelerator(8), "arty-a7", baud=50_000_000)


class TwoInputs(wiring.Component):
    def __init__(self) -> None:
        sig = stream.Signature(signed(8))
        super().__init__({"a": In(sig), "b": In(sig), "out": Out(stream.Signature(8))})

    def elaborate(self, platform):
        return Module()


def test_the_accelerator_must_have_one_stream_each_way():
    assert accelerator_streams(SumAccelerator(4)) == ("input", "output")
    with pytest.raises(BoardError, match=r"one output stream, not inputs \['a', 'b'\], outputs"):
        accelerator_streams(TwoInputs())


def test_the_input_count_comes_from_the_accelerator_or_the_caller():
    def anonymous():
        accel = SumAccelerator(4)
        del accel.n_inputs  # an accelerator that does not say how many inputs it takes
        return accel

    with pytest.raises(BoardError, match="input count"):
        verilog.convert(BoardCore(anonymous, clk_hz=10_000_000), name="core")
    verilog.convert(BoardCore(anonymous, clk_hz=10_000_000, n_inputs=4), name="core")
