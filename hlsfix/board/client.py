"""The host side of the board link: send one model input, read back the board's answer."""

from __future__ import annotations

from collections.abc import Sequence

from hlsfix.board.protocol import (
    FINGERPRINT_BYTES,
    RESPONSE_HEADER_BYTES,
    Response,
    Status,
    decode_elements,
    decode_response,
    identify_request,
    request_for_input,
    response_payload_length,
)
from hlsfix.board.transport import Transport
from hlsfix.errors import BoardError


class BoardClient:
    """Runs inferences on a board (or a simulated one) through ``transport``.

    ``program_input_bits`` is the width of the model's input elements (the fixed-point program's
    input bitwidth); outputs are ``output_bits`` wide, unsigned unless ``output_signed``.
    ``timeout`` is how long, in seconds, to wait for each part of an answer.
    """

    def __init__(
        self,
        transport: Transport,
        program_input_bits: int,
        *,
        output_bits: int = 8,
        output_signed: bool = False,
        timeout: float = 2.0,
    ) -> None:
        self.transport = transport
        self.input_bits = program_input_bits
        self.output_bits = output_bits
        self.output_signed = output_signed
        self.timeout = timeout

    def infer(self, x_q: Sequence[int]) -> list[int]:
        """The accelerator's output elements for input ``x_q``; BoardError unless the board says OK."""
        self.transport.write(request_for_input(x_q, self.input_bits))
        response = self.read_response()
        if response.status != Status.OK:
            raise BoardError(f"board must answer OK, not {response.status.name}")
        return decode_elements(response.payload, self.output_bits, self.output_signed)

    def identify(self) -> str:
        """The fingerprint of the program the board was built for (16 hex digits)."""
        self.transport.write(identify_request())
        response = self.read_response()
        if response.status != Status.IDENTITY or len(response.payload) != FINGERPRINT_BYTES:
            raise BoardError(
                f"board must answer IDENTITY with a {FINGERPRINT_BYTES}-byte fingerprint, not "
                f"{response.status.name} with {len(response.payload)} bytes (a bitstream older than this "
                "hlsfix?)"
            )
        return response.payload.hex()

    def classify(self, x_q: Sequence[int]) -> int:
        """The class the board computes for ``x_q``."""
        outputs = self.infer(x_q)
        if len(outputs) != 1:
            raise BoardError(f"board must answer with one class, not {len(outputs)} values")
        return outputs[0]

    def read_response(self) -> Response:
        """One response frame, whatever its status (tests send malformed requests and read this)."""
        header = self._read_exact(RESPONSE_HEADER_BYTES)
        rest = self._read_exact(response_payload_length(header))
        return decode_response(header + rest)

    def _read_exact(self, n: int) -> bytes:
        data = self.transport.read(n, self.timeout)
        if len(data) < n:
            raise BoardError(
                f"board must answer within {self.timeout:g} s, not go quiet after {len(data)} of {n} bytes"
            )
        return data
