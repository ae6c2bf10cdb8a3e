"""What moving data to and from the accelerator costs the host, in host cycles.

The host talks to the accelerator through the real driver (``c/hlsfix_accel.c``) and transport
(``c/transport_avr_spi.c`` or ``c/transport_mmio.c``). Its instructions are measured, not
modelled: ``measure_driver`` builds the driver with a probe main and counts each call with the
link itself free (no wait), then the link's own time is added by a model of the wire:

* Arduino Uno, SPI at SCK = F_CPU/2: simavr cycles of the driver built as the host build does
  (avr-gcc -Os), with the transport's SPIF poll reading GPIOR2 preset to SPIF (simavr does not
  model SPI timing -- it sets SPIF about 1,600 cycles after any SPDR write, whatever the
  prescaler -- so the real poll would measure simavr, not the Uno). Each byte on the wire then
  adds 16 cycles: 8 bits at f_osc/2 (ATmega328P datasheet, SPI chapter, the SCK frequency table:
  SPI2X=1, SPR1:0=00). For a single transfer (command, address, status byte) this assumes the
  transport's 4-cycle poll loop (in/sbrs/rjmp, first test one cycle after the SPDR write) sees
  SPIF at its test 17 cycles after the write; were the flag visible a cycle later, each byte
  would cost 4 cycles more. In a burst the transport fetches or stores the neighbouring byte
  while one shifts, so the instructions counted per byte partly overlap its 16 wire cycles and
  instructions + 16 is an upper bound: for 16-bit words the count is 19 (write) and 21 (read)
  cycles a word on top of 32 wire cycles, where the loops' own period, worked out from their
  code under the same assumption, is about 43 and 45 cycles a word (~4 cycles a byte less).
* MicroBlaze, AXI4-Lite: no MicroBlaze simulator here. The driver's QEMU Cortex-M3 instruction
  counts (transport_mmio.c on RAM) stand in for MicroBlaze cycles at CPI 1, and every bus access
  adds an ASSUMED stall (``AXI_READ_STALL_CYCLES``, ``AXI_WRITE_STALL_CYCLES``): one outstanding
  transaction, a store complete only at BVALID (MicroBlaze reference guide UG984, M_AXI_DP), through
  an interconnect to a registered slave. Neither figure was measured on a MicroBlaze.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from hlsfix.codesign.transfers import FPGA, plan_partition
from hlsfix.fixedpoint.program import KernelProgram

FPGA_HZ = 100_000_000
UNO_HZ = 16_000_000
SPI_SHIFT_CYCLES_PER_BYTE = 16  # 8 bits at SCK = f_osc / 2
SPI_WRITE_HEADER_BYTES = 3  # command, address high, address low
SPI_READ_HEADER_BYTES = 4  # ... and the status byte
REGISTER_WIRE_BYTES = 4  # a register or control word: 32 bits
AXI_READ_STALL_CYCLES = 12  # assumption: M_AXI_DP load through an interconnect, beyond the instruction
AXI_WRITE_STALL_CYCLES = 8  # assumption: store until BVALID, beyond the instruction
ELEMENT_BYTES = (1, 2, 4)
_PROBE_WORDS = (1, 65)  # two burst lengths: their difference is 64 words


@dataclass(frozen=True)
class DriverCosts:
    """The driver's own host cycles per call with a free link, measured (``measure_driver``).

    Buffers by host element size (1, 2, 4 bytes): a burst of n words costs fixed + n × per_word."""

    write_fixed: tuple[float, ...]
    write_per_word: tuple[float, ...]
    read_fixed: tuple[float, ...]
    read_per_word: tuple[float, ...]
    write_register: float
    read_register: float
    start: float  # hlsfix_accel_run's START write, entry and return
    poll: float  # one STATUS poll of hlsfix_accel_run
    source: str
    estimated: bool  # not the host's own cycles (MicroBlaze from Cortex-M3 instructions)


@dataclass(frozen=True)
class HostLink:
    """A host, its link to the accelerator, and the driver's measured costs on it."""

    host: str
    name: str  # "spi" | "axi4-lite"
    host_hz: int
    data_bytes: int  # a RAM word on the wire (SPI); AXI moves 4 bytes per access
    driver: DriverCosts

    @property
    def host_cycles_per_fpga_cycle(self) -> float:
        return self.host_hz / FPGA_HZ

    @property
    def spi(self) -> bool:
        return self.name == "spi"

    def _wire(self, words: int, word_bytes: int, write: bool, accesses_extra: int = 0) -> float:
        """The link's own time for one transaction of ``words`` words."""
        if self.spi:
            header = SPI_WRITE_HEADER_BYTES if write else SPI_READ_HEADER_BYTES
            return SPI_SHIFT_CYCLES_PER_BYTE * (header + words * word_bytes)
        stall = AXI_WRITE_STALL_CYCLES if write else AXI_READ_STALL_CYCLES
        return (words + accesses_extra) * stall

    def buffer_bytes(self, count: int) -> int:
        """Data bytes one buffer transfer puts on the wire (headers not counted)."""
        return count * (self.data_bytes if self.spi else REGISTER_WIRE_BYTES)

    def buffer_cycles(self, count: int, stride: int, elem_bytes: int, write: bool) -> float:
        """Moving ``count`` elements (``stride`` RAM words apart; 1: one burst, else one
        transaction each, as hlsfix_accel_write/read do)."""
        e = ELEMENT_BYTES.index(elem_bytes)
        fixed = (self.driver.write_fixed if write else self.driver.read_fixed)[e]
        per_word = (self.driver.write_per_word if write else self.driver.read_per_word)[e]
        # an MMIO read of the data window re-reads STATUS once per call (a refused read returns 0)
        extra = 0 if write else 1
        if stride == 1:
            return fixed + count * per_word + self._wire(count, self.data_bytes, write, extra)
        return count * (fixed + per_word + self._wire(1, self.data_bytes, write, extra))

    def register_cycles(self, write: bool) -> float:
        if write:
            return self.driver.write_register + self._wire(1, REGISTER_WIRE_BYTES, True)
        return self.driver.read_register + self._wire(1, REGISTER_WIRE_BYTES, False, accesses_extra=1)

    def start_cycles(self) -> float:
        return self.driver.start + self._wire(1, REGISTER_WIRE_BYTES, True)

    def first_status_sample(self) -> float:
        """Host cycles from START reaching the accelerator to the first poll's STATUS sample:
        START's driver instructions after its wire time, then (SPI) the read's command and
        address bytes, after which the slave latches STATUS for the status byte."""
        header = SPI_WRITE_HEADER_BYTES * SPI_SHIFT_CYCLES_PER_BYTE if self.spi else 0
        return self.driver.start + header

    def poll_cycles(self) -> float:
        return self.driver.poll + self._wire(1, REGISTER_WIRE_BYTES, False)


_PROBE_MAIN = r"""
#include <stdint.h>
#include "hlsfix_accel.h"
#include "target.h"
static int8_t b1[65];
static int16_t b2[65];
static int32_t b4[65];
static int16_t reg;
volatile uint16_t n_short = 1, n_long = 65; /* volatile: no constant propagation into the loops */
static int16_t codes[16];
static uint8_t n_codes;
#define MEASURE(call)                  \
    do {                               \
        int rc;                        \
        target_measure_begin();        \
        rc = (call);                   \
        target_measure_end();          \
        codes[n_codes++] = (int16_t)rc; \
    } while (0)
#define BURSTS(op, buf, bytes)                                      \
    MEASURE(op(HLSFIX_DATA_BASE, buf, bytes, n_short, 1));          \
    MEASURE(op(HLSFIX_DATA_BASE, buf, bytes, n_long, 1))
int main(void)
{
    hlsfix_link_init();
    PROBE_INIT();
    target_init();
    BURSTS(hlsfix_accel_write, b1, 1);
    BURSTS(hlsfix_accel_write, b2, 2);
    BURSTS(hlsfix_accel_write, b4, 4);
    BURSTS(hlsfix_accel_read, b1, 1);
    BURSTS(hlsfix_accel_read, b2, 2);
    BURSTS(hlsfix_accel_read, b4, 4);
    MEASURE(hlsfix_accel_write_reg(HLSFIX_REG_BASE, 5));
    MEASURE(hlsfix_accel_read_reg(HLSFIX_REG_BASE, &reg));
    MEASURE(hlsfix_accel_run(0)); /* never DONE here: HLSFIX_ACCEL_MAX_POLLS polls, then TIMEOUT */
    target_emit(codes, sizeof(int16_t) * n_codes);
    target_record_end();
    target_exit();
}
"""
# MMIO on the QEMU board: the "accelerator" is RAM well above the firmware's data and stack.
_MMIO_RAM_BASE = "0x20200000UL"
_DRIVERS: dict[tuple[str, int], DriverCosts] = {}


def _driver_sources() -> list[Path]:
    from hlsfix.codesign import host_c

    return [
        host_c.C_DIR / n
        for n in ("hlsfix_accel.c", "hlsfix_accel.h", "transport_avr_spi.c", "transport_mmio.c")
    ]


def _probe_run(program: KernelProgram, host: str, polls: int, d: Path) -> tuple[tuple[int, ...], bytes]:
    from hlsfix.codesign import host_c
    from hlsfix.mcu import runners
    from hlsfix.rtl.microcode import compile_image

    n = len(program.kernels)
    image = compile_image(program, 1, segments=[list(range(n))])
    spi = host == "arduino-uno"
    ctx = host_c.map_context(program, plan_partition(program, [FPGA] * n), image, "spi" if spi else "mmio")
    env = host_c.template_env(host_c.TEMPLATES_DIR)
    (d / "hlsfix_accel_map.h").write_text(env.get_template("hlsfix_accel_map.h.j2").render(**ctx))
    for name in ("hlsfix_accel.c", "hlsfix_accel.h"):
        shutil.copyfile(host_c.C_DIR / name, d / name)
    if spi:
        transport = (host_c.C_DIR / "transport_avr_spi.c").read_text()
        probe = transport.replace("SPSR & ", "GPIOR2 & ")  # SPIF already set: the wait is modelled
        if probe == transport:
            raise AssertionError("transport_avr_spi.c no longer polls `SPSR & ...`: update the probe")
        (d / "transport.c").write_text(probe)
        init = "do { GPIOR2 = (uint8_t)(1u << SPIF); } while (0)"
    else:
        shutil.copyfile(host_c.C_DIR / "transport_mmio.c", d / "transport.c")
        init = "do { } while (0)"
    (d / "probe.c").write_text("#include <avr/io.h>\n" * spi + f"#define PROBE_INIT() {init}\n" + _PROBE_MAIN)
    sources = [d / "probe.c", d / "hlsfix_accel.c", d / "transport.c"]
    defines = [f"HLSFIX_ACCEL_MAX_POLLS={polls}UL"]
    if spi:
        elf = runners.compile_avr(
            sources, d / f"probe{polls}.elf", include_dirs=[d], opt="-Os", defines=defines
        )
        run = runners.run_avr(elf)
    else:
        defines.append(f"HLSFIX_ACCEL_BASE={_MMIO_RAM_BASE}")
        elf = runners.compile_cortex_m(sources, d / f"probe{polls}.elf", include_dirs=[d], defines=defines)
        run = runners.run_qemu(elf)
    return run.measurements, run.records[0]


def _derive(m1: tuple[int, ...], m2: tuple[int, ...], codes: bytes, host: str) -> DriverCosts:
    rc = [int.from_bytes(codes[i : i + 2], "little", signed=True) for i in range(0, len(codes), 2)]
    if any(rc[:-1]) or rc[-1] != 16:  # every call OK, and the run times out (nothing ever DONE)
        raise AssertionError(f"driver probe: unexpected return codes {rc}")
    span = _PROBE_WORDS[1] - _PROBE_WORDS[0]
    bursts = [(m1[i], m1[i + 1]) for i in range(0, 12, 2)]
    per_word = [(long - short) / span for short, long in bursts]
    fixed = [short - p * _PROBE_WORDS[0] for (short, _), p in zip(bursts, per_word, strict=True)]
    poll = m2[14] - m1[14]  # one more poll (HLSFIX_ACCEL_MAX_POLLS 2 instead of 1)
    uno = host == "arduino-uno"
    return DriverCosts(
        write_fixed=tuple(fixed[:3]),
        write_per_word=tuple(per_word[:3]),
        read_fixed=tuple(fixed[3:]),
        read_per_word=tuple(per_word[3:]),
        write_register=m1[12],
        read_register=m1[13],
        start=m1[14] - poll,
        poll=poll,
        source="simavr cycles of hlsfix_accel.c + transport_avr_spi.c (-Os), link wait modelled"
        if uno
        else "QEMU Cortex-M3 instructions of hlsfix_accel.c + transport_mmio.c as MicroBlaze cycles at CPI 1",
        estimated=not uno,
    )


def write_atomically(path: Path, text: str) -> None:
    """Write a cache file so that a concurrent reader sees all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def measure_driver(program: KernelProgram, host: str, *, cache_dir: Path | None = None) -> DriverCosts:
    """The driver's costs on ``host`` for ``program``'s RAM word width (cached in the process and
    on disk, by the driver's sources)."""
    from hlsfix.mcu import runners
    from hlsfix.rtl.microcode import image_word_bits

    word_bits = image_word_bits(program)
    key = (host, word_bits)
    if key in _DRIVERS:
        return _DRIVERS[key]
    digest = hashlib.sha256(f"{host}\0{word_bits}\0{_PROBE_MAIN}".encode())
    for f in _driver_sources():
        digest.update(f.read_bytes())
    cache = (cache_dir or runners.default_cache_dir()) / "codesign" / f"driver-{digest.hexdigest()[:24]}.json"
    if cache.exists():
        saved = json.loads(cache.read_text())
        costs = DriverCosts(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    else:
        with tempfile.TemporaryDirectory(prefix="hlsfix-driver-") as tmp:
            m1, codes = _probe_run(program, host, 1, Path(tmp))
            m2, _ = _probe_run(program, host, 2, Path(tmp))
        costs = _derive(m1, m2, codes, host)
        write_atomically(cache, json.dumps(asdict(costs)))
    _DRIVERS[key] = costs
    return costs


def host_link(program: KernelProgram, host: str) -> HostLink:
    """The link of ``host`` ("arduino-uno" or "microblaze") with the driver measured for ``program``."""
    from hlsfix.rtl.microcode import image_word_bits

    word_bits = image_word_bits(program)
    uno = host == "arduino-uno"
    return HostLink(
        host=host,
        name="spi" if uno else "axi4-lite",
        host_hz=UNO_HZ if uno else FPGA_HZ,
        data_bytes=(word_bits + 7) // 8,
        driver=measure_driver(program, host),
    )
