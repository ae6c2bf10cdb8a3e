"""Make Amaranth's Verilog simulate correctly under Icarus.

Yosys' ``write_verilog`` (which Amaranth uses) writes each combinational process as ``always @*``
and, to make it run once at time zero, adds ``reg \\$auto$verilog_backend... = 0;`` that every such
block reads.  Icarus applies a declaration initialiser before any process waits on it, so no event
fires: a combinational output whose inputs never change (an FSM idling in its reset state) stays X.
Seen here as a UART ``ready`` stuck at X, which let one byte be sent twice.

The fix flips that register one time unit into the simulation, which re-runs every ``always @*``.
"""

from __future__ import annotations

import re

_AUTO_REG = re.compile(r"reg (\\\$auto\$verilog_backend\S*)\s*=\s*0;")


def for_icarus(verilog_text: str) -> str:
    """``verilog_text`` with every combinational block forced to evaluate at time 1 (unit)."""
    return _AUTO_REG.sub(lambda m: f"reg {m.group(1)} = 0;\n  initial #1 {m.group(1)} = 1;", verilog_text)
