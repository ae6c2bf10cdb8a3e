"""The host <-> board frame protocol over the UART: the one definition, used by the host client,
by the tests, and (its constants) by the board's framer in ``hlsfix.board.uart``.

Host -> board (a request)::

    0xA5  len_lo  len_hi  payload[len]  checksum

Board -> host (a response)::

    0x5A  status  len_lo  len_hi  payload[len]  checksum

``len`` counts payload bytes, little-endian.  The checksum makes the 8-bit sum of every byte
after the sync byte, checksum included, equal to zero (so it is the two's complement of the
sum of the others).  The constant sync byte is left out of the sum: it carries no data.

An empty request (``len`` 0) asks which program the board holds: the answer has status IDENTITY and
the program's fingerprint as its payload (``FINGERPRINT_BYTES`` bytes, the hex digits' bytes in
order), so the host can refuse to send inputs to a board programmed with another model.

The request payload is the model input: each element in two's complement, little-endian, in
``ceil(bits / 8)`` bytes.  The response payload of an OK frame holds the accelerator's output
elements in the same layout (sign-extended to whole bytes); error responses have no payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from hlsfix.errors import BoardError

REQUEST_SYNC = 0xA5
RESPONSE_SYNC = 0x5A
REQUEST_HEADER_BYTES = 3  # sync, len_lo, len_hi
RESPONSE_HEADER_BYTES = 4  # sync, status, len_lo, len_hi
MAX_PAYLOAD = 0xFFFF


class Status(IntEnum):
    """The board's verdict on a request."""

    OK = 0
    BAD_CHECKSUM = 1
    BAD_LENGTH = 2  # the length field is not the model's input size
    TRUNCATED = 3  # the line went quiet inside a frame
    IDENTITY = 4  # the answer to an empty request: the program's fingerprint


FINGERPRINT_BYTES = 8


def fingerprint_to_bytes(fingerprint: str) -> bytes:
    """The 16 hex digits of a program fingerprint as the 8 bytes a board sends."""
    try:
        data = bytes.fromhex(fingerprint)
    except ValueError:
        data = b""
    if len(data) != FINGERPRINT_BYTES:
        raise BoardError(f"fingerprint must be {2 * FINGERPRINT_BYTES} hex digits, not {fingerprint!r}")
    return data


def element_bytes(bits: int) -> int:
    """Bytes one element of ``bits`` bits occupies in a frame."""
    if bits < 1:
        raise BoardError(f"element width must be at least 1 bit, not {bits}")
    return (bits + 7) // 8


def checksum(data: Iterable[int]) -> int:
    """The byte that brings the 8-bit sum of ``data`` plus itself to zero."""
    return -sum(data) & 0xFF


def encode_elements(values: Iterable[int], bits: int, signed: bool = True) -> bytes:
    """Pack integers into little-endian elements of ``bits`` bits; out-of-range values are errors."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    nbytes = element_bytes(bits)
    out = bytearray()
    for i, v in enumerate(values):
        v = int(v)
        if not lo <= v <= hi:
            kind = "signed" if signed else "unsigned"
            raise BoardError(f"input element {i} must fit {bits}-bit {kind} [{lo}, {hi}], not {v}")
        out += (v & ((1 << (8 * nbytes)) - 1)).to_bytes(nbytes, "little")
    return bytes(out)


def decode_elements(data: bytes, bits: int, signed: bool = True) -> list[int]:
    """Unpack little-endian elements of ``bits`` bits (each in whole bytes)."""
    nbytes = element_bytes(bits)
    if len(data) % nbytes:
        raise BoardError(f"payload length must be a multiple of {nbytes} bytes, not {len(data)}")
    values = []
    for i in range(0, len(data), nbytes):
        v = int.from_bytes(data[i : i + nbytes], "little") & ((1 << bits) - 1)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        values.append(v)
    return values


def _length_bytes(n: int) -> bytes:
    if not 0 <= n <= MAX_PAYLOAD:
        raise BoardError(f"frame payload must be at most {MAX_PAYLOAD} bytes, not {n}")
    return n.to_bytes(2, "little")


def encode_request(payload: bytes) -> bytes:
    body = _length_bytes(len(payload)) + bytes(payload)
    return bytes([REQUEST_SYNC]) + body + bytes([checksum(body)])


def encode_response(status: Status | int, payload: bytes = b"") -> bytes:
    body = bytes([int(status)]) + _length_bytes(len(payload)) + bytes(payload)
    return bytes([RESPONSE_SYNC]) + body + bytes([checksum(body)])


def decode_request(frame: bytes) -> bytes:
    """The payload of a whole request frame; BoardError if it is not exactly one valid frame."""
    if len(frame) < REQUEST_HEADER_BYTES + 1 or frame[0] != REQUEST_SYNC:
        raise BoardError(f"request must start with 0x{REQUEST_SYNC:02X} and hold 4+ bytes, not {frame.hex()}")
    n = int.from_bytes(frame[1:3], "little")
    if len(frame) != REQUEST_HEADER_BYTES + n + 1:
        raise BoardError(f"request length must be {REQUEST_HEADER_BYTES + n + 1} bytes, not {len(frame)}")
    if sum(frame[1:]) & 0xFF:
        raise BoardError("request checksum must make the frame sum to 0 mod 256")
    return bytes(frame[REQUEST_HEADER_BYTES:-1])


@dataclass(frozen=True)
class Response:
    status: Status
    payload: bytes


def response_payload_length(header: bytes) -> int:
    """From the 4 header bytes, the number of bytes still to read (payload and checksum)."""
    if len(header) != RESPONSE_HEADER_BYTES or header[0] != RESPONSE_SYNC:
        raise BoardError(
            f"response must start with 0x{RESPONSE_SYNC:02X}, not {bytes(header).hex() or 'nothing'}"
        )
    return int.from_bytes(header[2:4], "little") + 1


def decode_response(frame: bytes) -> Response:
    """A whole response frame; BoardError on a bad sync byte, length, checksum or status."""
    rest = response_payload_length(bytes(frame[:RESPONSE_HEADER_BYTES]))
    if len(frame) != RESPONSE_HEADER_BYTES + rest:
        raise BoardError(f"response length must be {RESPONSE_HEADER_BYTES + rest} bytes, not {len(frame)}")
    if sum(frame[1:]) & 0xFF:
        raise BoardError("response checksum must make the frame sum to 0 mod 256")
    try:
        status = Status(frame[1])
    except ValueError:
        raise BoardError(
            f"response status must be one of {[s.value for s in Status]}, not {frame[1]}"
        ) from None
    return Response(status, bytes(frame[RESPONSE_HEADER_BYTES:-1]))


def identify_request() -> bytes:
    """The empty request: the board answers IDENTITY with its program's fingerprint."""
    return encode_request(b"")


def request_for_input(x_q: Sequence[int], bits: int) -> bytes:
    """The request frame carrying model input ``x_q`` (integers of ``bits`` bits, signed)."""
    return encode_request(encode_elements(x_q, bits, signed=True))
