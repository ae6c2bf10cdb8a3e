"""Errors a user can cause, each read as one line: "where: X must be Y, not Z".

The CLI prints ``str(error)`` and exits with status 2; anything else escaping is a bug in hlsfix.
"""

from __future__ import annotations

from dataclasses import dataclass


def one_line(text: str) -> str:
    """``text`` with its control characters escaped (a newline in a file name must not split an
    error into two lines, nor a carriage return overwrite it)."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


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

    keeps_lines = False  # True for errors that carry a tool's own output (its lines kept)

    def __init__(self, message: str, loc: SourceLoc | None = None) -> None:
        self.message = message if self.keeps_lines else one_line(message)
        self.loc = loc
        where = one_line(str(loc)) if loc else ""
        super().__init__(f"{where}: {self.message}" if loc else self.message)


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

    keeps_lines = True


class BoardError(HlsfixError):
    """An unknown board, or a design that does not fit it."""
