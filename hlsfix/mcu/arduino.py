"""Build the generated Arduino sketch against the real Arduino AVR core, as the IDE does.

Debian's ``arduino-core-avr`` (the core, boards.txt, platform.txt) and ``arduino-builder`` (the
IDE's build engine; its ctags settings live in /usr/share/arduino-builder/platform.txt, a global
platform file given as a second hardware folder) build the sketch exactly as the Arduino IDE
would: -Os, LTO, the core's main(), Serial. Debian's avr-gcc lacks DECIMAL_DIG, which the core's
Print.cpp needs, so it is defined as 9 (float's value) for C and C++. Flash and RAM are read from
the builder's own report ("Sketch uses N bytes ... Global variables use M bytes"), the figures a
user sees when flashing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hlsfix.mcu.runners import FirmwareBuildError, ToolMissing

ARDUINO_HARDWARE = Path("/usr/share/arduino/hardware")
BUILDER_PLATFORM = Path("/usr/share/arduino-builder")
FQBN = "arduino:avr:uno"
EXTRA_FLAGS = "-DDECIMAL_DIG=9"
_FLASH = re.compile(r"Sketch uses (\d+) bytes .*Maximum is (\d+) bytes")
_RAM = re.compile(r"Global variables use (\d+) bytes")


@dataclass(frozen=True)
class SketchBuild:
    """The Arduino build of a sketch: what the IDE reports."""

    flash_bytes: int
    ram_bytes: int  # static (globals); the stack comes on top
    max_flash_bytes: int  # the board's program storage as the core declares it
    elf: Path


def arduino_available() -> bool:
    return shutil.which("arduino-builder") is not None and (ARDUINO_HARDWARE / "arduino" / "avr").is_dir()


def build_sketch(sketch: Path, build_dir: Path, fqbn: str = FQBN, timeout_s: float = 300.0) -> SketchBuild:
    """Compile ``sketch`` (a .ino in its folder) with arduino-builder into ``build_dir``."""
    builder = shutil.which("arduino-builder")
    if builder is None or not (ARDUINO_HARDWARE / "arduino" / "avr").is_dir():
        raise ToolMissing("arduino-builder", "Debian packages arduino-builder and arduino-core-avr")
    build_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        builder,
        "-compile",
        "-hardware",
        str(ARDUINO_HARDWARE),
        "-hardware",
        str(BUILDER_PLATFORM),
        "-tools",
        str(ARDUINO_HARDWARE),
        "-fqbn",
        fqbn,
        "-build-path",
        str(build_dir),
        f"-prefs=compiler.c.extra_flags={EXTRA_FLAGS}",
        f"-prefs=compiler.cpp.extra_flags={EXTRA_FLAGS}",
        str(sketch),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    out = proc.stdout + proc.stderr
    flash, ram = _FLASH.search(out), _RAM.search(out)
    if proc.returncode != 0 or flash is None or ram is None:
        raise FirmwareBuildError(
            f"building Arduino sketch {sketch.name} failed (exit status {proc.returncode}):\n$ "
            + " ".join(cmd)
            + "\n"
            + out[-4000:]
        )
    return SketchBuild(
        int(flash.group(1)), int(ram.group(1)), int(flash.group(2)), build_dir / f"{sketch.name}.elf"
    )
