"""The installed package works outside the checkout: its data files (grammar, zoo) ship."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_installed_package_runs_outside_checkout(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    # the data files the generators read at run time travel with the package
    for data in (
        "mcu/kernels/hlsfix_kernels.c",
        "codesign/c/hlsfix_accel.c",
        "codesign/templates/model_host.c.j2",
    ):
        assert (target / "hlsfix" / data).is_file(), data
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import hlsfix, pathlib; "
        f"assert not str(pathlib.Path(hlsfix.__file__)).startswith({str(ROOT)!r}), hlsfix.__file__; "
        "from hlsfix.cli import main; raise SystemExit(main(['eval', 'protonn']))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "accuracy: 0.9756" in run.stdout
