"""The co-simulation pipe: how a compiled host program talks to a simulated accelerator.

The host process (``main_cosim.c`` + ``transport_cosim.c``) speaks on its stdout and listens on
its stdin, one ASCII line per message; the simulator (``functional.serve``, or an RTL testbench)
holds the other ends. Numbers are hexadecimal, except inference numbers and responses (decimal).

=====================  ==========================  =============================================
host → simulator       reply                       meaning
=====================  ==========================  =============================================
``S``                  none                        SPI chip select low (a command begins)
``X hh``               ``hh``                      one SPI byte out (MOSI); the reply is MISO
``D``                  none                        SPI chip select high (the command ends)
``R aaaaaaaa``         ``vvvvvvvv r``              AXI4-Lite read of byte address a: value, resp
``W aaaaaaaa vvvvvvvv``  ``r``                     AXI4-Lite write: resp (0 OKAY, 2 SLVERR)
``I n``                none                        inference n begins
``J n``                none                        inference n ends
``E``                  none                        no more requests: the simulator may stop
=====================  ==========================  =============================================

The host flushes after every line that expects a reply (and so also sends the lines before it),
so the simulator always sees the requests in order and never waits for a line that is buffered.
Everything the host prints for people goes to stderr.
"""

from __future__ import annotations

from dataclasses import dataclass

OPS = ("S", "X", "D", "R", "W", "I", "J", "E")
ARITY = {"S": 0, "X": 1, "D": 0, "R": 1, "W": 2, "I": 1, "J": 1, "E": 0}
REPLIES = frozenset({"X", "R", "W"})  # requests the host waits on


class PipeError(ValueError):
    """A line that is not a request of the protocol."""


@dataclass(frozen=True)
class Request:
    op: str  # one of OPS
    args: tuple[int, ...] = ()

    @property
    def needs_reply(self) -> bool:
        return self.op in REPLIES


def parse_request(line: str) -> Request:
    """One host line (with or without its newline) → Request."""
    fields = line.split()
    if not fields or fields[0] not in OPS:
        raise PipeError(f"a request must start with one of {' '.join(OPS)}, not {line.strip()!r}")
    op, raw = fields[0], fields[1:]
    if len(raw) != ARITY[op]:
        raise PipeError(f"request {op} must have {ARITY[op]} fields, not {len(raw)}: {line.strip()!r}")
    base = 10 if op in ("I", "J") else 16
    try:
        args = tuple(int(f, base) for f in raw)
    except ValueError as e:
        raise PipeError(f"bad number in {line.strip()!r}") from e
    if op == "X" and not 0 <= args[0] <= 0xFF:
        raise PipeError(f"an SPI byte must be within 00..ff, not {raw[0]}")
    return Request(op, args)


def format_request(req: Request) -> str:
    """The line the host sends for ``req`` (the C side's format, for tests and tools)."""
    if req.op == "X":
        return f"X {req.args[0]:02x}\n"
    if req.op in ("R", "W"):
        return " ".join([req.op, *(f"{a & 0xFFFFFFFF:08x}" for a in req.args)]) + "\n"
    return " ".join([req.op, *(str(a) for a in req.args)]) + "\n"


def format_spi_reply(miso: int) -> str:
    return f"{miso & 0xFF:02x}\n"


def format_read_reply(value: int, resp: int) -> str:
    return f"{value & 0xFFFFFFFF:08x} {resp}\n"


def format_write_reply(resp: int) -> str:
    return f"{resp}\n"
