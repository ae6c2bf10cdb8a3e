"""The frame protocol, pure Python: round trips and rejections."""

from __future__ import annotations

import random

import pytest

from hlsfix.board import protocol
from hlsfix.board.protocol import Response, Status
from hlsfix.errors import BoardError


@pytest.mark.parametrize("bits", [1, 4, 8, 12, 16, 32])
def test_elements_round_trip_at_every_width(bits):
    rng = random.Random(bits)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    values = [lo, hi, 0, -1 if bits > 1 else 0] + [rng.randint(lo, hi) for _ in range(50)]
    data = protocol.encode_elements(values, bits)
    assert len(data) == len(values) * protocol.element_bytes(bits)
    assert protocol.decode_elements(data, bits) == values


def test_elements_are_little_endian_twos_complement():
    assert protocol.encode_elements([-2, 0x1234], 16) == bytes([0xFE, 0xFF, 0x34, 0x12])
    assert protocol.encode_elements([200], 8, signed=False) == bytes([200])
    assert protocol.decode_elements(bytes([0xFF, 0x0F]), 12) == [-1]  # sign from bit 11, not 15


@pytest.mark.parametrize(("value", "bits"), [(128, 8), (-129, 8), (32768, 16), (1 << 40, 32)])
def test_out_of_range_elements_are_refused(value, bits):
    with pytest.raises(BoardError, match=f"must fit {bits}-bit signed"):
        protocol.encode_elements([0, value], bits)


def test_request_layout_and_checksum():
    frame = protocol.encode_request(bytes([1, 2, 3]))
    assert frame[:3] == bytes([0xA5, 3, 0])
    assert frame[3:6] == bytes([1, 2, 3])
    assert frame[-1] == (-(3 + 0 + 1 + 2 + 3)) & 0xFF
    assert sum(frame[1:]) % 256 == 0


@pytest.mark.parametrize("n", [0, 1, 255, 256, 1000])
def test_request_round_trip(n):
    payload = bytes(random.Random(n).randrange(256) for _ in range(n))
    assert protocol.decode_request(protocol.encode_request(payload)) == payload


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("payload", [b"", b"\x07", bytes(range(256)) * 2])
def test_response_round_trip(status, payload):
    frame = protocol.encode_response(status, payload)
    assert frame[0] == 0x5A
    assert protocol.response_payload_length(frame[:4]) == len(payload) + 1
    assert protocol.decode_response(frame) == Response(status, payload)


def test_a_request_for_an_input_packs_its_elements():
    frame = protocol.request_for_input([-1, 2], 16)
    assert protocol.decode_request(frame) == bytes([0xFF, 0xFF, 2, 0])


def corrupt(frame: bytes, index: int, xor: int = 0x01) -> bytes:
    out = bytearray(frame)
    out[index] ^= xor
    return bytes(out)


REQUEST = protocol.encode_request(b"\x10\x20\x30")
RESPONSE = protocol.encode_response(Status.OK, b"\x09")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "must start with 0xA5"),
        (corrupt(REQUEST, 0), "must start with 0xA5"),
        (corrupt(REQUEST, 4), "checksum"),
        (corrupt(REQUEST, -1), "checksum"),
        (REQUEST[:-1], "length must be 7 bytes, not 6"),
        (REQUEST + b"\x00", "length must be 7 bytes, not 8"),
    ],
)
def test_bad_requests_are_rejected(frame, message):
    with pytest.raises(BoardError, match=message):
        protocol.decode_request(frame)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"", "must start with 0x5A, not nothing"),
        (REQUEST, "must start with 0x5A"),
        (corrupt(RESPONSE, 4), "checksum"),
        (RESPONSE[:-1], "length must be 6 bytes, not 5"),
        (protocol.encode_response(9), "status must be one of"),
    ],
)
def test_bad_responses_are_rejected(frame, message):
    with pytest.raises(BoardError, match=message):
        protocol.decode_response(frame)


def test_a_payload_too_long_for_the_length_field_is_refused():
    with pytest.raises(BoardError, match="at most 65535 bytes, not 65536"):
        protocol.encode_request(bytes(65536))
