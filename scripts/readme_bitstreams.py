"""Build the open-FPGA bitstreams with the README's own commands, check them, and print their table.

The README's "Open FPGAs" block lists one ``hlsfix build MODEL --board ulx3s|icebreaker …`` command
per board. This runs each as written (its ``-o out/…`` moved under a scratch directory), and checks
what the README promises: a bitstream of non-zero size, the accelerator bit-exact in cocotb, a
post-route Fmax measured by nextpnr and microseconds at min(Fmax, the board's clock). It prints the
README's table rows from the reports, so the figures there come from this script. CI runs it (.ci/run).

    .venv/bin/python scripts/readme_bitstreams.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOARDS = ("icebreaker", "ulx3s")
COMMAND = re.compile(r"^hlsfix build .*--board (" + "|".join(BOARDS) + r")\b.*$", re.MULTILINE)


def readme_commands(readme: Path) -> list[list[str]]:
    """The README's open-board build commands, as argument lists (comments dropped)."""
    commands = [shlex.split(m.group(0).split("#")[0]) for m in COMMAND.finditer(readme.read_text())]
    boards = {c[c.index("--board") + 1] for c in commands}
    if boards != set(BOARDS):
        raise SystemExit(
            f"the README must give a build command for each of {BOARDS}, not only {sorted(boards)}"
        )
    return commands


def run(command: list[str], scratch: Path) -> tuple[Path, float]:
    """Run one README command with its output directory under ``scratch``; its output and seconds."""
    args = list(command)
    at = args.index("-o") + 1
    args[at] = str(scratch / Path(args[at]).name)
    hlsfix = Path(sys.executable).with_name("hlsfix")
    t0 = time.perf_counter()
    subprocess.run([str(hlsfix), *args[1:]], check=True)
    return Path(args[at]), time.perf_counter() - t0


def check_and_row(out: Path) -> str:
    """The report's promises checked; its README table row."""
    report = json.loads((out / "report.json").read_text())
    fpga, rtl = report["fpga"], report["rtl"]
    bitstream = out / fpga["bitstream"]
    problems = [
        f"bitstream {bitstream} must exist with data"
        * (not bitstream.is_file() or bitstream.stat().st_size == 0),
        "the accelerator must be bit-exact in cocotb" * (rtl["bit_exact"] is not True),
        "the post-route Fmax must be measured" * (not fpga.get("fmax_mhz")),
        "µs must be given at the measured clock" * (rtl.get("us_at_fmax") is None),
    ]
    problems = [p for p in problems if p]
    if problems:
        raise SystemExit(f"{out.name}: " + "; ".join(problems))
    cells = fpga["cells"]
    clock = min(fpga["fmax_mhz"], fpga["clock_mhz"])
    speedup = f"{rtl['speedup_vs_uno']}×" if rtl.get("speedup_vs_uno") else "—"
    return (
        f"| {report['model']} | {fpga['board']} | {fpga['lut']:,} {cells['lut']}, {fpga['ff']:,} FF, "
        f"{fpga['dsp']} {cells['dsp']}, {fpga['bram36']} {cells['bram']} | {fpga['fmax_mhz']} MHz | "
        f"{rtl['cycles']:,} ({rtl['ideal_cycles']:,}) | {rtl['us_at_fmax']} at {clock:g} MHz | {speedup} | "
        f"{fpga['bitstream_bytes']:,} B |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="build into DIR and keep it (default: a scratch directory)")
    args = ap.parse_args()
    commands = readme_commands(ROOT / "README.md")
    with tempfile.TemporaryDirectory(prefix="hlsfix-bitstreams-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        rows = []
        for command in commands:
            print("$", shlex.join(command), flush=True)
            out, seconds = run(command, scratch)
            rows.append(check_and_row(out))
            print(f"  built and checked in {seconds:.0f} s", flush=True)
    print("| model | board | cells after placement | Fmax post-route | cycles (ideal) "
          "| µs at min(Fmax, board clock) | vs Uno | bitstream |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
