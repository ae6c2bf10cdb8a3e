"""``-o`` never costs a user a file: what is refused, what is replaced, and interruption mid-build."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hlsfix.cli import main
from hlsfix.flows.output import MARKER
from hlsfix.zoo import ZOO_DIR


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hlsfix: error: ") and "Traceback" not in err, err
    return err


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's working directory holding their own files, and a model of their own in a subfolder."""
    work = tmp_path / "work"
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "todo.txt").write_text("keep me\n")
    (work / "results.csv").write_text("a,b\n1,2\n")
    model = work / "mymodel"
    model.mkdir()
    for name in ("model.sd", "weights.npz", "data.npz"):
        shutil.copy(ZOO_DIR / "mlp" / name, model / name)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return work


@pytest.mark.parametrize(
    ("out", "words"),
    [
        (".", "must not be the current directory or above it"),
        ("..", "must not be the current directory or above it"),
        ("./notes/..", "must not be the current directory or above it"),
        ("", "must be a path, not empty"),
        ("/", "must not be the file system root"),
        ("~", "must not be the home directory or above it"),
        ("mymodel", "must not hold the model's own files"),
        ("notes", "must be new, empty or an earlier hlsfix output"),
        ("results.csv", "must be a directory, not an existing file"),
        ("/proc/no-such-dir/out", "output directory must be writable"),
    ],
)
def test_an_output_directory_that_is_not_ours_is_refused(
    out: str, words: str, user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _tree(user_dir.parent)
    assert main(["compile", "mymodel/model.sd", "-q", "-o", out]) == 2
    assert words in _one_error_line(capsys)
    assert _tree(user_dir.parent) == before  # not one file added, changed or removed


def test_the_model_folder_is_refused_even_with_force(user_dir: Path, capsys) -> None:
    before = _tree(user_dir)
    assert main(["compile", "mymodel/model.sd", "--force", "-q", "-o", "mymodel"]) == 2
    assert "must not hold the model's own files" in _one_error_line(capsys)
    assert main(["compile", "mlp", "--force", "-q", "-o", "."]) == 2
    assert "current directory" in _one_error_line(capsys)
    assert _tree(user_dir) == before


def test_force_replaces_a_foreign_directory_and_an_earlier_output_is_replaced(user_dir: Path) -> None:
    assert main(["compile", "mlp", "-q", "--force", "-o", "notes"]) == 0
    assert not (user_dir / "notes" / "todo.txt").exists() and (user_dir / "notes" / MARKER).is_file()
    (user_dir / "notes" / "stale.txt").write_text("from an earlier run")  # hlsfix's own output: replaced
    assert main(["compile", "mlp", "-q", "-o", "notes"]) == 0
    assert not (user_dir / "notes" / "stale.txt").exists() and (user_dir / "notes" / "report.json").is_file()
    leftovers = [p.name for p in user_dir.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_new_output_directory_gets_the_users_umask(user_dir: Path) -> None:
    old = os.umask(0o027)
    try:
        assert main(["compile", "mlp", "-q", "-o", "deep/new/out"]) == 0
    finally:
        os.umask(old)
    mode = (user_dir / "deep" / "new" / "out").stat().st_mode & 0o777
    assert mode == 0o750


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_build_leaves_nothing(sig: int, status: int, tmp_path: Path) -> None:
    """Stopped in the middle of the Uno build (after the compile, while the C is built and simulated)."""
    if shutil.which("avr-gcc") is None or shutil.which("simavr") is None:
        pytest.skip("needs avr-gcc and simavr to reach the middle of a build")
    out = tmp_path / "out"
    # Ctrl-C's handler as in a terminal, even where this suite runs in the background (a
    # non-interactive shell starts background jobs with SIGINT ignored, and Python keeps that)
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from hlsfix.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = [sys.executable, "-c", code, "build", "fastgrnn", "--board", "arduino-uno", "-o", str(out)]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".out.staging-") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] in (
        "hlsfix: terminated",
        "hlsfix: interrupted",
    )
    assert list(tmp_path.iterdir()) == []  # neither the output nor its staging directory
