"""The host C of an MCU + FPGA split: compiled with gcc (-Werror, ASan + UBSan) and run over the
co-simulation pipe against the functional model of the accelerator, it gives the golden model's
outputs for every partition (all-FPGA, all-MCU, mixed ones) on both links; the driver's error
paths end a prediction with the documented code and never hang; the Uno build fits."""

from __future__ import annotations

import dataclasses
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import hlsfix
from hlsfix.codesign import host_c, pipe, regmap
from hlsfix.codesign.functional import Fault, FunctionalAccelerator, serve
from hlsfix.codesign.regmap import Error
from hlsfix.codesign.transfers import Partition, plan_partition
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import quantize_input, run_golden
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.fixedpoint.scales import partial_sums
from hlsfix.mcu import runners
from hlsfix.rtl.microcode import Image, compile_image
from hlsfix.zoo import load_model
from tests.tools import require_tool

N_INPUTS = 24
TIMEOUT_S = 30.0
ALL = "all"
# FPGA kernels of each partition tested (top-level kernel indices; ALL: every kernel).
PARTITIONS: dict[str, dict[str, tuple[int, ...] | str]] = {
    "protonn": {
        "all-fpga": ALL,
        "all-mcu": (),
        "loop-on-fpga": (2,),  # SparseMatVec, Fill on the MCU | loop | Argmax on the MCU
        "two-segments": (0, 3),
    },
    "bonsai": {
        "all-fpga": ALL,
        "all-mcu": (),
        "register-back": tuple(range(8)),  # r_sel (node choice) comes back from the FPGA
        "register-out": tuple(range(8, 14)),  # r_sel goes to the FPGA, t_16 comes back
        "three-segments": (3, 4, 18, 19, 26),
    },
    "fastgrnn": {
        "all-fpga": ALL,
        "all-mcu": (),
        "loop-on-fpga": (2,),  # Fill, Rescale on the MCU | the recurrence | MatMul, AddSub, Argmax
        "loop-and-head": (1, 2, 3),
    },
    # mlp without its Argmax: the output is a buffer (hlsfix_predict_out)
    "mlp-scores": {
        "all-fpga": ALL,
        "head-on-fpga": (3, 4),
    },
    # <model>@<bits>: 8-bit RAM words (one byte a word on SPI); mixed 8/16-bit buffers, where a
    # 16-bit element takes two RAM words (stride 2) and 8-bit elements sit in 16-bit words
    "mlp@8": {
        "all-fpga": ALL,
        "head-on-fpga": (3, 4),
    },
    "fastgrnn@mixed": {
        "all-fpga": ALL,
        "loop-on-fpga": (2,),
        "input-and-loop": (1, 2),
    },
}
CASES = [(m, p) for m, ps in PARTITIONS.items() for p in ps]


@dataclass(frozen=True)
class Split:
    program: KernelProgram
    partition: Partition
    image: Image | None
    x_q: np.ndarray
    golden: np.ndarray

    @property
    def segments(self) -> list[list[int]]:
        return host_c.fpga_segments(self.partition)


def _scores(program: KernelProgram) -> KernelProgram:
    """``program`` without its final Argmax: it outputs the buffer the Argmax read."""
    argmax = program.kernels[-1]
    assert isinstance(argmax, kp.Argmax)
    return dataclasses.replace(
        program,
        kernels=program.kernels[:-1],
        output=argmax.x.buffer,
        output_is_class=False,
        registers=tuple(r for r in program.registers if r != program.output),
        labels=program.labels[:-1],
    )


@cache
def _program(name: str) -> tuple[KernelProgram, np.ndarray, np.ndarray]:
    model, _, bits = name.partition("@")
    zoo_name = model.removesuffix("-scores")
    program = hlsfix.compile(zoo_name, bits=bits or "16").program
    if model.endswith("-scores"):
        program = _scores(program)
    data = load_model(zoo_name).data
    assert data is not None
    x_q = quantize_input(program, data.x_test)[:N_INPUTS]
    return program, x_q, run_golden(program, x_q).output


@cache
def split(name: str, which: str) -> Split:
    program, x_q, golden = _program(name)
    fpga = PARTITIONS[name][which]
    fpga = range(len(program.kernels)) if fpga == ALL else fpga
    partition = plan_partition(program, host_c.sides_of(program, fpga))
    image = (
        compile_image(program, 1, segments=host_c.fpga_segments(partition)) if partition.segments else None
    )
    return Split(program, partition, image, x_q, golden)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("codesign")


_builds: dict[tuple, tuple[host_c.EmittedHost, Path]] = {}


def cosim_build(
    build_dir: Path, name: str, which: str, link: host_c.Link, defines: tuple[str, ...] = ()
) -> tuple[host_c.EmittedHost, Path]:
    """The emitted host and its cosim executable, built once per module."""
    key = (name, which, link, defines)
    if key not in _builds:
        require_tool("gcc")
        s = split(name, which)
        out = build_dir / f"{name}-{which}-{link}-{len(defines)}"
        host = host_c.emit_host(s.program, s.partition, s.image, link, out)
        _builds[key] = (host, host_c.compile_cosim(host, out / "main_cosim", defines=defines))
    return _builds[key]


def cosim(exe: Path, s: Split, x_q: np.ndarray, work: Path, **faults: object) -> list[str]:
    """Run ``exe`` on ``x_q`` against a functional accelerator: its output lines."""
    work.mkdir(parents=True, exist_ok=True)
    inputs, outputs = work / "inputs.txt", work / "outputs.txt"
    inputs.write_text("".join(" ".join(map(str, row)) + "\n" for row in x_q))
    proc = subprocess.Popen(
        [str(exe), str(inputs), str(outputs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if s.image is not None:
            model = FunctionalAccelerator(s.program, s.image, s.segments, **faults)  # type: ignore[arg-type]
            log = serve(proc, model, timeout_s=TIMEOUT_S)
            assert not log.timed_out, "the host did not finish"
            assert log.finished
        _, err = proc.communicate(timeout=TIMEOUT_S)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    return outputs.read_text().splitlines()


@pytest.mark.parametrize("link", host_c.LINKS)
@pytest.mark.parametrize(("name", "which"), CASES)
def test_host_over_the_pipe_equals_golden(build_dir: Path, name: str, which: str, link: host_c.Link) -> None:
    s = split(name, which)
    _, exe = cosim_build(build_dir, name, which, link)
    lines = cosim(exe, s, s.x_q, build_dir / f"run-{name}-{which}-{link}")
    got = np.array([[int(v) for v in line.split()] for line in lines]).reshape(len(lines), -1)
    got = got.reshape(-1) if s.golden.ndim == 1 else got
    assert got.shape == s.golden.shape
    assert np.array_equal(got, s.golden), f"{int(np.sum(got != s.golden))} of {len(got)} differ"


def test_partitions_cover_what_they_claim() -> None:
    """The partitions above are the ones the tests mean: loops, registers, several segments."""
    assert split("protonn", "loop-on-fpga").partition.describe() == "MMFM"
    assert split("fastgrnn", "loop-on-fpga").partition.describe() == "MMFMMM"
    program = split("bonsai", "all-fpga").program
    for which, direction in (("register-back", "reads"), ("register-out", "writes")):
        (seg,) = split("bonsai", which).partition.segments
        assert any(t in program.registers for t in getattr(seg, direction)), (which, seg)
    assert len(split("bonsai", "three-segments").partition.segments) == 3
    mixed = split("fastgrnn@mixed", "input-and-loop")
    assert mixed.image is not None
    # mixed 8/16-bit RAM: a 16-bit element takes two words, an 8-bit one one (since the mixed search
    # demotes the input too, the 16-bit buffers are the loop's, not X)
    ram = {n: loc.scale for n, loc in mixed.image.locs.items() if mixed.program.buffer(n).kind != "const"}
    assert {ram[n] for n in ram if mixed.program.buffer(n).fmt.bits == 16} == {2}
    assert {ram[n] for n in ram if mixed.program.buffer(n).fmt.bits == 8} == {1}
    mlp8 = split("mlp@8", "all-fpga")
    image = mlp8.image
    # An 8-bit program's tensors are 8-bit except the partial sums the search kept at 16 bits
    # (explore.widen_sums); its biases may be 16-bit constants since round-to-nearest is folded into
    # them (fixedpoint/round_fold.py), and the image's word is the widest.
    partial = {name.replace(".", "_") for name in partial_sums(load_model("mlp").graph)}
    assert all(b.fmt.bits == 8 or b.name in partial for b in mlp8.program.buffers if b.kind != "const")
    assert image is not None and image.word_bits == max(b.fmt.bits for b in mlp8.program.buffers) == 16


# -- error paths ---------------------------------------------------------------------------------

MAX_POLLS = 40


@pytest.mark.parametrize(
    ("link", "fault", "code", "hide_resp"),
    [
        ("spi", "hang", 16, False),
        ("mmio", "hang", 16, False),
        ("spi", "early_done", int(Error.BUSY), False),
        ("mmio", "early_done", int(Error.BUSY), False),
        ("mmio", "early_done", int(Error.BUSY), True),  # as on a MicroBlaze: found in STATUS
        ("spi", "corrupt_command", int(Error.BAD_COMMAND), False),
    ],
)
def test_driver_errors_reach_hlsfix_predict(
    build_dir: Path, link: host_c.Link, fault: Fault, code: int, hide_resp: bool
) -> None:
    """A never-done accelerator gives TIMEOUT after MAX_POLLS polls; an access refused as BUSY,
    or a garbled SPI command byte, gives that code; every prediction ends (no hang)."""
    s = split("protonn", "loop-on-fpga")
    _, exe = cosim_build(build_dir, "protonn", "loop-on-fpga", link, (f"HLSFIX_ACCEL_MAX_POLLS={MAX_POLLS}",))
    # transactions 1-3 are hlsfix_accel_check (ID, CLEAR, INFO); 4 is the first tensor write
    lines = cosim(
        exe,
        s,
        s.x_q[:3],
        build_dir / f"err-{fault}-{link}-{hide_resp}",
        fault=fault,
        corrupt_at=4,
        hide_resp=hide_resp,
    )
    assert len(lines) == 3
    assert lines[0] == f"error {code}"
    if fault == "corrupt_command":  # the error was cleared: the next inferences work
        assert [int(v) for v in lines[1:]] == list(s.golden[1:3])
    else:
        assert all(line.startswith("error ") for line in lines)


def test_the_same_build_without_faults_agrees(build_dir: Path) -> None:
    """The error-path build (few polls) is a working host: its errors come from the faults."""
    s = split("protonn", "loop-on-fpga")
    _, exe = cosim_build(
        build_dir, "protonn", "loop-on-fpga", "spi", (f"HLSFIX_ACCEL_MAX_POLLS={MAX_POLLS}",)
    )
    lines = cosim(exe, s, s.x_q[:4], build_dir / "nofault", busy_polls=MAX_POLLS - 2)
    assert [int(v) for v in lines] == list(s.golden[:4])


# -- the functional model's register map -----------------------------------------------------------


def _accelerator() -> FunctionalAccelerator:
    s = split("protonn", "loop-on-fpga")
    assert s.image is not None
    return FunctionalAccelerator(s.program, s.image, s.segments, busy_polls=1)


def _spi(acc: FunctionalAccelerator, *out: int) -> list[int]:
    acc.spi_select()
    miso = [acc.spi_transfer(b) for b in out]
    acc.spi_deselect()
    return miso


def test_functional_model_spi_protocol() -> None:
    acc = _accelerator()
    miso = _spi(acc, regmap.SPI_READ, 0, regmap.ID, 0, 0, 0, 0, 0)
    assert miso[3] == 0 and bytes(miso[4:]) == regmap.ID_VALUE.to_bytes(4, "big")
    word = regmap.DATA_BASE + 5
    _spi(acc, regmap.SPI_WRITE, word >> 8, word & 0xFF, 0xFF, 0xFE, 0x00, 0x07)  # -2, 7
    assert acc.ram[5:7] == [-2, 7]
    assert _spi(acc, regmap.SPI_READ, word >> 8, word & 0xFF, 0, 0, 0, 0, 0)[3:] == [0, 0xFF, 0xFE, 0, 7]
    _spi(acc, 0x55)
    assert acc.error == Error.BAD_COMMAND
    assert _spi(acc, regmap.SPI_READ, word >> 8, word & 0xFF, 0, 0, 0)[3] == Error.BAD_COMMAND
    _spi(acc, regmap.SPI_WRITE, 0, regmap.CLEAR, 0, 0, 0, 0)
    assert acc.error == Error.NONE


def test_functional_model_mmio_errors() -> None:
    acc = _accelerator()
    assert acc.mmio_read(4 * regmap.ID) == (regmap.ID_VALUE, 0)
    assert acc.mmio_read(4 * regmap.ID + 2) == (0, 2)
    assert acc.error == Error.BAD_ADDRESS
    acc.mmio_write(4 * regmap.CLEAR, 0)
    assert acc.mmio_write(4 * regmap.START, 7) == 2 and acc.error == Error.BAD_SEGMENT
    acc.mmio_write(4 * regmap.CLEAR, 0)
    assert acc.mmio_write(4 * regmap.ID, 1) == 2 and acc.error == Error.BAD_ADDRESS
    acc.mmio_write(4 * regmap.CLEAR, 0)
    assert acc.mmio_write(4 * regmap.START, 0) == 0
    assert acc.mmio_read(4 * regmap.DATA_BASE) == (0, 2) and acc.error == Error.BUSY  # still running
    status, _ = acc.mmio_read(4 * regmap.STATUS)
    assert status & regmap.STATUS_BUSY and status >> regmap.STATUS_ERROR_SHIFT & 0xFF == Error.BUSY
    status, _ = acc.mmio_read(4 * regmap.STATUS)
    assert status & regmap.STATUS_DONE and not status & regmap.STATUS_BUSY


def test_pipe_lines_round_trip() -> None:
    for req in (
        pipe.Request("X", (0xA5,)),
        pipe.Request("W", (0x4004, 0xFFFFFFFE)),
        pipe.Request("I", (12,)),
    ):
        assert pipe.parse_request(pipe.format_request(req)) == req
    assert pipe.format_read_reply(-1, 2) == "ffffffff 2\n"
    with pytest.raises(pipe.PipeError):
        pipe.parse_request("X 100")
    with pytest.raises(pipe.PipeError):
        pipe.parse_request("Q")


# -- generated files and other targets -----------------------------------------------------------


def test_map_header_has_the_image_addresses(build_dir: Path) -> None:
    s = split("bonsai", "register-out")
    host, _ = cosim_build(build_dir, "bonsai", "register-out", "spi")
    text = (host.out_dir / "hlsfix_accel_map.h").read_text()
    assert s.image is not None
    (seg,) = s.partition.segments
    for name in (*seg.writes, *seg.reads):
        if name in s.program.registers:
            assert f"#define HLSFIX_INTREG_{name}_WORD 0x{regmap.REG_BASE + s.image.regs[name]:04X}" in text
        else:
            assert (
                f"#define HLSFIX_BUF_{name}_WORD 0x{regmap.DATA_BASE + s.image.locs[name].base:04X}" in text
            )
    assert f"#define HLSFIX_ACCEL_ID_VALUE 0x{regmap.ID_VALUE:08X}UL" in text
    wiring = (host.out_dir / "WIRING.md").read_text()
    for needle in ("D13", "D12", "D11", "D10", "3.3 V", "not 5 V", "GND", "Pmod JA"):
        assert needle in wiring
    sketch_dir = host.out_dir / "sketch" / "bonsai_host"
    sketch = (sketch_dir / "bonsai_host.ino").read_text()
    # the sketch's link is the register-level transport (the one measured), not the SPI library
    assert "SPI.transfer" not in sketch and "transport_avr_spi.c" in sketch
    transport = (host.out_dir / "transport_avr_spi.c").read_text()
    assert (sketch_dir / "transport_avr_spi.c").read_text() == transport


@pytest.mark.parametrize(
    ("name", "which"),
    [
        ("protonn", "loop-on-fpga"),
        ("protonn", "all-fpga"),
        ("bonsai", "register-out"),
        ("bonsai", "all-fpga"),
        ("fastgrnn", "loop-on-fpga"),
        ("fastgrnn", "all-fpga"),
        ("mlp-scores", "head-on-fpga"),
    ],
)
def test_uno_host_builds_and_fits(build_dir: Path, name: str, which: str) -> None:
    """avr-gcc -Os -Werror: main_avr.c, model_host.c, the driver and transport_avr_spi.c."""
    require_tool("avr-gcc")
    s = split(name, which)
    out = build_dir / f"avr-{name}-{which}"
    host = host_c.emit_host(
        s.program,
        s.partition,
        s.image,
        "spi",
        out,
        example=s.x_q[0],
        expected=int(s.golden[0]) if s.golden.ndim == 1 else 0,
    )
    flash, ram = runners.avr_size(host_c.compile_avr_host(host, out / "host.elf"))
    print(f"\n{name} {s.partition.describe()} on the Uno: flash {flash} B, static RAM {ram} B")
    assert flash <= 32 * 1024 and ram <= 1536  # leave the stack a quarter of the 2 KB


def test_mmio_host_compiles_for_arm_and_host(build_dir: Path) -> None:
    """main_mmio.c + transport_mmio.c compile warning-free for a 32-bit bare-metal CPU and the host."""
    host, _ = cosim_build(build_dir, "fastgrnn", "loop-on-fpga", "mmio")
    sources = host.sources("main_mmio.c", "transport_mmio.c")
    for cc, flags in (("gcc", ()), ("arm-none-eabi-gcc", ("-mcpu=cortex-m3", "-mthumb"))):
        require_tool(cc)
        for src in sources:
            cmd = [cc, "-std=c99", "-Os", *runners.WARNINGS, *flags, f"-I{host.out_dir}", "-c", str(src)]
            proc = subprocess.run(
                [*cmd, "-o", str(host.out_dir / f"{src.stem}.{cc}.o")], capture_output=True, text=True
            )
            assert proc.returncode == 0, proc.stderr


# The Arduino core's declarations the sketch uses (there is no Arduino core here): enough for
# avr-g++ to compile the sketch as the IDE would, warnings as errors.
ARDUINO_H = """#pragma once
#include <avr/io.h>
#include <avr/pgmspace.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#define HIGH 1
#define LOW 0
#define OUTPUT 1
#define SS 10
class __FlashStringHelper;
#define F(s) (reinterpret_cast<const __FlashStringHelper *>(PSTR(s)))
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
unsigned long micros(void);
struct HardwareSerial {
    void begin(unsigned long baud);
    int available(void);
    long parseInt(void);
    size_t print(const __FlashStringHelper *s);
    size_t print(char c);
    size_t print(int v);
    size_t print(long v);
    size_t print(unsigned long v);
    size_t println(const __FlashStringHelper *s);
    size_t println(int v);
};
extern HardwareSerial Serial;
"""


@pytest.mark.parametrize(("name", "which"), [("bonsai", "register-out"), ("mlp-scores", "head-on-fpga")])
def test_arduino_sketch_compiles(build_dir: Path, name: str, which: str) -> None:
    """The sketch, compiled as C++ against the Arduino core's declarations (stubs above), and the
    C files beside it (the IDE compiles those too), for the ATmega328P with warnings as errors."""
    cxx = require_tool("avr-g++")
    host, _ = cosim_build(build_dir, name, which, "spi")
    stubs = build_dir / "arduino-stubs"
    stubs.mkdir(exist_ok=True)
    (stubs / "Arduino.h").write_text(ARDUINO_H)
    sketch_dir = host.out_dir / "sketch" / f"{split(name, which).program.name}_host"
    (ino,) = sketch_dir.glob("*.ino")
    cmd = [cxx, f"-mmcu={runners.AVR_MCU}", "-Os", *runners.WARNINGS, f"-I{stubs}", f"-I{sketch_dir}"]
    cmd += ["-include", "Arduino.h", "-x", "c++", "-c", str(ino), "-o", str(build_dir / f"{name}.ino.o")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cc = require_tool("avr-gcc")
    sources = sorted(sketch_dir.glob("*.c"))
    assert {p.name for p in sources} >= {"model_host.c", "hlsfix_accel.c", "transport_avr_spi.c"}
    for src in sources:
        cmd = [cc, f"-mmcu={runners.AVR_MCU}", f"-DF_CPU={runners.AVR_F_CPU}UL", "-std=c99", "-Os"]
        cmd += [*runners.WARNINGS, f"-I{sketch_dir}", "-c", str(src), "-o", str(build_dir / f"{src.stem}.o")]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
