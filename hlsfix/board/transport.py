"""Byte transports the host client talks through: a real serial port, or (in ``sim_transport``) the
simulated board's UART pins.  The client sees only ``write`` and ``read``, so the protocol code that
runs against the board is the code the simulation tests."""

from __future__ import annotations

from typing import Protocol

from hlsfix.errors import BoardError


class Transport(Protocol):
    def write(self, data: bytes) -> None:
        """Send all of ``data``."""

    def read(self, n: int, timeout: float) -> bytes:
        """Up to ``n`` bytes; fewer only when ``timeout`` seconds passed first."""


class SerialTransport:
    """A USB-UART (the Arty's FTDI port appears as /dev/ttyUSB1 on Linux) through pyserial, 8N1."""

    def __init__(self, port: str, baud: int = 115_200) -> None:
        try:
            import serial
        except ImportError:
            raise BoardError(
                "pyserial must be installed to talk to a board (pip install 'hlsfix[board]')"
            ) from None
        self.port = port
        try:
            self._serial = serial.Serial(port, baud, bytesize=8, parity="N", stopbits=1, timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as e:
            # pyserial's messages can span lines; the CLI prints exactly one.
            reason = " ".join(str(e).split())
            raise BoardError(f"serial port must exist and be openable, not {port!r} ({reason})") from None
        # Bytes left over from an earlier, interrupted exchange would be read as this one's answer.
        self._serial.reset_input_buffer()

    def write(self, data: bytes) -> None:
        self._serial.write(data)
        self._serial.flush()

    def read(self, n: int, timeout: float) -> bytes:
        self._serial.timeout = timeout
        return bytes(self._serial.read(n))

    def close(self) -> None:
        self._serial.close()

    def __enter__(self) -> SerialTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
