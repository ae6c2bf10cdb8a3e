"""A ``Transport`` onto a simulated board's UART pins, for cocotb.

The host client (``BoardClient``) is blocking code; cocotb runs coroutines.  The client therefore
runs in a thread started with ``cocotb.task.bridge``, and this transport's ``write``/``read`` hand
their work back to the simulator with ``cocotb.task.resume``.  The same client code that talks to
the real board through ``SerialTransport`` is what the simulation exercises.

Timeouts: the client counts in seconds of a real serial line.  Simulating a whole second of a
10 MHz design would take minutes, so a timeout of ``t`` seconds waits ``t * timeout_scale``
simulated seconds (1 ms per second by default; far longer than any answer at simulation baud rates).
"""

from __future__ import annotations

import cocotb
from cocotb.handle import SimHandleBase
from cocotb.simtime import get_sim_time
from cocotb.task import resume
from cocotb.triggers import Event, FallingEdge, First, Timer


class CocotbUartTransport:
    """Drives ``rx_pin`` bit by bit (8N1) and decodes ``tx_pin``, both at ``baud``.

    Create it inside a cocotb test (it starts a task watching ``tx_pin``); call ``write`` and
    ``read`` only from a function run with ``cocotb.task.bridge``.
    """

    def __init__(
        self, rx_pin: SimHandleBase, tx_pin: SimHandleBase, baud: int, *, timeout_scale: float = 1e-3
    ):
        self.rx_pin = rx_pin
        self.tx_pin = tx_pin
        self.bit_ps = round(1e12 / baud)
        self.timeout_scale = timeout_scale
        self.framing_errors = 0  # bytes from the board whose stop bit was low
        self._received = bytearray()
        self._arrived = Event()
        rx_pin.value = 1  # idle line
        self._watcher = cocotb.start_soon(self._watch_tx())

    async def _bit_time(self, bits: float = 1.0) -> None:
        await Timer(round(self.bit_ps * bits), unit="ps", round_mode="round")

    async def _watch_tx(self) -> None:
        while True:
            await FallingEdge(self.tx_pin)
            await self._bit_time(1.5)  # to the middle of data bit 0
            byte = 0
            for i in range(8):
                byte |= int(self.tx_pin.value) << i
                await self._bit_time()
            if int(self.tx_pin.value) != 1:
                self.framing_errors += 1
                continue
            self._received.append(byte)
            self._arrived.set()

    async def _send(self, data: bytes) -> None:
        for byte in data:
            for bit in (0, *((byte >> i) & 1 for i in range(8)), 1):
                self.rx_pin.value = bit
                await self._bit_time()

    async def _read(self, n: int, timeout: float) -> bytes:
        deadline = get_sim_time("ps") + round(timeout * self.timeout_scale * 1e12)
        while len(self._received) < n:
            remaining = deadline - get_sim_time("ps")
            if remaining <= 0:
                break
            self._arrived.clear()
            await First(self._arrived.wait(), Timer(remaining, unit="ps", round_mode="round"))
        data = bytes(self._received[:n])
        del self._received[:n]
        return data

    def write(self, data: bytes) -> None:
        resume(self._send)(bytes(data))

    def read(self, n: int, timeout: float) -> bytes:
        return resume(self._read)(n, timeout)

    def close(self) -> None:
        self._watcher.cancel()
