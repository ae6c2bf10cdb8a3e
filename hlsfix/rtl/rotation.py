"""The banked scratch RAM's rotation network (``scratch.py``): where every access of a port group
is a lane stride of 0 or 1, the lanes reach the P banks through log2 P levels of 2:1 multiplexers
instead of a crossbar of P-input multiplexers per bank and per port.

A beat's lanes access a common base plus a per-lane offset. With lane stride 1, lane p's word
``base + p`` lies in bank ``(base + p) mod P`` at row ``base div P``, plus one where the bank is
below ``base mod P``: the banks' rows come from the base alone, and lane p's data is bank
``(p + base) mod P``'s, a rotation by ``base mod P``. With lane stride 0 every lane takes lane 0's.
Writes need only that every lane writing in a cycle writes bank ``(p + r) mod P`` for one ``r``
(each lane's row travels with its data): then bank b takes lane ``(b - r) mod P``'s write, and
``r`` is any writing lane's bank minus its lane (an AND-OR over the lanes, as they agree).

The compile-time checks (``rotation_plan.py``) say which of the writes and the two read groups
qualify; the others keep ``scratch.py``'s crossbars.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal


def rotate(m: Module, name: str, values: list, shift, step: int) -> list[Signal]:
    """``out[i] = values[(i + step·shift) mod n]`` (n a power of two, ``step`` ±1): one level of
    2:1 multiplexers per bit of ``shift``. ``shift`` may be a list of n copies of one value: the
    multiplexers of output i then read copy i."""
    n, level = len(values), list(values)
    shifts = shift if isinstance(shift, list) else [shift] * n
    for j in range(len(shifts[0])):
        d = step << j
        nxt = []
        for i in range(n):
            s = Signal(len(level[i]), name=f"{name}{j}_{i}")
            m.d.comb += s.eq(Mux(shifts[i][j], level[(i + d) % n], level[i]))
            nxt.append(s)
        level = nxt
    return level
