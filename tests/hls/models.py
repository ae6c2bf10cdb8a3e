"""Compiled zoo models shared by the HLS tests (compiling is the slow part; each is done once)."""

from __future__ import annotations

from functools import cache

import hlsfix


@cache
def compiled(name: str, bits: str = "16", activation: str = "auto") -> hlsfix.CompiledModel:
    return hlsfix.compile(name, bits=bits, activation=activation)  # type: ignore[arg-type]
