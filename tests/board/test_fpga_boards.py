"""Board descriptions and their amaranth-boards platforms."""

from __future__ import annotations

import pytest

from hlsfix.board.fpga_boards import FPGA_BOARDS, get_fpga_board
from hlsfix.errors import BoardError


def test_arty_a7_35():
    board = get_fpga_board("arty-a7-35")
    assert board.part == "xc7a35ticsg324-1L"
    assert (board.device, board.package, board.speed) == ("xc7a35t", "csg324", "-1L")
    assert (board.capacity.lut, board.capacity.ff, board.capacity.dsp, board.capacity.bram36) == (
        20_800,
        41_600,
        90,
        50,
    )
    assert board.clock_hz == 100_000_000


def test_arty_a7_100():
    board = get_fpga_board("arty-a7-100")
    assert board.part == "xc7a100tcsg324-1"
    assert (board.capacity.lut, board.capacity.ff, board.capacity.dsp, board.capacity.bram36) == (
        63_400,
        126_800,
        240,
        135,
    )


def test_arty_a7_means_the_35t():
    assert get_fpga_board("arty-a7") is FPGA_BOARDS["arty-a7-35"]


def test_an_unknown_board_is_one_line_naming_the_known_ones():
    with pytest.raises(BoardError) as e:
        get_fpga_board("x")
    assert str(e.value) == "board must be one of arty-a7-35, arty-a7-100, ulx3s, icebreaker, arty-a7, not 'x'"


@pytest.mark.parametrize("name", ["arty-a7-35", "arty-a7-100"])
def test_platform_matches_the_description(name):
    board = get_fpga_board(name)
    platform = board.platform()
    assert type(platform).__name__ == board.platform_class
    assert platform.default_clk_frequency == board.clock_hz
    assert platform.package.lower() == board.package
    # amaranth-boards names the 35T part "xc7a35ti" (the industrial-grade -1L variant).
    assert platform.device.startswith(board.device)
