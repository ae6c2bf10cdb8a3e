"""``run-board``: send test inputs to a programmed FPGA board over its UART; check every answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hlsfix.errors import DataError, HlsfixError
from hlsfix.flows.config import fingerprint

if TYPE_CHECKING:
    from hlsfix.flows.model import TrackedModel


def run_board(
    cm: TrackedModel, port: str, baud: int, inputs: int, *, expected_fingerprint: str | None = None
) -> list[str]:
    """Lines to print: the board's verdict. A MismatchError if any answer differs from the golden model.

    The board must report the fingerprint of this very program (built into its bitstream) before any
    input is sent; ``expected_fingerprint`` (from the build's hlsfix.toml) must equal it too."""
    from hlsfix.board.arty import OUTPUT_BITS, MismatchError
    from hlsfix.board.client import BoardClient
    from hlsfix.board.transport import SerialTransport
    from hlsfix.fixedpoint.golden import quantize_input

    if inputs < 1:
        raise HlsfixError(f"--inputs must be at least 1, not {inputs}")
    if expected_fingerprint is not None and fingerprint(cm.program) != expected_fingerprint:
        raise HlsfixError(
            f"the compiled program must be the one the bitstream was built from (fingerprint "
            f"{expected_fingerprint}), not {fingerprint(cm.program)}: use the build's --config"
        )
    with SerialTransport(port, baud) as transport:  # a wrong port fails before the inputs are prepared
        if cm.test is None or len(cm.test[0]) == 0:
            raise DataError(f"model {cm.name}: test inputs must be known to run the board, not missing")
        x = np.asarray(cm.test[0][:inputs])
        x_q = quantize_input(cm.program, x)
        want = cm.golden(x).output.reshape(len(x), -1)
        client = BoardClient(
            transport, cm.program.input_buffer.fmt.bits, output_bits=OUTPUT_BITS, output_signed=True
        )
        on_board, here = client.identify(), fingerprint(cm.program)
        if on_board != here:
            raise HlsfixError(
                f"{port}: the board must hold this program (fingerprint {here}), not another one "
                f"({on_board}): program it with this build's bitstream, or compile with the build's --config"
            )
        bad = []
        for i, row in enumerate(x_q):
            got = client.infer([int(v) for v in row])
            if got != [int(v) for v in want[i]]:
                bad.append((i, got, want[i].tolist()))
    if bad:
        i, got, expected = bad[0]
        raise MismatchError(
            f"board outputs must equal the golden model's, not differ on {len(bad)} of {len(x_q)} inputs "
            f"(first: input {i}, got {got}, want {expected})"
        )
    lines = [f"{port}: program {here}; {len(x_q)} inputs, every output bit-exact with the golden model"]
    if cm.program.output_is_class and cm.test is not None:
        y = np.asarray(cm.test[1][: len(x_q)])
        lines.append(f"accuracy on these inputs: {np.mean(want[:, 0] == y):.4f}")
    return lines
