"""Build measurement firmwares and run them on simulated MCUs (and the host); read results back.

A firmware is C99 code written against ``target.h`` (see that file for the protocol).  Each
``compile_*`` function adds the matching target layer (``target_avr.c``, ``target_cortexm.c`` or
``target_host.c``) and the directory of ``target.h`` by itself, so callers pass only their own
sources.  Each ``run_*`` function returns a :class:`FirmwareRun`:

* AVR -- ATmega328P at 16 MHz in simavr, driven by ``simavr_harness.c``; measurements are exact
  simulated CPU cycles, stack depth from SP sampled after every instruction.
* Cortex-M -- QEMU ``mps2-an385`` (Cortex-M3) or ``mps2-an386`` (Cortex-M4) with semihosting;
  measurements are executed *instructions* counted by ``qemu_insn_plugin.c`` (QEMU has no cycle
  model), stack depth from stack painting.
* Host -- native build, optionally under AddressSanitizer/UBSan; nothing is measured.

Executables that hlsfix builds for itself (the simavr harness, the QEMU plugin) are cached under
``$HLSFIX_CACHE`` (default ``$XDG_CACHE_HOME/hlsfix`` or ``~/.cache/hlsfix``), keyed by a hash of
their source and build command.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hlsfix.errors import ToolError

MCU_DIR = Path(__file__).resolve().parent
TARGET_HEADER_DIR = MCU_DIR
TARGET_AVR = MCU_DIR / "target_avr.c"
TARGET_CORTEXM = MCU_DIR / "target_cortexm.c"
TARGET_HOST = MCU_DIR / "target_host.c"
SIMAVR_HARNESS_SRC = MCU_DIR / "simavr_harness.c"
QEMU_PLUGIN_SRC = MCU_DIR / "qemu_insn_plugin.c"
MPS2_LINKER_SCRIPT = MCU_DIR / "templates" / "mps2_cortexm.ld"

AVR_MCU = "atmega328p"
AVR_F_CPU = 16_000_000

# The CPU each supported QEMU board emulates, and the compiler flags for it.
QEMU_MACHINES: dict[str, str] = {
    "mps2-an385": "cortex-m3",
    "mps2-an386": "cortex-m4",
    "mps2-an500": "cortex-m7",
}
CORTEX_M_FLAGS: dict[str, tuple[str, ...]] = {
    "cortex-m3": ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    # The M4 of AN386 has the single-precision FPU; target_cortexm.c enables it at reset.
    "cortex-m4": ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
    # AN500's M7 (same memory map as AN385/AN386); single-precision FPU flags run on any M7.
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16"),
}

WARNINGS = ("-Wall", "-Wextra", "-Werror")
# AVR builds (fixed point and the float baseline alike) use -O2: it unrolls and strength-reduces
# the kernels' inner loops (up to ~10 % fewer cycles than -Os on the zoo) for a few hundred bytes
# of flash; every zoo model still fits the Uno's 32,256 B (benchmarks/bench_mcu.py).  The Arduino IDE
# builds with -Os, which gives the same outputs (tests/mcu checks both).
AVR_OPT = "-O2"

# Harness exit statuses (see simavr_harness.c).
_AVR_EXIT_CYCLE_LIMIT = 2

Unit = Literal["cycles", "instructions", "none"]


class ToolMissing(ToolError):
    """A compiler, simulator or library that the requested step needs is not installed."""

    def __init__(self, tool: str, hint: str = "") -> None:
        self.tool = tool
        super().__init__(f"{tool} is not installed" + (f" ({hint})" if hint else ""))


class FirmwareBuildError(ToolError):
    """The compiler or linker rejected a firmware; the message holds its stderr."""


class SimulationError(ToolError):
    """A firmware crashed, broke the marker protocol, or its simulator failed."""


class SimulationTimeout(SimulationError):
    """A firmware did not finish within its cycle limit or wall-clock timeout."""


@dataclass(frozen=True)
class FirmwareRun:
    """What one run of a firmware reported.

    records: the byte strings emitted with target_emit()/target_record_end(), in order.
    measurements: one value per target_measure_begin()/end() pair, in order, in ``unit``
        ("cycles" on simavr, "instructions" on QEMU, "none" -- and no values -- on the host).
    max_stack_bytes: deepest stack use seen, or None where it is not measured (host).
    simulator: which simulator and board produced the run.
    """

    records: tuple[bytes, ...]
    measurements: tuple[int, ...]
    unit: Unit
    max_stack_bytes: int | None
    simulator: str


# --------------------------------------------------------------------------------------------
# helpers


def default_cache_dir() -> Path:
    if env := os.environ.get("HLSFIX_CACHE"):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hlsfix"


def _tool(name: str, hint: str = "") -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(name, hint)
    return path


def _compile(cmd: Sequence[str], what: str, out: Path) -> Path:
    """Run a compiler command that writes ``out``; raise FirmwareBuildError with its stderr."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise FirmwareBuildError(
            f"building {what} failed (exit status {proc.returncode}):\n"
            f"$ {' '.join(cmd)}\n{proc.stderr.strip()}"
        )
    return out


def _cached_build(
    cache_dir: Path, stem: str, key_parts: Sequence[str], build: Callable[[Path], None]
) -> Path:
    """Build ``stem-<hash>`` in cache_dir unless it exists; atomic, so parallel runs are safe."""
    digest = hashlib.sha256("\0".join(key_parts).encode()).hexdigest()[:16]
    suffix = ".so" if stem.startswith("lib") else ""
    target = cache_dir / f"{stem}-{digest}{suffix}"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}-", suffix=suffix, dir=cache_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        build(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _with_target(sources: Sequence[Path], target_c: Path) -> list[str]:
    paths = [Path(s).resolve() for s in sources]
    if target_c not in paths:
        paths.append(target_c)
    return [str(p) for p in paths]


def _common_flags(include_dirs: Sequence[Path], defines: Sequence[str], opt: str) -> list[str]:
    flags = ["-std=c99", opt, *WARNINGS, f"-I{TARGET_HEADER_DIR}"]
    flags += [f"-I{d}" for d in include_dirs]
    flags += [d if d.startswith("-D") else f"-D{d}" for d in defines]
    return flags


def _parse_lines(text: str, keys: frozenset[str]) -> list[tuple[str, str]]:
    """Split protocol output into (key, value) pairs, keeping only lines whose first word is a key."""
    pairs = []
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key in keys:
            pairs.append((key, value.strip()))
    return pairs


def _records(pairs: Sequence[tuple[str, str]]) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(v) for k, v in pairs if k == "data")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------------------------
# AVR (simavr)


def _simavr_flags() -> tuple[list[str], list[str]]:
    """Compiler and linker flags for libsimavr, from pkg-config when available."""
    if shutil.which("pkg-config"):
        proc = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "simavr"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0:
            flags = proc.stdout.split()
            return [f for f in flags if not f.startswith("-l")], [f for f in flags if f.startswith("-l")]
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        raise ToolMissing("libsimavr-dev", "simavr headers: no pkg-config entry and no /usr/include/simavr")
    return ["-I/usr/include/simavr"], ["-lsimavr"]


def build_simavr_harness(cache_dir: Path) -> Path:
    """Compile simavr_harness.c against libsimavr (once; cached by a hash of source and command)."""
    cc = _tool("gcc", "the host C compiler builds the simavr harness")
    cflags, libs = _simavr_flags()
    source = SIMAVR_HARNESS_SRC.read_text()

    def build(out: Path) -> None:
        cmd = [cc, "-std=c99", "-O2", "-Wall", "-Wextra", *cflags, str(SIMAVR_HARNESS_SRC), "-o", str(out)]
        _compile([*cmd, *libs], "the simavr harness", out)

    return _cached_build(cache_dir, "simavr_harness", [source, cc, *cflags, *libs], build)


def compile_avr(
    sources: Sequence[Path],
    out_elf: Path,
    *,
    include_dirs: Sequence[Path] = (),
    defines: Sequence[str] = (),
    opt: str = AVR_OPT,
    link_flags: Sequence[str] = (),
    libs: Sequence[str] = (),
) -> Path:
    """Build an ATmega328P (16 MHz) ELF from ``sources`` plus target_avr.c.

    ``link_flags`` are added to the command as they are (e.g. ``-Wl,...`` options); ``libs``
    (e.g. ``-lm``) come after the sources."""
    cc = _tool("avr-gcc", "Debian packages gcc-avr and avr-libc")
    cmd = [
        cc,
        f"-mmcu={AVR_MCU}",
        f"-DF_CPU={AVR_F_CPU}UL",
        *_common_flags(include_dirs, defines, opt),
        "-ffunction-sections",
        "-fdata-sections",
        "-Wl,--gc-sections",
        *link_flags,
        *_with_target(sources, TARGET_AVR),
        *libs,
        "-o",
        str(out_elf),
    ]
    return _compile(cmd, f"AVR firmware {out_elf.name}", out_elf)


def _size(tool: str, elf: Path) -> tuple[int, int, int]:
    proc = subprocess.run([tool, str(elf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"{tool} {elf}: {proc.stderr.strip()}")
    # Berkeley format: a header line, then "text data bss dec hex filename".
    text, data, bss = (int(v) for v in proc.stdout.splitlines()[1].split()[:3])
    return text, data, bss


def avr_size(elf: Path) -> tuple[int, int]:
    """(flash bytes, static RAM bytes) of an AVR ELF: text+data and data+bss, as avr-size reports.

    Note: on AVR, ``const`` arrays live in RAM (copied from flash at start) unless declared
    PROGMEM/__flash, so they count in both figures.
    """
    text, data, bss = _size(_tool("avr-size", "Debian package binutils-avr"), elf)
    return text + data, data + bss


# The model's own symbols in an AVR firmware: its constants (k_*, in flash), the kernel variants and
# hlsfix_predict (hlsfix_*) and the kernel library's helper.
_MODEL_SYMBOL = re.compile(r"^(k_|hlsfix_|load_bytes$)")


def avr_model_flash(elf: Path) -> int:
    """Flash bytes of the model alone in a firmware: its constants and code (symbols of model.c and
    the kernel library), without the firmware's test inputs, harness or C library routines."""
    nm = _tool("avr-nm", "Debian package binutils-avr")
    out = subprocess.run([nm, "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTrR" and _MODEL_SYMBOL.match(parts[3]):
            total += int(parts[1], 16)
    return total


def run_avr(
    elf: Path,
    *,
    cycle_limit: int = 1_000_000_000,
    timeout_s: float = 600.0,
    cache_dir: Path | None = None,
) -> FirmwareRun:
    """Run an AVR firmware in simavr until it calls target_exit().

    Raises SimulationTimeout when it runs more than ``cycle_limit`` CPU cycles (or, as a safety
    net, ``timeout_s`` seconds of wall time), SimulationError when it crashes or misuses the markers.
    """
    harness = build_simavr_harness(cache_dir or default_cache_dir())
    cmd = [str(harness), "--cycle-limit", str(cycle_limit), str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as e:
        raise SimulationTimeout(f"simavr: {elf.name} still running after {timeout_s:g} s") from e
    if proc.returncode == _AVR_EXIT_CYCLE_LIMIT:
        raise SimulationTimeout(
            f"simavr: {elf.name} exceeded the cycle limit of {cycle_limit} cycles "
            f"without calling target_exit(): {proc.stderr.strip()}"
        )
    if proc.returncode != 0:
        raise SimulationError(
            f"simavr: {elf.name} failed (harness exit status {proc.returncode}):\n"
            f"{proc.stderr.strip()}\n{_tail(proc.stdout)}"
        )
    pairs = _parse_lines(proc.stdout, frozenset({"cycles", "data", "max_stack", "exit"}))
    stack = [int(v) for k, v in pairs if k == "max_stack"]
    return FirmwareRun(
        records=_records(pairs),
        measurements=tuple(int(v) for k, v in pairs if k == "cycles"),
        unit="cycles",
        max_stack_bytes=stack[-1] if stack else None,
        simulator=f"simavr {AVR_MCU} @ {AVR_F_CPU // 1_000_000} MHz",
    )


# --------------------------------------------------------------------------------------------
# Cortex-M (QEMU)


def compile_cortex_m(
    sources: Sequence[Path],
    out_elf: Path,
    *,
    cpu: str = "cortex-m3",
    include_dirs: Sequence[Path] = (),
    defines: Sequence[str] = (),
    opt: str = "-Os",
) -> Path:
    """Build a bare-metal ELF for the QEMU MPS2 boards from ``sources`` plus target_cortexm.c.

    ``cpu`` is "cortex-m3" (mps2-an385, soft float) or "cortex-m4" (mps2-an386, FPU, hard-float ABI).
    Startup code is our own (-nostartfiles); newlib's libc/libgcc are still linked for helpers
    such as memcpy or 64-bit division.
    """
    if cpu not in CORTEX_M_FLAGS:
        raise ValueError(f"cpu must be one of {sorted(CORTEX_M_FLAGS)}, not {cpu!r}")
    cc = _tool("arm-none-eabi-gcc", "Debian packages gcc-arm-none-eabi and libnewlib-arm-none-eabi")
    cmd = [
        cc,
        *CORTEX_M_FLAGS[cpu],
        *_common_flags(include_dirs, defines, opt),
        "-ffunction-sections",
        "-fdata-sections",
        "-nostartfiles",
        f"-T{MPS2_LINKER_SCRIPT}",
        "-Wl,--gc-sections",
        *_with_target(sources, TARGET_CORTEXM),
        "-o",
        str(out_elf),
    ]
    return _compile(cmd, f"Cortex-M firmware {out_elf.name}", out_elf)


def cortex_m_size(elf: Path) -> tuple[int, int]:
    """(flash bytes, static RAM bytes) of a Cortex-M ELF, not counting the reserved stack region."""
    tool = _tool("arm-none-eabi-size", "Debian package binutils-arm-none-eabi")
    proc = subprocess.run([tool, "-A", str(elf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"{tool} {elf}: {proc.stderr.strip()}")
    sizes: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    data, bss = sizes.get(".data", 0), sizes.get(".bss", 0)
    return sizes.get(".text", 0) + sizes.get(".ARM.exidx", 0) + data, data + bss


def _symbol_addresses(elf: Path, names: Sequence[str]) -> dict[str, int]:
    """Addresses of those of ``names`` that the ELF defines (the linker drops unused functions)."""
    nm = _tool("arm-none-eabi-nm", "Debian package binutils-arm-none-eabi")
    proc = subprocess.run([nm, str(elf)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ToolError(f"{nm} {elf}: {proc.stderr.strip()}")
    found: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in names:
            found[parts[2]] = int(parts[0], 16) & ~1  # clear the Thumb bit
    return found


def build_qemu_plugin(cache_dir: Path, api_version: int = 1) -> Path:
    """Compile the instruction-counting TCG plugin (once per API version; cached)."""
    cc = _tool("gcc", "the host C compiler builds the QEMU plugin")
    source = QEMU_PLUGIN_SRC.read_text()
    flags = [
        "-std=c99",
        "-O2",
        "-Wall",
        "-Wextra",
        "-shared",
        "-fPIC",
        f"-DHLSFIX_QEMU_PLUGIN_API={api_version}",
    ]

    def build(out: Path) -> None:
        _compile([cc, *flags, str(QEMU_PLUGIN_SRC), "-o", str(out)], "the QEMU plugin", out)

    return _cached_build(cache_dir, "libhlsfix_insn", [source, cc, *flags], build)


# Plugin argument -> marker function whose (only) instruction it watches.
MARKERS = {"begin": "target_measure_begin", "end": "target_measure_end"}

# QEMU's complaint when the plugin declares an API version it does not accept.
_PLUGIN_VERSION_RE = re.compile(r"supports only (?:a minimum version of|up to version) (\d+)")


def run_qemu(
    elf: Path,
    *,
    machine: str = "mps2-an385",
    timeout_s: float = 60.0,
    cache_dir: Path | None = None,
) -> FirmwareRun:
    """Run a Cortex-M firmware in QEMU until it calls target_exit(); count instructions per region.

    Instruction counting: QEMU (TCG) has no cycle model, so ``qemu_insn_plugin.c`` -- built here
    with the host compiler, since Debian ships no TCG plugins -- is loaded with ``-plugin``.  It
    sees every executed guest instruction and reports, per begin/end marker pair, the number
    executed in between (markers subtracted: an empty region is 0).  The markers are found by
    the addresses of ``target_measure_begin``/``target_measure_end`` in the ELF symbol table.
    These are *instructions*, not cycles: a Cortex-M3/M4 spends 1 to ~12 cycles on each.

    The ELF must be built for the machine's CPU (compile_cortex_m(cpu=QEMU_MACHINES[machine]));
    an M4 hard-float build on mps2-an385 faults on its first FPU instruction.

    Raises SimulationTimeout after ``timeout_s`` seconds of wall time, SimulationError when the
    firmware faults (target_cortexm.c's fault handler prints the exception number and PC, then
    exits QEMU with status 1), misuses the markers, or QEMU fails.
    """
    if machine not in QEMU_MACHINES:
        raise ValueError(f"machine must be one of {sorted(QEMU_MACHINES)}, not {machine!r}")
    qemu = _tool("qemu-system-arm", "Debian package qemu-system-arm")
    cache = cache_dir or default_cache_dir()
    marks = _symbol_addresses(elf, tuple(MARKERS.values()))
    with tempfile.TemporaryDirectory(prefix="hlsfix-qemu-") as tmp:
        counts = Path(tmp) / "instructions.txt"
        api_version = 1
        for _attempt in range(2):
            plugin = build_qemu_plugin(cache, api_version)
            # A firmware that never measures has no markers (--gc-sections dropped them).
            plugin_arg = ",".join(
                [str(plugin), f"out={counts}"]
                + [f"{key}={marks[name]:#x}" for key, name in MARKERS.items() if name in marks]
            )
            cmd = [
                qemu,
                "-M",
                machine,
                "-display",
                "none",
                "-monitor",
                "none",
                "-serial",
                "none",
                # Semihosting output goes to QEMU's stdout; by default it would go to stderr.
                "-chardev",
                "stdio,id=semihosting",
                "-semihosting-config",
                "enable=on,target=native,chardev=semihosting",
                "-kernel",
                str(elf),
                "-plugin",
                plugin_arg,
            ]
            try:
                proc = subprocess.run(
                    cmd,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired as e:
                raise SimulationTimeout(
                    f"qemu {machine}: {elf.name} did not exit within {timeout_s:g} s "
                    "(it never called target_exit()?)"
                ) from e
            wanted = _PLUGIN_VERSION_RE.search(proc.stderr)
            if proc.returncode != 0 and wanted and int(wanted.group(1)) != api_version:
                api_version = int(wanted.group(1))
                continue
            break
        if proc.returncode != 0:
            raise SimulationError(
                f"qemu {machine}: {elf.name} failed (exit status {proc.returncode}):\n"
                f"{proc.stderr.strip()}\n{_tail(proc.stdout)}"
            )
        plugin_out = counts.read_text() if counts.exists() else ""
    plugin_pairs = _parse_lines(plugin_out, frozenset({"instructions", "error"}))
    errors = [v for k, v in plugin_pairs if k == "error"]
    if errors:
        raise SimulationError(
            f"qemu {machine}: {elf.name} misused the measurement markers: {'; '.join(errors)}"
        )
    pairs = _parse_lines(proc.stdout, frozenset({"data", "max_stack"}))
    stack = [int(v) for k, v in pairs if k == "max_stack"]
    return FirmwareRun(
        records=_records(pairs),
        measurements=tuple(int(v) for k, v in plugin_pairs if k == "instructions"),
        unit="instructions",
        max_stack_bytes=stack[-1] if stack else None,
        simulator=f"qemu {machine} ({QEMU_MACHINES[machine]})",
    )


# --------------------------------------------------------------------------------------------
# host


SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


def compile_host(
    sources: Sequence[Path],
    out_exe: Path,
    *,
    sanitize: bool,
    include_dirs: Sequence[Path] = (),
    defines: Sequence[str] = (),
    opt: str = "-O1",
    libs: Sequence[str] = (),
) -> Path:
    """Build a native executable from ``sources`` plus target_host.c, optionally with ASan+UBSan;
    ``libs`` (e.g. ``-lm``) come after the sources."""
    cc = _tool("gcc")
    cmd = [
        cc,
        *_common_flags(include_dirs, defines, opt),
        "-g",
        *(SANITIZE_FLAGS if sanitize else ()),
        *_with_target(sources, TARGET_HOST),
        *libs,
        "-o",
        str(out_exe),
    ]
    return _compile(cmd, f"host firmware {out_exe.name}", out_exe)


def run_host(exe: Path, *, timeout_s: float = 60.0) -> FirmwareRun:
    """Run a host build; a sanitizer report or a non-zero exit raises SimulationError."""
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    try:
        proc = subprocess.run(
            [str(exe)], capture_output=True, text=True, timeout=timeout_s, env=env, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise SimulationTimeout(f"host: {exe.name} did not exit within {timeout_s:g} s") from e
    if proc.returncode != 0:
        raise SimulationError(
            f"host: {exe.name} failed (exit status {proc.returncode}):\n{_tail(proc.stderr, 60)}"
        )
    return FirmwareRun(
        records=_records(_parse_lines(proc.stdout, frozenset({"data"}))),
        measurements=(),
        unit="none",
        max_stack_bytes=None,
        simulator="host",
    )
