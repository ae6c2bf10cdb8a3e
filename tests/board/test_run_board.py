"""``run-board`` asks the board which program it holds before it sends a single input."""

from __future__ import annotations

import pytest

import hlsfix
from hlsfix.board import protocol
from hlsfix.board.client import BoardClient
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.fingerprint import fingerprint


class ScriptedBoard:
    """A transport whose board answers every request with the next scripted response frame."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers, self.written, self.pending = list(answers), [], b""

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        self.pending += self.answers.pop(0)

    def read(self, n: int, timeout: float) -> bytes:
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture(scope="module")
def cm():
    return hlsfix.compile("bonsai-binary")


def test_the_client_reads_the_fingerprint() -> None:
    board = ScriptedBoard(
        [protocol.encode_response(protocol.Status.IDENTITY, bytes.fromhex("0011223344556677"))]
    )
    assert BoardClient(board, 16).identify() == "0011223344556677"
    assert board.written == [protocol.identify_request()] and board.written[0] == b"\xa5\x00\x00\x00"


def test_a_board_with_another_program_gets_no_input(cm, monkeypatch) -> None:
    import hlsfix.board.transport as transport
    from hlsfix.flows.board_run import run_board

    board = ScriptedBoard([protocol.encode_response(protocol.Status.IDENTITY, bytes(8))])
    monkeypatch.setattr(transport, "SerialTransport", lambda port, baud: board)
    with pytest.raises(
        HlsfixError, match=f"must hold this program \\(fingerprint {fingerprint(cm.program)}\\)"
    ):
        run_board(cm, "/dev/ttyUSB1", 115_200, 3)
    assert board.written == [protocol.identify_request()]  # and nothing after it


def test_the_right_board_gets_the_inputs_and_every_answer_is_checked(cm, monkeypatch) -> None:
    import hlsfix.board.transport as transport
    from hlsfix.board.arty import OUTPUT_BITS
    from hlsfix.flows.board_run import run_board

    x = cm.test[0][:3]
    want = cm.predict(x).reshape(3, -1)
    answers = [protocol.encode_response(protocol.Status.IDENTITY, bytes.fromhex(fingerprint(cm.program)))]
    answers += [
        protocol.encode_response(protocol.Status.OK, protocol.encode_elements(row, OUTPUT_BITS))
        for row in want
    ]
    board = ScriptedBoard(answers)
    monkeypatch.setattr(transport, "SerialTransport", lambda port, baud: board)
    lines = run_board(cm, "/dev/ttyUSB1", 115_200, 3)
    assert lines[0].endswith("3 inputs, every output bit-exact with the golden model")
    assert len(board.written) == 4
