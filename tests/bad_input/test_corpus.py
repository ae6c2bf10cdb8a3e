"""Every case of the bad-input corpus: exit status 2, exactly one stderr line
``hlsfix: error: …`` naming what is at fault, no traceback, and nothing left behind."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hlsfix.cli import main
from tests.bad_input.cases import CASES, DIRECTORY_CASES, Case

MAX_SECONDS = 30.0  # a bad input is refused quickly (deep nesting used to take a minute)


def _materialise(case: Case, d: Path) -> None:
    for name, content in case.files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == DIRECTORY_CASES.get(case.id):
            path.mkdir()
            continue
        if name.endswith("/x") and not content:  # a directory standing where a file is expected
            path.parent.mkdir(exist_ok=True)
            continue
        path.write_bytes(content)


def test_the_corpus_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 90
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_error(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "work"
    d.mkdir()
    _materialise(case, d)
    before = sorted(p.name for p in d.iterdir())
    argv = [a.replace("{d}", str(d)) for a in case.argv]
    t0 = time.monotonic()
    status = main(argv)
    seconds = time.monotonic() - t0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert status == case.status, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("hlsfix: error: "), lines[0]
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    fragment = case.fragment.replace("{d}", str(d))
    assert fragment in lines[0], lines[0]
    assert sorted(p.name for p in d.iterdir()) == before, "output or staging left behind"
    assert seconds < MAX_SECONDS


def test_an_unused_huge_member_is_never_loaded(tmp_path: Path) -> None:
    """A weights file may carry arrays the model does not use; a member whose header claims 8 GiB
    (over 16 bytes of data) is not read at all, so compiling succeeds."""
    from hlsfix.frontend.seedot import load_program
    from tests.bad_input.cases import MODEL, W, npy, npy_header, npz_raw

    (tmp_path / "m.sd").write_text(MODEL)
    (tmp_path / "w.npz").write_bytes(
        npz_raw({"W": npy(W), "unused": npy_header((1 << 30,), payload=b"\0" * 16)})
    )
    graph = load_program(tmp_path / "m.sd", tmp_path / "w.npz")
    assert graph.weights["W"].shape == (3, 4)
