"""A scripted host for the co-simulation testbench: misbehaves on purpose, then classifies.

Run by ``sim/tb_codesign.py`` in place of the generated host C (it speaks the same pipe protocol
on stdin/stdout): ``scripted_host.py SPEC.json INPUTS OUTPUTS``. Against the real RTL it checks
that a malformed SPI command, an unaligned or unmapped AXI access, a START of a segment that does
not exist, and a read of the result before the accelerator is done each get their defined error
(status byte, SLVERR, the sticky code in STATUS) at once — then recovers and classifies every
input with raw link accesses. Any deviation exits with status 1 and the reason on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ID, STATUS, START, CLEAR = 0, 1, 2, 3
REG_BASE, DATA_BASE = 0x100, 0x1000
BAD_COMMAND, BAD_ADDRESS, BUSY, BAD_SEGMENT = 1, 2, 3, 4
STATUS_BUSY, STATUS_DONE = 1, 2
MAX_POLLS = 1000


def send(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def reply() -> str:
    line = sys.stdin.readline()
    if not line:
        sys.exit("the simulator closed the pipe")
    return line.strip()


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"scripted host: {what}")


class Spi:
    def __init__(self, data_bytes: int) -> None:
        self.data_bytes = data_bytes

    def transaction(self, out: list[int]) -> list[int]:
        send("S")
        got = []
        for b in out:
            send(f"X {b:02x}")
            got.append(int(reply(), 16))
        send("D")
        return got

    def width(self, word: int) -> int:
        return self.data_bytes if word >= DATA_BASE else 4

    def read(self, word: int) -> tuple[int, int]:
        """(value, status byte) of one word."""
        n = self.width(word)
        got = self.transaction([0x03, word >> 8, word & 0xFF, 0] + [0] * n)
        value = int.from_bytes(bytes(got[4:]), "big")
        if value >> (8 * n - 1):
            value -= 1 << (8 * n)
        return value, got[3]

    def write(self, word: int, value: int) -> None:
        n = self.width(word)
        self.transaction([0x02, word >> 8, word & 0xFF, *(value & ((1 << 8 * n) - 1)).to_bytes(n, "big")])


class Axi:
    def read(self, word: int, byte_offset: int = 0) -> tuple[int, int]:
        send(f"R {4 * word + byte_offset:08x}")
        value, resp = reply().split()
        v = int(value, 16)
        return (v - (1 << 32) if v >> 31 else v), int(resp)

    def write(self, word: int, value: int) -> int:
        send(f"W {4 * word:08x} {value & 0xFFFFFFFF:08x}")
        return int(reply())


def error_of(bus) -> int:
    return (bus.read(STATUS)[0] >> 8) & 0xFF


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    lines = Path(sys.argv[2]).read_text().splitlines()
    inputs = [[int(v) for v in line.split()] for line in lines if line.strip()]
    spi = spec["link"] == "spi"
    bus = Spi(spec["data_bytes"]) if spi else Axi()
    check(bus.read(ID)[0] == 0x484C5346, "ID must read 'HLSF'")

    # malformed requests: each answered at once with its error, none sticks after CLEAR
    if spi:
        got = bus.transaction([0x7E, 0x00, 0x00, 0x00, 0x00])
        check(got == [0] * 5, f"MISO must stay 0 after an unknown command, not {got}")
        check(error_of(bus) == BAD_COMMAND, "an unknown SPI command must set BAD_COMMAND")
    else:
        check(bus.read(STATUS, byte_offset=2)[1] == 2, "an unaligned read must be SLVERR")
        check(error_of(bus) == BAD_ADDRESS, "an unaligned read must set BAD_ADDRESS")
        bus.write(CLEAR, 0)
        check(bus.read(0x50)[1] == 2, "a read of an unmapped word must be SLVERR")
    bus.write(CLEAR, 0)
    bus.write(START, spec["segments"] + 3)
    check(error_of(bus) == BAD_SEGMENT, "START of a missing segment must set BAD_SEGMENT")
    bus.write(CLEAR, 0)
    check(error_of(bus) == 0, "CLEAR must clear the error code")

    base, scale = spec["input_base"], spec["input_scale"]
    with open(sys.argv[3], "w") as out:
        for n, row in enumerate(inputs):
            send(f"I {n}")
            for i, v in enumerate(row):
                bus.write(DATA_BASE + base + i * scale, v)
            bus.write(START, 0)
            # read the result before the accelerator is done: refused at once, not waited for
            value, status = bus.read(REG_BASE + spec["output_register"])
            if spi:
                check(status == BUSY, f"a read during a run must return status byte BUSY, not {status}")
            else:
                check(status == 2, f"a read during a run must be SLVERR, not {status}")
            check(value == 0, f"a refused read must return 0, not {value}")
            polls = 0
            while True:
                word, _ = bus.read(STATUS)
                if not word & STATUS_BUSY:
                    break
                polls += 1
                check(polls < MAX_POLLS, "the accelerator must finish")
            check(word & STATUS_DONE, "STATUS must say DONE after the run")
            check((word >> 8) & 0xFF == BUSY, "the refused read must have left BUSY in STATUS")
            bus.write(CLEAR, 0)
            value, status = bus.read(REG_BASE + spec["output_register"])
            check(status == 0, f"the read after DONE must succeed, not {status}")
            send(f"J {n}")
            out.write(f"{value}\n")
    send("E")


if __name__ == "__main__":
    main()
