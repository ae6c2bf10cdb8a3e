"""Output directories that never cost a user a file.

``-o DIR`` is written only where that is safe: a new directory, an empty one, or one hlsfix wrote
before (it holds the marker file ``MARKER``). Anything else is refused unless ``force``; the
current directory, an ancestor of it, ``/``, the home directory (and its ancestors) and any
directory holding the model's own files are refused always. The output is built in a staging
directory beside its final place and renamed into place only when complete, so an error, Ctrl-C
or SIGTERM leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hlsfix.errors import HlsfixError

MARKER = ".hlsfix-output"
MARKER_TEXT = "This directory was written by hlsfix; `hlsfix ... -o` may replace it.\n"


class OutputError(HlsfixError):
    """An output directory hlsfix must not (or cannot) write."""


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that every ``finally`` and staging clean-up runs."""


def _is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def check_output_dir(out: str | Path, protected: Iterable[Path] = (), *, force: bool = False) -> Path:
    """The resolved output directory, or an OutputError saying why hlsfix must not write there.

    ``protected`` are the files the run reads (the model, its weights and data): a directory that
    holds any of them is never replaced."""
    if str(out).strip() == "":
        raise OutputError("output directory (-o) must be a path, not empty")
    path = Path(out).expanduser().resolve()
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    if path == Path(path.anchor):
        raise OutputError(f"output directory must not be the file system root, not {out}")
    if _is_within(cwd, path):
        raise OutputError(f"output directory must not be the current directory or above it, not {out}")
    if _is_within(home, path):
        raise OutputError(f"output directory must not be the home directory or above it, not {out}")
    for f in protected:
        if f is not None and _is_within(Path(f).resolve(), path):
            raise OutputError(f"output directory must not hold the model's own files ({f}), not {out}")
    if path.exists() or path.is_symlink():
        if not path.is_dir() or path.is_symlink():
            raise OutputError(f"output directory must be a directory, not an existing file: {out}")
        if any(path.iterdir()) and not (path / MARKER).is_file() and not force:
            raise OutputError(
                f"output directory must be new, empty or an earlier hlsfix output, not a directory "
                f"holding other files: {out} (pass --force to replace it)"
            )
    parent = path.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"output directory's parent must be writable, not read-only: {probe}")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield a staging directory that replaces the (checked) directory ``out`` only if the block succeeds."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    except OSError as e:
        raise OutputError(f"output directory must be writable, not {e.strerror.lower()}: {out}") from None
    try:
        (stage / MARKER).write_text(MARKER_TEXT)
        yield stage
        stage.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the result gets the user's umask
        old = None
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
        stage.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@contextmanager
def sigterm_as_exception() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` (in the main thread), so clean-ups run."""

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
