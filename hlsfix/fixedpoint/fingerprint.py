"""The fingerprint of a fixed-point program: a short hash of its kernels, formats and constants.

It is written into every output's hlsfix.toml and report.json and built into the board's bitstream,
so a rebuild can be checked to be the same program and the host can check which program a board
runs before it sends inputs.
"""

from __future__ import annotations

import hashlib

import numpy as np

from hlsfix.fixedpoint.program import KernelProgram

FINGERPRINT_BYTES = 8


def fingerprint(program: KernelProgram) -> str:
    """16 hex digits: the first 8 bytes of a SHA-256 of the program and every constant, bit for bit."""
    h = hashlib.sha256(program.to_json().encode())
    for name in sorted(program.constants):
        a = np.ascontiguousarray(program.constants[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[: 2 * FINGERPRINT_BYTES]
