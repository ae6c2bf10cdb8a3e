"""Every kind of report, rendered in headless Chromium: it fits the page and no label spills out.

The report.json files under ``fixtures/`` were written by real runs (compile, Uno build, Arty build,
HLS build, co-design simulation); the test renders them with today's templates, then measures the
page in the browser: no horizontal scrolling at a laptop's width, every SVG label inside its
picture, no raw Python values in the text, and a screenshot of a sensible size.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hlsfix.report import write_reports
from tests.tools import tool_missing

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = sorted(p.stem for p in FIXTURES.glob("*.json"))
VIEWPORT = {"width": 1000, "height": 800}

MEASURE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width === 0) continue;
      const outside = r.left < box.left - 1 || r.right > box.right + 1;
      if (outside || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push(t.textContent);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          height: document.documentElement.scrollHeight, spilled: out, text: document.body.innerText};
}"""


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        tool_missing("chromium not found on PATH (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        tool_missing("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


def test_there_is_a_fixture_of_every_kind() -> None:
    assert KINDS == ["arty", "codesign", "compile", "hls", "int8", "uno"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_report_renders_within_the_page(kind: str, browser, tmp_path: Path) -> None:
    report = json.loads((FIXTURES / f"{kind}.json").read_text())
    for svg in FIXTURES.glob(f"{kind}*.svg"):
        shutil.copy(svg, tmp_path / svg.name.removeprefix(f"{kind}-"))
    write_reports(tmp_path, report)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto((tmp_path / "report.html").as_uri())
    m = page.evaluate(MEASURE)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    page.close()
    assert m["scrollWidth"] <= m["innerWidth"], "the page scrolls sideways"
    assert m["spilled"] == [], "labels outside their picture"
    assert 300 < m["height"] < 8000
    words = set(m["text"].replace(",", " ").split())
    assert not words & {"True", "False", "None", "nan", "NaN"}, words & {"True", "False", "None"}
    assert report["model"] in m["text"]
    png = (tmp_path / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
