"""The pragmas of the generated top function, each with the reason written next to it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.program import Buffer

INTERFACES = ("ap_memory", "s_axilite", "axis")


class UnsupportedInterface(HlsfixError):
    pass


@dataclass(frozen=True)
class Pragma:
    reason: str
    text: str


def partition_pragmas(
    partitions: dict[str, list[tuple[int, str]]], bufs: dict[str, Buffer], cname: Callable[[str], str]
) -> list[Pragma]:
    """One ARRAY_PARTITION per array read by parallel lanes: the lcm of its readers' lane counts."""
    out = []
    for buf, users in partitions.items():
        factor = math.lcm(*(f for f, _ in users))
        size = bufs[buf].size
        readers = ", ".join(sorted({r for _, r in users}))
        name = cname(buf)
        if factor >= size:
            text = f"ARRAY_PARTITION variable={name} complete dim=1"
            why = f"{name} feeds up to {factor} parallel lanes ({readers}): one register per element"
        else:
            text = f"ARRAY_PARTITION variable={name} cyclic factor={factor} dim=1"
            why = f"{name} feeds {factor} parallel lanes ({readers}): {factor} banks, one read per lane"
        out.append(Pragma(why, text))
    return out


def interface_pragmas(interface: str) -> list[Pragma]:
    if interface == "ap_memory":
        return [
            Pragma(
                "the input is read from a memory next to the kernel (BRAM port)", "INTERFACE ap_memory port=x"
            ),
            Pragma("the output is written to a memory next to the kernel", "INTERFACE ap_memory port=y"),
            Pragma("start/done/idle handshake for the caller", "INTERFACE ap_ctrl_hs port=return"),
        ]
    if interface == "s_axilite":
        return [
            Pragma(
                "a soft CPU writes the input through AXI4-Lite registers",
                "INTERFACE s_axilite port=x bundle=control",
            ),
            Pragma(
                "and reads the result back through the same AXI4-Lite slave",
                "INTERFACE s_axilite port=y bundle=control",
            ),
            Pragma(
                "start/done through the AXI4-Lite control registers",
                "INTERFACE s_axilite port=return bundle=control",
            ),
        ]
    if interface == "axis":
        return [
            Pragma(
                "the input arrives as an AXI4-Stream, one element per beat, in order", "INTERFACE axis port=x"
            ),
            Pragma("the result leaves as an AXI4-Stream, in order", "INTERFACE axis port=y"),
            Pragma("start/done handshake around each inference", "INTERFACE ap_ctrl_hs port=return"),
        ]
    raise UnsupportedInterface(f"interface must be one of {', '.join(INTERFACES)}, not {interface!r}")
