"""A functional model of the FPGA side of a split, at the register-map level (no RTL, fast).

``FunctionalAccelerator`` holds the accelerator's scratch RAM (laid out by the image's
``locs``) and its integer registers, and answers the register map of ``regmap.py``: the SPI byte
protocol, AXI4-Lite reads and writes, every error code, and BUSY for a configurable number of
STATUS polls after each START. A segment is executed at START by the golden model's kernels
(``golden.Golden``) on the RAM's contents, so what the host reads back is the golden model's
value of each tensor: a host that agrees with the golden model over this model moves the right
tensors at the right addresses.

``serve`` runs a compiled host program (``main_cosim.c`` + ``transport_cosim.c``) against a
model over the pipe of ``pipe.py``.

Faults, to test a host's error paths: ``hang`` (a segment never finishes), ``early_done``
(STATUS says DONE while the segment still runs, so the host's next access is refused with BUSY),
``corrupt_command`` (the command byte of the n-th SPI transaction arrives as 0xFF); and
``hide_resp``: AXI responses always OKAY, as a MicroBlaze program sees them (the host must find
errors in STATUS).
"""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hlsfix.codesign import pipe, regmap
from hlsfix.codesign.regmap import Error
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import Golden
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.isa import Src
from hlsfix.rtl.microcode import Image

Fault = Literal["hang", "early_done", "corrupt_command"]
_READABLE = {regmap.ID, regmap.STATUS, regmap.CYCLES, regmap.INFO}  # control words; START, CLEAR: write-only


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class _LazyMemory(dict):
    """The golden model's buffer dict, filled from the accelerator's RAM on first use."""

    def __init__(self, acc: FunctionalAccelerator) -> None:
        super().__init__()
        self.acc = acc

    def __missing__(self, name: str) -> np.ndarray:
        value = self.acc.load(name).reshape(1, -1)
        self[name] = value
        return value


class _SegmentGolden(Golden):
    """The golden model running some top-level kernels on the accelerator's state: buffers are
    read from its RAM and written through to it, registers come from and go back to it."""

    def __init__(self, acc: FunctionalAccelerator) -> None:
        super().__init__(acc.program)
        self.acc = acc

    def run_kernels(self, kernels: tuple[kp.Kernel, ...]) -> None:
        self.n = 1
        self.mem = _LazyMemory(self.acc)
        for name, data in self.p.constants.items():
            self.mem[name] = np.asarray(data, dtype=np.int64).reshape(1, -1)
        self.regs = {r: np.array([self.acc.regs[i]], dtype=np.int64) for r, i in self.acc.image.regs.items()}
        self.sat = Counter()
        self.block(kernels)
        for r, i in self.acc.image.regs.items():
            self.acc.regs[i] = _signed(int(np.asarray(self.regs[r]).reshape(-1)[0]), 32)

    def write(self, k: kp.Kernel, name: str, value: np.ndarray, saturations: int = 0) -> None:
        super().write(k, name, value, saturations)
        self.acc.store(name, self.mem[name][0])


@dataclass
class _SpiCommand:
    """One CS-low period."""

    byte: int = 0  # bytes so far
    command: int = 0
    address: int = 0
    ignore: bool = False
    word: list[int] = field(default_factory=list)  # bytes of the word being written
    out: list[int] = field(default_factory=list)  # bytes of the word being read, still to send


class FunctionalAccelerator:
    """The accelerator of ``image`` (compiled with ``segments``) as the host sees it."""

    def __init__(
        self,
        program: KernelProgram,
        image: Image,
        segments: Sequence[Sequence[int]],
        *,
        busy_polls: int = 2,
        fault: Fault | None = None,
        corrupt_at: int = 0,
        hide_resp: bool = False,
    ) -> None:
        if len(segments) != len(image.segment_entries):
            raise ValueError(f"the image has {len(image.segment_entries)} segments, not {len(segments)}")
        self.program, self.image = program, image
        self.segments = [tuple(program.kernels[i] for i in s) for s in segments]
        self.map = regmap.RegisterMap(len(segments), len(image.regs), image.ram_depth, image.word_bits)
        self.busy_polls, self.fault, self.corrupt_at = busy_polls, fault, corrupt_at
        self.hide_resp = hide_resp  # AXI responses always OKAY, as a MicroBlaze program sees them
        self.ram = [0] * image.ram_depth
        self.regs = [0] * len(image.regs)
        self.error = Error.NONE
        self.running = False
        self.done = False
        self.hidden_polls = 0  # STATUS reads still to report BUSY before the running segment ends
        self.segment = 0
        self.starts = 0
        self.spi: _SpiCommand | None = None
        self.spi_transactions = 0

    # -- RAM images of tensors ------------------------------------------------------------------
    def _words(self, name: str) -> np.ndarray:
        loc = self.image.locs[name]
        if loc.space != Src.RAM:
            raise KeyError(f"{name} is not in the accelerator's RAM")
        return loc.base + np.arange(self.program.buffer(name).size) * loc.scale

    def load(self, name: str) -> np.ndarray:
        return np.array([self.ram[w] for w in self._words(name)], dtype=np.int64)

    def store(self, name: str, values: np.ndarray) -> None:
        for w, v in zip(self._words(name), np.asarray(values).reshape(-1), strict=True):
            self.ram[w] = _signed(int(v), self.image.word_bits)

    # -- the register map -----------------------------------------------------------------------
    def latch(self, code: Error) -> Error:
        if self.error == Error.NONE:
            self.error = code
        return code

    def status(self) -> int:
        busy = self.running and self.fault != "early_done"
        done = self.done or (self.running and self.fault == "early_done")
        return (
            (regmap.STATUS_BUSY if busy else 0)
            | (regmap.STATUS_DONE if done else 0)
            | (int(self.error) << regmap.STATUS_ERROR_SHIFT)
            | (self.segment << regmap.STATUS_SEGMENT_SHIFT)
        )

    def _poll(self) -> None:
        if self.running and self.fault != "hang":
            if self.hidden_polls > 0:
                self.hidden_polls -= 1
            else:
                self.running, self.done = False, True

    def _window(self, word: int) -> tuple[list[int], int, int] | None:
        """(storage, index, bits) of a register or data-window word, None if unmapped."""
        if regmap.REG_BASE <= word < regmap.REG_BASE + self.map.registers:
            return self.regs, word - regmap.REG_BASE, 32
        if regmap.DATA_BASE <= word < regmap.DATA_BASE + self.map.ram_depth:
            return self.ram, word - regmap.DATA_BASE, self.map.ram_word_bits
        return None

    def read_word(self, word: int) -> tuple[int, Error]:
        """The value of one word, and the error of this access (latched too)."""
        if word in _READABLE:
            if word == regmap.STATUS:
                self._poll()
                return self.status(), Error.NONE
            fixed = {regmap.ID: regmap.ID_VALUE, regmap.INFO: self.map.info}
            cycles = self.image.segment_cycles[self.segment] if self.image.segment_cycles else 0
            return fixed.get(word, cycles), Error.NONE
        where = self._window(word)
        if where is None:
            return 0, self.latch(Error.BAD_ADDRESS)
        if self.running:
            return 0, self.latch(Error.BUSY)
        storage, i, _ = where
        return storage[i], Error.NONE

    def write_word(self, word: int, value: int) -> Error:
        if word == regmap.CLEAR:
            self.error = Error.NONE
            return Error.NONE
        if word == regmap.START:
            if self.running:
                return self.latch(Error.BUSY)
            if not 0 <= value < self.map.segments:
                return self.latch(Error.BAD_SEGMENT)
            self.segment, self.starts = value, self.starts + 1
            _SegmentGolden(self).run_kernels(self.segments[value])
            self.running, self.done, self.hidden_polls = True, False, self.busy_polls
            if self.busy_polls == 0 and self.fault != "hang":
                self.running, self.done = False, True
            return Error.NONE
        where = self._window(word)
        if where is None:
            return self.latch(Error.BAD_ADDRESS)
        if self.running:
            return self.latch(Error.BUSY)
        storage, i, bits = where
        storage[i] = _signed(value, bits)  # writes keep the low bits
        return Error.NONE

    # -- AXI4-Lite ------------------------------------------------------------------------------
    def mmio_read(self, byte_addr: int) -> tuple[int, int]:
        """(value, resp) of a read at ``byte_addr``: resp 0 OKAY, 2 SLVERR."""
        if byte_addr % 4 or byte_addr // 4 >= 1 << regmap.ADDR_BITS:
            self.latch(Error.BAD_ADDRESS)
            return 0, 2
        value, err = self.read_word(byte_addr // 4)
        return value & 0xFFFFFFFF, 2 if err and not self.hide_resp else 0

    def mmio_write(self, byte_addr: int, value: int) -> int:
        if byte_addr % 4 or byte_addr // 4 >= 1 << regmap.ADDR_BITS:
            self.latch(Error.BAD_ADDRESS)
            return 2
        err = self.write_word(byte_addr // 4, _signed(value, 32))
        return 2 if err and not self.hide_resp else 0

    # -- SPI ------------------------------------------------------------------------------------
    def _word_bytes(self, word: int) -> int:
        return self.map.data_bytes if word >= regmap.DATA_BASE else 4

    def spi_select(self) -> None:
        self.spi = _SpiCommand()
        self.spi_transactions += 1

    def spi_deselect(self) -> None:
        self.spi = None  # a partial word is dropped

    def spi_transfer(self, mosi: int) -> int:
        """One byte: MOSI in, MISO out."""
        c = self.spi
        if c is None or c.ignore:
            return 0
        c.byte += 1
        if c.byte == 1:
            if self.fault == "corrupt_command" and self.spi_transactions == self.corrupt_at:
                mosi = 0xFF
            c.command = mosi
            if mosi not in (regmap.SPI_WRITE, regmap.SPI_READ):
                self.latch(Error.BAD_COMMAND)
                c.ignore = True
            return 0
        if c.byte <= 3:
            c.address = (c.address << 8) | mosi
            return 0
        if c.command == regmap.SPI_READ:
            if c.byte == 4:
                return int(self.error) or (int(Error.BUSY) if self.running else 0)
            if not c.out:
                value, _ = self.read_word(c.address)
                c.out = [(value >> (8 * b)) & 0xFF for b in reversed(range(self._word_bytes(c.address)))]
                c.address += 1
            return c.out.pop(0)
        c.word.append(mosi)
        if len(c.word) == self._word_bytes(c.address):
            self.write_word(c.address, _signed(int.from_bytes(bytes(c.word), "big"), 8 * len(c.word)))
            c.word, c.address = [], c.address + 1
        return 0


@dataclass
class CosimLog:
    """What a host did over the pipe."""

    inferences: int = 0  # J markers
    spi_bytes: int = 0
    mmio_accesses: int = 0
    starts: int = 0
    finished: bool = False  # the host sent E
    timed_out: bool = False


def serve(
    process: subprocess.Popen[str], model: FunctionalAccelerator, *, timeout_s: float = 60.0
) -> CosimLog:
    """Answer the requests of ``process`` (started with text pipes on stdin and stdout) from
    ``model`` until it sends ``E`` or exits. A host still talking after ``timeout_s`` is killed
    (``timed_out``), so a hung host or accelerator never hangs the caller."""
    assert process.stdin is not None and process.stdout is not None
    log = CosimLog()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    watchdog = threading.Timer(timeout_s, kill)
    watchdog.start()
    try:
        for line in process.stdout:
            req = pipe.parse_request(line)
            reply = None
            if req.op == "S":
                model.spi_select()
            elif req.op == "D":
                model.spi_deselect()
            elif req.op == "X":
                log.spi_bytes += 1
                reply = pipe.format_spi_reply(model.spi_transfer(req.args[0]))
            elif req.op == "R":
                log.mmio_accesses += 1
                reply = pipe.format_read_reply(*model.mmio_read(req.args[0]))
            elif req.op == "W":
                log.mmio_accesses += 1
                reply = pipe.format_write_reply(model.mmio_write(*req.args))
            elif req.op == "J":
                log.inferences += 1
            elif req.op == "E":
                log.finished = True
                break
            if reply is not None:
                try:
                    process.stdin.write(reply)
                    process.stdin.flush()
                except BrokenPipeError:
                    break
    except BaseException:
        process.kill()
        raise
    finally:
        watchdog.cancel()
    log.timed_out = killed.is_set()
    log.starts = model.starts
    return log
