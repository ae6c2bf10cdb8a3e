"""Progress of the long steps (exploration, synthesis, simulation, place-and-route).

A flow calls ``progress("what starts now")``; the previous step then ends, and its time is shown.
On a terminal rich draws a spinner with the elapsed time; elsewhere (a CI log, a pipe) each step
is one line when it ends: ``hlsfix: [  12.3 s] synthesising P=2 (yosys synth_xilinx)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """A progress callback that shows nothing."""


class QuietProgress:
    """The ``StepProgress`` interface, showing nothing (``--quiet``)."""

    def __call__(self, _message: str) -> None:
        pass

    def close(self) -> None:
        pass

    def abandon(self) -> None:
        pass


class StepProgress:
    """A callable progress sink that times each step; use as a context manager."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        from rich.console import Console

        self._stream = stream or sys.stderr
        live = self._stream.isatty() if live is None else live
        self._console = Console(file=self._stream, force_terminal=live, highlight=False, soft_wrap=True)
        self._live = live
        self._status = None
        self._step: str | None = None
        self._t0 = 0.0
        self.steps: list[tuple[str, float]] = []

    def __call__(self, message: str) -> None:
        self._finish()
        self._step, self._t0 = message, time.perf_counter()
        if self._live:
            self._status = self._console.status(f"hlsfix: {message}")
            self._status.start()

    def _finish(self) -> None:
        if self._step is None:
            return
        seconds = time.perf_counter() - self._t0
        self.steps.append((self._step, seconds))
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._console.print(f"hlsfix: [{seconds:7.1f} s] {self._step}", markup=False)
        self._step = None

    def close(self) -> None:
        self._finish()

    def abandon(self) -> None:
        """Stop the spinner without printing the unfinished step as done."""
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._step = None

    def __enter__(self) -> StepProgress:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abandon()
