"""Errors a user can cause, each read as one line: "where: X must be Y, not Z".

The CLI prints ``str(error)`` and exits with status 2; anything else escaping is a bug in hlsfix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLoc:
    """A position in a .sd program (1-based line and column)."""

    line: int
    col: int
    file: str | None = None

    def __str__(self) -> str:
        where = f"{self.line}:{self.col}"
        return f"{self.file}:{where}" if self.file else where


class HlsfixError(Exception):
    """Base class of every error caused by the user's input rather than by hlsfix itself."""

    def __init__(self, message: str, loc: SourceLoc | None = None) -> None:
        self.message = message
        self.loc = loc
        super().__init__(f"{loc}: {message}" if loc else message)


class ParseError(HlsfixError):
    """The .sd text is not a program of the language."""


class ModelError(HlsfixError):
    """A well-formed program whose shapes, types or names do not agree."""


class WeightsError(HlsfixError):
    """The weights file is missing an array, has a wrong shape, or holds NaN/Inf."""


class DataError(HlsfixError):
    """Input or calibration data of the wrong shape, empty, or not finite."""


class CompileError(HlsfixError):
    """The fixed-point compiler cannot honour the request (e.g. a range no bitwidth can hold)."""


class ToolError(HlsfixError):
    """An external tool (compiler, simulator) is missing or failed."""


class BoardError(HlsfixError):
    """An unknown board, or a design that does not fit it."""
