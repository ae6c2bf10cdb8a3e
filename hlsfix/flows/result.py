"""What a flow hands back, and how every flow finishes its output directory.

Each output directory holds, besides what the flow wrote: the marker that makes it an hlsfix output,
``hlsfix.toml`` (every option resolved, and the program's fingerprint), ``report.json``,
``report.md`` and ``report.html``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hlsfix.flows.config import fingerprint, write_config
from hlsfix.flows.output import check_output_dir, staged_output
from hlsfix.flows.progress import Progress, quiet


@dataclass(frozen=True)
class FlowResult:
    """The outcome of compile, build, rtl or sim: where it went, its report, and what to tell the user."""

    kind: str
    out: Path
    report: dict[str, Any]
    summary: tuple[str, ...] = field(default=(), repr=False)

    @property
    def fingerprint(self) -> str:
        return self.report["fingerprint"]

    @property
    def bit_exact(self) -> bool | None:
        """Whether every checked backend equalled the golden model (None: nothing was checked)."""
        verdicts = [
            self.report[s]["bit_exact"]
            for s in ("mcu", "rtl", "hls", "codesign", "tflm")
            if isinstance(self.report.get(s), dict) and "bit_exact" in self.report[s]
        ]
        verdicts = [v for v in verdicts if v is not None]
        return all(verdicts) if verdicts else None

    @property
    def cycles(self) -> int | None:
        """Cycles per inference of the built target (the accelerator's, else the MCU's)."""
        for section in ("rtl", "mcu"):
            if section in self.report and self.report[section].get("cycles") is not None:
                return int(self.report[section]["cycles"])
        return None

    @property
    def resources(self) -> dict[str, float] | None:
        """FPGA resources (LUT, FF, DSP, BRAM36) or MCU memory (flash, RAM bytes) of the build."""
        if "fpga" in self.report:
            return {k: self.report["fpga"][k] for k in ("lut", "ff", "dsp", "bram36")}
        if "mcu" in self.report:
            return {k: self.report["mcu"][k] for k in ("flash_bytes", "ram_bytes")}
        return None


@contextmanager
def output_run(out: Path | str, protected: tuple[Path, ...], *, force: bool) -> Iterator[Path]:
    """Check ``out`` is safe to write, then stage it; the staged directory replaces it on success."""
    path = check_output_dir(out, protected, force=force)
    with staged_output(path) as stage:
        yield stage


def finish_output(
    stage: Path,
    cm: Any,
    report: dict[str, Any],
    stages: dict[str, object],
    command: str,
) -> None:
    """Write hlsfix.toml and the three reports into ``stage``."""
    from hlsfix import __version__
    from hlsfix.report import write_reports

    fp = fingerprint(cm.program)
    report["fingerprint"] = fp
    report["command"] = command
    write_config(stage, stages, {"command": command, "fingerprint": fp, "hlsfix": __version__})
    write_reports(stage, report)


def step(progress: Progress | None) -> Progress:
    return progress or quiet
