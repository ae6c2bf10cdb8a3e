"""BoardClient against an in-memory board, and SerialTransport's errors."""

from __future__ import annotations

import pytest

from hlsfix.board import protocol
from hlsfix.board.client import BoardClient
from hlsfix.board.protocol import Status
from hlsfix.board.transport import SerialTransport
from hlsfix.errors import BoardError
from tests.board.standin import standin_class


class FakeBoard:
    """A Transport whose far end answers with `reply(request_payload) -> frame`; `None` means silence."""

    def __init__(self, reply) -> None:
        self.reply = reply
        self.pending = b""
        self.timeouts: list[float] = []

    def write(self, data: bytes) -> None:
        answer = self.reply(protocol.decode_request(data))
        self.pending += answer or b""

    def read(self, n: int, timeout: float) -> bytes:
        self.timeouts.append(timeout)
        data, self.pending = self.pending[:n], self.pending[n:]
        return data


def summing_board(payload: bytes) -> bytes:
    return protocol.encode_response(Status.OK, bytes([standin_class(protocol.decode_elements(payload, 16))]))


def test_classify_sends_the_input_and_returns_the_class():
    client = BoardClient(FakeBoard(summing_board), 16)
    assert client.classify([1000, -3, 7]) == standin_class([1000, -3, 7])


def test_infer_decodes_several_signed_outputs():
    board = FakeBoard(lambda payload: protocol.encode_response(Status.OK, payload))
    client = BoardClient(board, 12, output_bits=12, output_signed=True)
    assert client.infer([-2048, 5, 2047]) == [-2048, 5, 2047]
    with pytest.raises(BoardError, match="one class, not 3 values"):
        client.classify([-2048, 5, 2047])


@pytest.mark.parametrize("status", [Status.BAD_CHECKSUM, Status.BAD_LENGTH, Status.TRUNCATED])
def test_an_error_status_is_a_board_error(status):
    client = BoardClient(FakeBoard(lambda _: protocol.encode_response(status)), 8)
    with pytest.raises(BoardError, match=f"board must answer OK, not {status.name}"):
        client.classify([1, 2])


def test_silence_is_a_timeout_error():
    board = FakeBoard(lambda _: None)
    client = BoardClient(board, 8, timeout=0.25)
    with pytest.raises(BoardError, match="within 0.25 s, not go quiet after 0 of 4 bytes"):
        client.classify([1])
    assert board.timeouts == [0.25]


def test_an_answer_cut_short_is_a_timeout_error():
    client = BoardClient(FakeBoard(lambda p: summing_board(p)[:-1]), 16)
    with pytest.raises(BoardError, match="after 1 of 2 bytes"):
        client.classify([1])


def test_a_garbled_answer_is_a_board_error():
    client = BoardClient(FakeBoard(lambda p: b"\x00" + summing_board(p)), 16)
    with pytest.raises(BoardError, match="must start with 0x5A"):
        client.classify([1])


def test_an_input_out_of_range_is_refused_before_sending():
    board = FakeBoard(summing_board)
    with pytest.raises(BoardError, match="must fit 8-bit signed"):
        BoardClient(board, 8).classify([0, 300])


def test_a_missing_serial_port_is_one_line():
    with pytest.raises(BoardError) as e:
        SerialTransport("/dev/ttyHLSFIX-does-not-exist")
    message = str(e.value)
    assert message.startswith("serial port must exist and be openable, not '/dev/ttyHLSFIX-does-not-exist' (")
    assert "\n" not in message


def test_a_file_that_is_not_a_serial_port_is_refused(tmp_path):
    not_a_tty = tmp_path / "ttyFAKE"
    not_a_tty.write_text("")
    with pytest.raises(BoardError, match="serial port must exist and be openable"):
        SerialTransport(str(not_a_tty))
