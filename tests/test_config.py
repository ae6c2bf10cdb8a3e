"""Reproducible builds: hlsfix.toml in every output redoes it exactly; options from a file."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib

from hlsfix.cli import main
from tests.tools import require_tool


def _files(d: Path) -> dict[str, bytes]:
    skip = {"report.json", "report.md", "report.html", "hlsfix.toml"}  # they carry timings
    return {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        # arduino-build/ holds the Arduino core's objects, which embed the directory they were built in
        if p.is_file() and p.name not in skip and "arduino-build" not in p.relative_to(d).parts
    }


def test_compile_config_rebuilds_the_same_program(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compile", "bonsai", "--bits", "mixed", "--budget-pp", "0.5", "-q", "-o", str(a)]) == 0
    config = tomllib.loads((a / "hlsfix.toml").read_text())
    assert config["compile"] == {"bits": "mixed", "activation": "auto", "budget_pp": 0.5, "rounding": "auto"}
    assert config["model"] == {"model": "bonsai"} and len(config["provenance"]["fingerprint"]) == 16
    assert main(["compile", "--config", str(a / "hlsfix.toml"), "-q", "-o", str(b)]) == 0
    assert (a / "program.json").read_bytes() == (b / "program.json").read_bytes()
    assert tomllib.loads((b / "hlsfix.toml").read_text())["provenance"] == config["provenance"]


def test_the_command_line_wins_over_the_file_and_a_changed_program_is_refused(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["compile", "mlp", "-q", "-o", str(a)]) == 0
    # --bits 8 changes the program: the recorded fingerprint no longer matches, and that is an error
    assert main(["compile", "--config", str(a / "hlsfix.toml"), "--bits", "8", "-q", "-o", str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must match the recorded fingerprint" in err and not b.exists()
    # a config without provenance is a plain options file: the command line still wins
    plain = tmp_path / "opts.toml"
    plain.write_text('[model]\nmodel = "mlp"\n[compile]\nbits = "16"\n')
    assert main(["compile", "--config", str(plain), "--bits", "8", "-q", "-o", str(b)]) == 0
    assert tomllib.loads((b / "hlsfix.toml").read_text())["compile"]["bits"] == "8"


def test_relative_paths_in_a_config_are_relative_to_the_file(tmp_path: Path) -> None:
    from hlsfix.zoo import ZOO_DIR

    (tmp_path / "m").mkdir()
    for name in ("model.sd", "weights.npz", "data.npz"):
        (tmp_path / "m" / name).write_bytes((ZOO_DIR / "mlp" / name).read_bytes())
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "x.toml").write_text('[model]\nmodel = "../m/model.sd"\n')
    out = tmp_path / "out"
    assert main(["compile", "--config", str(tmp_path / "cfg" / "x.toml"), "-q", "-o", str(out)]) == 0
    written = tomllib.loads((out / "hlsfix.toml").read_text())["model"]
    assert written["model"] == str(tmp_path / "m" / "model.sd")


def test_an_uno_build_config_rebuilds_the_same_sources(tmp_path: Path) -> None:
    for tool in ("avr-gcc", "simavr"):
        require_tool(tool)
    a, b = tmp_path / "a", tmp_path / "b"
    assert (
        main(["build", "bonsai-binary", "--board", "arduino-uno", "--inputs", "3", "-q", "-o", str(a)]) == 0
    )
    build = tomllib.loads((a / "hlsfix.toml").read_text())["build"]
    assert build["board"] == "arduino-uno" and build["inputs"] == 3
    assert main(["build", "--config", str(a / "hlsfix.toml"), "-q", "-o", str(b)]) == 0
    assert _files(a) == _files(b) and len(_files(a)) > 5


@pytest.mark.parametrize("key", ["fingerprint"])
def test_every_output_records_its_fingerprint_in_the_report(key: str, tmp_path: Path) -> None:
    import json

    out = tmp_path / "o"
    assert main(["compile", "protonn", "-q", "-o", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report[key] == tomllib.loads((out / "hlsfix.toml").read_text())["provenance"][key]
    assert report[key] in (out / "report.html").read_text()
