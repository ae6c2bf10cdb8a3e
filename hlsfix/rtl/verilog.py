"""Verilog of the accelerator for one program, through Amaranth's builtin Yosys."""

from __future__ import annotations

import re
from pathlib import Path

from amaranth.back import verilog

from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.accelerator import Accelerator
from hlsfix.rtl.microcode import Image, compile_image

TOP = "hlsfix_accel"


def emit_verilog(program: KernelProgram, lanes: int, out_dir: Path, *, image: Image | None = None) -> Path:
    """Write ``hlsfix_accel.v`` (top module ``hlsfix_accel``) into ``out_dir`` and return its path."""
    image = image or compile_image(program, lanes)
    return write_verilog(Accelerator(image), TOP, out_dir)


def write_verilog(top, name: str, out_dir: Path) -> Path:
    """Convert the component ``top`` to ``out_dir/<name>.v`` (module ``name``); its path."""
    text = _wake_combinational(verilog.convert(top, name=name, emit_src=False))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.v"
    path.write_text(text)
    return path


def _wake_combinational(text: str) -> str:
    """Yosys makes every ``always @*`` block evaluate once at time 0 by reading a dummy register
    initialised in its declaration; Icarus 11 applies such initialisers without an event, so blocks
    whose inputs never change (an FSM output in its reset state) would stay X. Assigning the dummy
    1 ns into the simulation gives the event. Synthesis ignores initial blocks of this kind."""
    return re.sub(
        r"reg (\\\$auto\$verilog_backend\S+)\s+= 0;",
        lambda m: f"reg {m.group(1)} ;\n  initial #1 {m.group(1)} = 1'h0;",
        text,
    )
