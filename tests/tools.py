"""Test helpers for steps that need external tools (compilers, simulators).

By default a test whose tool is missing is skipped, with the reason.  CI sets
``HLSFIX_REQUIRE_TOOLS=1`` so that the same situation fails instead: there a missing
tool is a broken environment, not an optional extra.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REQUIRE_TOOLS_ENV = "HLSFIX_REQUIRE_TOOLS"


def tools_required() -> bool:
    return os.environ.get(REQUIRE_TOOLS_ENV) == "1"


def tool_missing(reason: str) -> NoReturn:
    """Skip the current test because of ``reason``, or fail it when tools are required."""
    if tools_required():
        pytest.fail(f"{reason} ({REQUIRE_TOOLS_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the path of executable ``name``; skip (or fail, see module doc) when it is absent."""
    path = shutil.which(name)
    if path is None:
        tool_missing(f"{name} not found on PATH")
    return path
