"""Per-lane copies of shared registers (``rtl/copies.py``): kept apart by every Yosys script."""

from __future__ import annotations

import pytest

pytest.importorskip("amaranth")

from amaranth.back import verilog  # noqa: E402
from amaranth.hdl import Module, Mux, Signal  # noqa: E402
from amaranth.lib import wiring  # noqa: E402
from amaranth.lib.wiring import In, Out  # noqa: E402

import hlsfix  # noqa: E402
from hlsfix.board.resources import estimate_resources, find_yosys  # noqa: E402
from hlsfix.errors import ToolError  # noqa: E402
from hlsfix.rtl.copies import COPY_ATTR, copy_register, keep_copies_script  # noqa: E402
from hlsfix.rtl.verilog import emit_verilog  # noqa: E402
from tests.tools import tool_missing  # noqa: E402


class FourReaders(wiring.Component):
    """A 4-bit register read by four 'lanes', each through its own copy (or all through plain
    registers with the same input, which synthesis may merge); each lane reads bit 0 only."""

    def __init__(self, marked: bool) -> None:
        self.marked = marked
        super().__init__({"a": In(4), "b": In(8).array(4), "y": Out(8).array(4)})

    def elaborate(self, platform):
        m = Module()
        shared = Signal(4)
        m.d.sync += shared.eq(self.a)
        for i in range(4):
            if self.marked:
                mine = copy_register(m, shared, f"copy{i}")
            else:
                mine = Signal(4, name=f"plain{i}")
                m.d.sync += mine.eq(shared)
            m.d.comb += self.y[i].eq(Mux(mine[0], self.b[i], ~self.b[i]))
        return m


def test_only_a_design_with_copies_gets_the_extra_steps() -> None:
    assert keep_copies_script("module top; endmodule", "top") == ""
    script = keep_copies_script(f"(* {COPY_ATTR} = 32'd1 *) reg x;", "top")
    assert script.startswith("hierarchy -top top;") and "setattr -set keep 1" in script


@pytest.mark.slow
def test_copies_survive_synthesis_and_their_unread_bits_do_not(tmp_path) -> None:
    try:
        find_yosys()
    except ToolError as e:
        tool_missing(str(e))
    ffs = {}
    for marked in (False, True):
        design = tmp_path / f"readers_{marked}.v"
        design.write_text(verilog.convert(FourReaders(marked), name="readers"))
        ffs[marked] = estimate_resources(design, "readers").ff
    # plain registers of the same input merge into one (and the unread bits 1-3 go): the shared
    # bit and one copy; marked copies stay one per lane, still only bit 0 each
    assert ffs == {False: 2, True: 5}


@pytest.mark.parametrize(("lanes", "copies"), [(1, False), (2, True), (8, True)])
def test_lanes_get_their_own_microcode_words_from_2_lanes(tmp_path, lanes: int, copies: bool) -> None:
    program = hlsfix.compile("mlp", bits="16").program
    text = emit_verilog(program, lanes, tmp_path).read_text()
    assert (COPY_ATTR in text) is copies
    assert (f"ucode_row3_l{lanes - 1}" in text) is copies
