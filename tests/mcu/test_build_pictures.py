"""`hlsfix build` writes the arena plan as a picture and links it from the report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from hlsfix.cli import main
from tests.tools import require_tool


def test_build_writes_memory_plan_pictures(tmp_path: Path) -> None:
    require_tool("avr-gcc")
    out = tmp_path / "out"
    assert (
        main(["build", "bonsai-binary", "--board", "arduino-uno", "--inputs", "3", "-q", "-o", str(out)]) == 0
    )
    memory = json.loads((out / "report.json").read_text())["memory"]
    svg = ET.fromstring((out / memory["picture_svg"]).read_text())
    assert svg.tag.endswith("svg")
    text = (out / memory["picture_svg"]).read_text()
    assert f"arena {memory['arena_bytes']} B" in text
    png = out / memory["picture_png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"]({memory['picture_png']})" in (out / "report.md").read_text()
