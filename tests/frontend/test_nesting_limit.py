"""How deep a program may nest does not depend on the process's recursion limit (torch, imported
by other code, raises it; a test runner lowers the headroom): the same program is accepted or
refused, with the same error, either way."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hlsfix.errors import ParseError
from hlsfix.frontend.seedot import MAX_NESTING, parse_program

HEAD = "let X = (4, 1) in [-1, 1] in\nlet W = (3, 4) in [-1, 1] in\n"
W = {"W": np.zeros((3, 4))}


def nested(levels: int) -> str:
    return HEAD + "argmax(W * " + "relu(" * levels + "X" + ")" * levels + ")\n"


@pytest.fixture(params=[150, 100_000], ids=["low-limit", "high-limit"])
def recursion_limit(request: pytest.FixtureRequest):
    old = sys.getrecursionlimit()
    here = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(max(request.param, here + 50))
    yield
    sys.setrecursionlimit(old)


def test_too_deep_is_refused_at_any_limit(recursion_limit: None) -> None:
    with pytest.raises(ParseError, match=f"at most {MAX_NESTING} deep, not 1303"):
        parse_program(nested(1300), W)


def test_just_deep_enough_and_long_let_chains_parse_at_any_limit(recursion_limit: None) -> None:
    parse_program(nested(MAX_NESTING - 10), W)
    lets = "".join(f"let a{i} = X in\n" for i in range(780))  # near the token limit
    parse_program("let X = (4, 1) in [-1, 1] in\n" + lets + "argmax(a0)\n", {})
