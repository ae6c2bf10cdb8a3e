"""The host side of an MCU + FPGA split as C: the MCU's kernels, the transfers around each
segment, and the driver that moves them over SPI (Arduino Uno) or memory-mapped I/O (MicroBlaze).

``emit_host`` writes into ``out_dir``:

* ``hlsfix_accel_map.h`` — generated: the register map (from ``regmap.py``), the segment numbers,
  and for every tensor that crosses the link its data-window word, element count and stride (a
  buffer) or its register word (an integer register), from the accelerator image's layout;
* ``model_host.h``/``model_host.c`` — ``hlsfix_predict`` (or ``hlsfix_predict_out``): the MCU
  kernels emitted by the C backend's emitter, and before each segment its writes, the run, and its
  reads; a driver error ends the prediction with -1 and ``hlsfix_accel_error``;
* the hand-written driver ``hlsfix_accel.[ch]``, the transports (``transport_*.c``) and the kernel
  library, copied so that the directory builds on its own;
* mains: ``main_cosim.c`` (host process against a simulator, see ``pipe.py``); for MMIO
  ``main_mmio.c`` (bare-metal soft CPU); for SPI ``main_avr.c`` (Uno without the Arduino core),
  the Arduino sketch ``sketch/<name>_host/<name>_host.ino`` and ``WIRING.md``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from hlsfix.backend_common import c_type, describe, int_rows, output_buffer, template_env
from hlsfix.codesign import regmap
from hlsfix.codesign.transfers import FPGA, MCU, Partition, Segment
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.mcu import runners
from hlsfix.mcu.emit import KERNEL_FILES, KERNELS_DIR, _Emitter, arena_buffers, const_arrays, model_context
from hlsfix.memory.liveness import MemoryPlan, plan_memory
from hlsfix.rtl.isa import Src
from hlsfix.rtl.microcode import Image

Link = Literal["spi", "mmio"]
LINKS: tuple[Link, ...] = ("spi", "mmio")
C_DIR = Path(__file__).parent / "c"
TEMPLATES_DIR = Path(__file__).parent / "templates"
DRIVER_FILES = ("hlsfix_accel.h", "hlsfix_accel.c")
TRANSPORTS: dict[str, str] = {"spi": "transport_avr_spi.c", "mmio": "transport_mmio.c"}  # the real link
COSIM_FILES = ("transport_cosim.c", "transport_cosim.h")
SPI_HZ = 8_000_000  # the Uno's fastest SPI clock (fosc / 2)
BAUD = 115200
# Where the FPGA's SPI slave pins are: the FPGA build's constraints decide; these defaults follow
# the Digilent Pmod SPI pinout on header JA (pin 1 CS, 2 MOSI, 3 MISO, 4 SCK).
ARTY_SPI_PINS: Mapping[str, str] = {
    "SCK": "Pmod JA pin 4",
    "MISO": "Pmod JA pin 3",
    "MOSI": "Pmod JA pin 2",
    "SS": "Pmod JA pin 1",
}
_UNO_PINS = (
    ("SCK", "D13 (PB5)", "Uno → FPGA"),
    ("MISO", "D12 (PB4)", "FPGA → Uno"),
    ("MOSI", "D11 (PB3)", "Uno → FPGA"),
    ("SS", "D10 (PB2)", "Uno → FPGA"),
)
_CONTROL = (
    ("ID", regmap.ID, "R: HLSFIX_ACCEL_ID_VALUE"),
    ("STATUS", regmap.STATUS, "R: busy, done, error code, segment last started"),
    ("START", regmap.START, "W: a segment number starts that segment"),
    ("CLEAR", regmap.CLEAR, "W: any value clears the sticky error code"),
    ("CYCLES", regmap.CYCLES, "R: accelerator cycles of the last segment"),
    ("INFO", regmap.INFO, "R: segments (bits 0-7), RAM word bits (8-15), RAM depth (16-31)"),
)
_ERROR_COMMENTS = {
    regmap.Error.BAD_COMMAND: "an SPI command byte other than read or write",
    regmap.Error.BAD_ADDRESS: "unmapped, read-only written, write-only read or unaligned",
    regmap.Error.BUSY: "a register or data access, or START, while a segment runs",
    regmap.Error.BAD_SEGMENT: "START of a segment the design does not have",
}


@dataclass(frozen=True)
class EmittedHost:
    """What ``emit_host`` wrote: every file, and the sources and include directory of a build."""

    out_dir: Path
    link: Link
    files: tuple[Path, ...]
    model_sources: tuple[Path, ...]  # model_host.c, hlsfix_accel.c, hlsfix_kernels.c (no main, no transport)

    def sources(self, main: str, transport: str) -> tuple[Path, ...]:
        """The C files of one program: ``main`` (e.g. ``main_cosim.c``) and ``transport``."""
        return (self.out_dir / main, *self.model_sources, self.out_dir / transport)


def _macro(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _kernel_name(k: kp.Kernel) -> str:
    return f"loop over {k.index}" if isinstance(k, kp.Loop) else f"{type(k).__name__} {getattr(k, 'out', '')}"


class _HostEmitter(_Emitter):
    """The C backend's emitter, run over the MCU's kernels only, with the segments' transfers."""

    def __init__(self, program: KernelProgram, plan: MemoryPlan, partition: Partition) -> None:
        super().__init__(program, plan)
        self.partition = partition

    def host_body(self) -> None:
        for i, k in enumerate(self.p.kernels):
            segment = self.partition.segment_before(i)
            if segment is not None:
                self.transfers(segment)
            if self.partition.sides[i] == MCU:
                self.block((k,), 1)
            else:  # on the accelerator: keep step numbers (labels, scratch offsets) in walk order
                self.step += sum(1 for _ in kp.walk_kernels((k,)))

    def transfers(self, s: Segment) -> None:
        first, last = s.kernels[0], s.kernels[-1]
        span = f"kernel {first}" if first == last else f"kernels {first}-{last}"
        what = ", ".join(_kernel_name(self.p.kernels[i]) for i in s.kernels[:4])
        what += ", ..." if len(s.kernels) > 4 else ""
        self.call(f"    /* ---- segment {s.index} on the accelerator: {span} ({what}) ---- */")
        for name in s.writes:
            self.call(f"    HLSFIX_TRY({self.transfer('write', name)});")
        self.call(f"    HLSFIX_TRY(hlsfix_accel_run(HLSFIX_SEGMENT_{s.index}));")
        for name in s.reads:
            self.call(f"    HLSFIX_TRY({self.transfer('read', name)});")

    def transfer(self, op: str, name: str) -> str:
        m = _macro(name)
        if name in self.p.registers:
            value = name if op == "write" else f"&{name}"
            return f"hlsfix_accel_{op}_reg(HLSFIX_INTREG_{m}_WORD, {value})"
        if op == "read" and self.bufs[name].kind != "temp":
            raise ValueError(f"only temporaries can come back from the accelerator, not {name}")
        c = self.cname(name)
        return (
            f"hlsfix_accel_{op}(HLSFIX_BUF_{m}_WORD, {c}, sizeof *{c}, HLSFIX_BUF_{m}_COUNT, "
            f"HLSFIX_BUF_{m}_STRIDE)"
        )


def map_context(program: KernelProgram, partition: Partition, image: Image | None, link: Link) -> dict:
    """The values of ``hlsfix_accel_map.h``."""
    segments, tensors = [], []
    info = 0
    word_bits = image.word_bits if image is not None else 16
    if partition.segments:
        if image is None or len(image.segment_entries) != len(partition.segments):
            raise ValueError("the accelerator image must be compiled with the partition's segments")
        info = regmap.RegisterMap(len(partition.segments), len(image.regs), image.ram_depth, word_bits).info
    moves: dict[str, list[str]] = {}
    for s in partition.segments:
        labels = ", ".join(_kernel_name(program.kernels[i]) for i in s.kernels)
        segments.append({"index": s.index, "comment": f"kernels {list(s.kernels)}: {labels}"})
        for name in s.writes:
            moves.setdefault(name, []).append(f"written before segment {s.index}")
        for name in s.reads:
            moves.setdefault(name, []).append(f"read after segment {s.index}")
    for name, when in moves.items():
        assert image is not None
        t = {"macro": _macro(name), "register": name in program.registers}
        if t["register"]:
            t |= {
                "word": regmap.REG_BASE + image.regs[name],
                "comment": f"register {name}: {'; '.join(when)}",
            }
        else:
            loc = image.locs[name]
            if loc.space != Src.RAM:
                raise ValueError(f"tensor {name} must be in the accelerator's RAM, not in {loc.space.name}")
            b = program.buffer(name)
            t |= {
                "word": regmap.DATA_BASE + loc.base,
                "ram_word": loc.base,
                "count": b.size,
                "stride": loc.scale,
                "comment": f"{describe(b)} ({c_type(b.fmt)} on the host): {'; '.join(when)}",
            }
        tensors.append(t)
    return {
        "name": program.name,
        "link": link,
        "link_name": "SPI (mode 0)" if link == "spi" else "AXI4-Lite memory-mapped I/O",
        "id_value": regmap.ID_VALUE,
        "info_value": info,
        "info_comment": f"{len(segments)} segments, {word_bits}-bit RAM words"
        + (f", {image.ram_depth} words" if image is not None else ""),
        "control": [{"name": n, "word": w, "comment": c} for n, w, c in _CONTROL],
        "control_words": regmap.CONTROL_WORDS,
        "reg_base": regmap.REG_BASE,
        "data_base": regmap.DATA_BASE,
        "data_bytes": (word_bits + 7) // 8,
        "word_bits": word_bits,
        "status_busy": regmap.STATUS_BUSY,
        "status_done": regmap.STATUS_DONE,
        "error_shift": regmap.STATUS_ERROR_SHIFT,
        "segment_shift": regmap.STATUS_SEGMENT_SHIFT,
        "spi_write": regmap.SPI_WRITE,
        "spi_read": regmap.SPI_READ,
        "errors": [{"name": e.name, "value": int(e), "comment": _ERROR_COMMENTS[e]} for e in _ERROR_COMMENTS],
        "segments": segments,
        "tensors": tensors,
    }


def model_host_context(program: KernelProgram, partition: Partition, plan: MemoryPlan) -> dict:
    """The values of ``model_host.[ch]``."""
    em = _HostEmitter(program, plan, partition)
    em.host_body()
    inb = program.input_buffer
    # buffers only the accelerator touches need no name here
    buffers = arena_buffers(program, plan, em, only_named=True)
    consts = const_arrays(program, em)
    out_buf = output_buffer(program)
    return {
        **model_context(program, plan, em, out_buf),
        "bits": program.bits,
        "partition": partition.describe(),
        "in_ctype": c_type(inb.fmt),
        "in_frac": inb.fmt.frac,
        "in_comment": describe(inb),
        "out_ctype": c_type(out_buf.fmt) if out_buf else "int16_t",
        "buffers": buffers,
        "consts": consts,
        "has_segments": bool(partition.segments),
        # no arena when every kernel that needs one (a temporary, a sparse scratch) is on the FPGA
        "needs_arena": bool(buffers) or any("hlsfix_arena" in line for line in em.lines),
        "uses_input": program.input in em.used,
    }


def emit_host(
    program: KernelProgram,
    partition: Partition,
    image: Image | None,
    link: Link,
    out_dir: Path,
    *,
    example: np.ndarray | None = None,
    expected: int = 0,
    fpga_pins: Mapping[str, str] = ARTY_SPI_PINS,
    board: str = "Arty A7",
) -> EmittedHost:
    """Write the host C of ``partition`` (see the module doc) to ``out_dir``.

    ``image``: the accelerator compiled with the partition's segments (``compile_image(...,
    segments=[s.kernels for s in partition.segments])``); None only when no kernel is on the FPGA.
    ``example``/``expected``: a quantised input and its result, built into the demo mains (zeros
    and 0 by default). ``fpga_pins``: the FPGA side of each SPI signal for WIRING.md."""
    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}, not {link!r}")
    if len(partition.sides) != len(program.kernels):
        raise ValueError(
            f"the partition must place {len(program.kernels)} kernels, not {len(partition.sides)}"
        )
    if program.bits == "float":
        raise ValueError("the host C needs a fixed-point program, not a float one")
    out_dir.mkdir(parents=True, exist_ok=True)
    env = template_env(TEMPLATES_DIR)
    plan = plan_memory(program)
    ctx = model_host_context(program, partition, plan)
    inb = program.input_buffer
    x = np.zeros(inb.size, dtype=np.int64) if example is None else np.asarray(example).reshape(-1)
    demo = {**ctx, "example": int_rows(x), "expected": expected, "in_size": inb.size, "baud": BAUD}
    files: dict[str, str] = {
        "hlsfix_accel_map.h": env.get_template("hlsfix_accel_map.h.j2").render(
            **map_context(program, partition, image, link)
        ),
        "model_host.h": env.get_template("model_host.h.j2").render(**ctx),
        "model_host.c": env.get_template("model_host.c.j2").render(**ctx),
        "main_cosim.c": env.get_template("main_cosim.c.j2").render(**ctx),
    }
    sketch = f"{program.name}_host"
    if link == "mmio":
        files["main_mmio.c"] = env.get_template("main_mmio.c.j2").render(**demo)
    else:
        files["main_avr.c"] = env.get_template("main_avr.c.j2").render(**demo)
        files[f"sketch/{sketch}/{sketch}.ino"] = env.get_template("host_sketch.ino.j2").render(**demo)
        files["WIRING.md"] = env.get_template("WIRING.md.j2").render(
            **wiring_context(program, fpga_pins, board)
        )
    written = [_write(out_dir / rel, text) for rel, text in files.items()]
    transports = (TRANSPORTS[link], *COSIM_FILES)
    for directory, names in ((C_DIR, DRIVER_FILES + transports), (KERNELS_DIR, KERNEL_FILES)):
        for n in names:
            written.append(Path(shutil.copyfile(directory / n, out_dir / n)))
    if link == "spi":  # the Arduino IDE compiles the files beside the sketch, and only those
        sketch_dir = out_dir / "sketch" / sketch
        beside = ("hlsfix_accel_map.h", "model_host.h", "model_host.c", TRANSPORTS["spi"])
        for n in (*beside, *DRIVER_FILES, *KERNEL_FILES):
            written.append(Path(shutil.copyfile(out_dir / n, sketch_dir / n)))
    model_sources = tuple(out_dir / n for n in ("model_host.c", "hlsfix_accel.c", "hlsfix_kernels.c"))
    return EmittedHost(out_dir, link, tuple(written), model_sources)


def wiring_context(program: KernelProgram, fpga_pins: Mapping[str, str], board: str) -> dict:
    missing = [s for s, _, _ in _UNO_PINS if s not in fpga_pins]
    if missing:
        raise ValueError(f"fpga_pins must name a pin for each SPI signal; {missing} have none")
    placeholder = fpga_pins is ARTY_SPI_PINS
    note = (
        "The FPGA pins above are the default placement (the Digilent Pmod SPI pinout on header JA); "
        "the FPGA build's constraint file is what decides: check it before wiring."
        if placeholder
        else "The FPGA pins above are those of the FPGA build's constraints."
    )
    return {
        "name": program.name,
        "board": board,
        "spi_mhz": SPI_HZ // 1_000_000,
        "signals": [{"name": s, "uno": u, "direction": d, "fpga": fpga_pins[s]} for s, u, d in _UNO_PINS],
        "pins_note": note,
        "sketch": f"sketch/{program.name}_host/{program.name}_host.ino",
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fpga_segments(partition: Partition) -> list[list[int]]:
    """The ``segments`` argument of ``compile_image`` for ``partition``."""
    return [list(s.kernels) for s in partition.segments]


def sides_of(program: KernelProgram, fpga: Sequence[int]) -> tuple[str, ...]:
    """Sides with the top-level kernels ``fpga`` on the FPGA and the rest on the MCU."""
    return tuple(FPGA if i in set(fpga) else MCU for i in range(len(program.kernels)))


# -- builds ------------------------------------------------------------------------------------


def _build(cmd: list[str], out: Path) -> Path:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise runners.FirmwareBuildError(f"$ {' '.join(cmd)}\n{proc.stderr.strip()}")
    return out


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise runners.ToolMissing(name)
    return path


def compile_cosim(
    host: EmittedHost, exe: Path, *, sanitize: bool = True, defines: Sequence[str] = ()
) -> Path:
    """Build ``main_cosim.c`` with ``transport_cosim.c`` for this machine (warnings are errors;
    AddressSanitizer and UBSan unless ``sanitize`` is False)."""
    cmd = [
        _compiler("gcc"),
        "-std=c99",
        "-O1",
        "-g",
        *runners.WARNINGS,
        *(runners.SANITIZE_FLAGS if sanitize else ()),
        f"-I{host.out_dir}",
        *(f"-D{d}" for d in defines),
        *map(str, host.sources("main_cosim.c", "transport_cosim.c")),
        "-o",
        str(exe),
    ]
    return _build(cmd, exe)


def compile_avr_host(host: EmittedHost, elf: Path, *, opt: str = "-Os") -> Path:
    """Build ``main_avr.c`` with ``transport_avr_spi.c`` for the Uno (ATmega328P, 16 MHz)."""
    if host.link != "spi":
        raise ValueError("the AVR host talks SPI: emit it with link='spi'")
    cmd = [
        _compiler("avr-gcc"),
        f"-mmcu={runners.AVR_MCU}",
        f"-DF_CPU={runners.AVR_F_CPU}UL",
        "-std=c99",
        opt,
        *runners.WARNINGS,
        "-ffunction-sections",
        "-fdata-sections",
        "-Wl,--gc-sections",
        f"-I{host.out_dir}",
        *map(str, host.sources("main_avr.c", "transport_avr_spi.c")),
        "-o",
        str(elf),
    ]
    return _build(cmd, elf)
