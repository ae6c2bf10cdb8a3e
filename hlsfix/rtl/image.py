"""The accelerator's generated image: what ``microcode.compile_image`` produces for one program
(microcode words, ROM and entry-table contents, RAM size, schedule), and the address-stream helper
every kernel emitter uses to turn strides into the loop nest's per-level deltas (``isa.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hlsfix.errors import CompileError
from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.program import KernelProgram
from hlsfix.rtl.isa import Op, Src, live_lanes, signed_bits
from hlsfix.rtl.schedule import InsnUse
from hlsfix.rtl.ucode_words import late_bits, microcode_words


class UnsupportedKernel(CompileError, NotImplementedError):
    """A kernel the accelerator cannot run: a user-level refusal (one error line), wherever the
    accelerator is built (``hlsfix rtl``, ``sim``, ``build --board``, co-design)."""


@dataclass(frozen=True)
class Loc:
    """Where a buffer lives: memory space, first word, words per element."""

    space: Src
    base: int
    scale: int


@dataclass
class Image:
    program: KernelProgram
    lanes: int
    insns: list[dict] = field(default_factory=list)
    kernel_of: list[int] = field(default_factory=list)  # per instruction: kernel index (walk order)
    uses: list[InsnUse] = field(default_factory=list)
    rom: list[int] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    ram_depth: int = 1
    input_base: int = 0
    input_scale: int = 1
    regs: dict[str, int] = field(default_factory=dict)
    word_bits: int = 16  # the datapath's operand word and the ROM word (the widest buffer)
    ram_bits: int = 16  # the scratch RAM word (the widest buffer it holds: data, not constants)
    value_bits: int = 32  # datapath (the widest ``wide``)
    div_bits: int = 0  # quotient bits of the SigmoidTanh divider (0: no divider)
    out_loc: tuple[int, int] = (0, 1)  # first RAM word and words per element of a buffer output
    ideal: list[int] = field(default_factory=list)  # per kernel: Σ ceil(work / P) over its executions
    kernels: list[kp.Kernel] = field(default_factory=list)
    predicted_cycles: int = 0  # the schedule's exact timing model of one inference
    ram_layout: str = "plan"  # temporaries placed by the memory plan, or "spread" (no reuse)
    runs: list[list[tuple[int, int]]] = field(default_factory=list)  # straight-line runs (insn ranges)
    locs: dict[str, Loc] = field(default_factory=dict)  # where every buffer lives (RAM or ROM)
    # Co-design: the microcode holds one or more segments (runs of top-level kernels), each
    # ending in DONE; a host starts segment n at ``segment_entries[n]``. One segment (the whole
    # program) unless ``compile_image`` was given ``segments``.
    segment_entries: list[int] = field(default_factory=lambda: [0])
    segment_cycles: list[int] = field(default_factory=list)  # predicted, start to idle
    table_words: int = 0  # the ROM's first words: every Exp/SigmoidTanh table (the table memory)
    unrolled: dict[str, int] = field(default_factory=dict)  # loop register → copies of its body per trip
    speculated: tuple[str, ...] = ()  # Selects whose indexed operand ran for both registers (speculate.py)

    @property
    def rom_copies(self) -> int:
        """Copies of the weight ROM: one per lane (two read ports each: one dual-port block RAM
        per lane, no shared many-ported memory) while that costs at most ``ROM_COPY_BUDGET``
        block RAMs, else one shared ROM."""
        if self.lanes * bram_blocks(self.rom_depth, self.word_bits) <= ROM_COPY_BUDGET:
            return self.lanes
        return 1

    def _weight_blocks(self) -> float:
        """RAMB36 of the weight ROM: a dual-port block RAM per copy (or per pair of read ports)."""
        return self.lanes * ramb36(self.rom_depth, self.word_bits)

    @property
    def entry_block(self) -> bool:
        """The entry table's per-lane copies in block RAM (``rom_style`` "block"), where each is
        big enough that logic would cost more than a block RAM (``BLOCK_MIN_BITS``; Yosys builds
        a ROM read by one port as LUT logic otherwise: ~350 LUTs per copy of 544 × 31 bits) and
        the copies fit ``BLOCK_BUDGET`` beside the weight ROM's."""
        bits = sum(self.entry_widths) + 3
        need = self._weight_blocks() + self.lanes * ramb36(len(self.entries), bits)
        return len(self.entries) * bits >= BLOCK_MIN_BITS and need <= BLOCK_BUDGET

    @property
    def table_lanes(self) -> int:
        """The lanes that run a table kernel (Exp, SigmoidTanh): each has its copy of the table
        ROM, its table index and its table product; the others never read a table (a kernel of
        n0 elements runs on its first min(P, n0) lanes: ProtoNN's Exp of one element on lane 0)."""
        table_ops = (Op.EXP, Op.SIGTANH)
        live = (len(live_lanes(w, self.lanes)) for w in self.insns if w["op"] in table_ops)
        return 0 if not self.table_words else max(live, default=0)

    @property
    def table_block(self) -> bool:
        """The table ROM's per-lane copies in block RAM: as ``entry_block``, after it."""
        if not self.table_words:
            return False
        need = self._weight_blocks() + self.table_lanes * ramb36(self.table_words, self.word_bits)
        if self.entry_block:
            need += self.lanes * ramb36(len(self.entries), sum(self.entry_widths) + 3)
        return self.table_words * self.word_bits >= BLOCK_MIN_BITS and need <= BLOCK_BUDGET

    def memories(self) -> list[dict]:
        """Each memory of the accelerator: words, bits, copies and read/write ports per copy."""
        P = self.lanes
        ent_bits = sum(self.entry_widths) + 3
        words = microcode_words(self)
        varying = sum(len({(w >> b) & 1 for w in words}) > 1 for b in range(max(words).bit_length()))
        out = [
            {
                "memory": "microcode",
                "words": len(self.insns),
                "bits": len(late_bits(words)),
                "copies": 1,
                "read_ports": 1,
                "write_ports": 0,
                "style": (
                    "block RAM: the fields the stages after issue read that differ between words, "
                    "read at pc, registered and delayed stage by stage"
                ),
            },
            {
                "memory": "microcode look-ahead",
                "words": len(self.insns),
                "bits": varying,
                "copies": 2,
                "read_ports": 1,
                "write_ports": 0,
                "style": (
                    "logic: the word after pc and a LOOPNEXT's target word, loaded into the "
                    "sequencer's word register (Yosys keeps the bits the issue stage reads)"
                ),
            },
            self._scratch_memory(),
            {
                "memory": "weight ROM",
                "words": self.rom_depth,
                "bits": self.word_bits,
                "copies": self.rom_copies,
                "read_ports": 2 * P // self.rom_copies,
                "write_ports": 0,
                "style": (
                    "block RAM, a dual-port copy per lane"
                    if self.rom_copies == P > 1
                    else "block RAM (dual-port)"
                    if P == 1
                    else f"one ROM of {2 * P} read ports (Yosys copies it per pair)"
                ),
            },
            {
                "memory": "entry table",
                "words": len(self.entries),
                "bits": ent_bits,
                "copies": P,
                "read_ports": 1,
                "write_ports": 0,
                "style": "block RAM, a copy per lane" if self.entry_block else "logic, a copy per lane",
            },
        ]
        if self.table_words:
            out.append(
                {
                    "memory": "table ROM",
                    "words": self.table_words,
                    "bits": self.word_bits,
                    "copies": self.table_lanes,
                    "read_ports": 2,
                    "write_ports": 0,
                    "style": (
                        "block RAM, a dual-port copy per table lane"
                        if self.table_block
                        else "logic, a dual-port copy per table lane"
                    ),
                }
            )
        return out

    def _scratch_memory(self) -> dict:
        from hlsfix.rtl.rotation_plan import rotated_writes, rotation_plan
        from hlsfix.rtl.scratch import (
            bypass_banks,
            read_conflict,
            scratch_banks,
            shared_reads,
            write_conflict,
        )

        P, banks = self.lanes, scratch_banks(self)
        row = {"memory": "scratch RAM", "words": self.ram_depth, "bits": self.ram_bits, "write_ports": 1}
        if banks > 1:
            shared, rotated = shared_reads(self), rotation_plan(self)
            groups = ["writes: rotated" if rotated[0] else f"writes: a crossbar ({rotated_writes(self)})"]
            for name, together, rot in zip("AB", shared, rotated[1:], strict=True):
                why = read_conflict(self, name.lower())
                groups.append(
                    f"{name} reads: rotated, one copy"
                    if rot
                    else f"{name} reads: one copy shared by the {P} lanes"
                    if together
                    else f"{name} reads: a copy per lane ({why})"
                )
            if bypass_banks(P):
                groups.append("reads bypassed at the bank (they hold the write of the cycle after)")
            return row | {
                "words": -(-self.ram_depth // banks) * banks,
                "copies": sum(1 if s else P for s in shared),
                "read_ports": P if any(shared) else 1,
                "style": f"{banks} banks (word mod {banks}), distributed RAM; " + "; ".join(groups),
            }
        why = "one lane" if P == 1 else (write_conflict(self) or f"{P} lanes: not a power of two")
        return row | {
            "copies": 1,
            "read_ports": 2 * P,
            "write_ports": P,
            "style": "block or distributed RAM" if P == 1 else f"multi-port, flip-flops ({why})",
        }

    @property
    def rom_depth(self) -> int:
        return max(1, len(self.rom))

    @property
    def entry_widths(self) -> tuple[int, int, int]:
        """Bits of an entry's value, column and row: what the program's entries need."""
        return (
            self.word_bits,
            signed_bits(e["col"] for e in self.entries),
            signed_bits(e["row"] for e in self.entries),
        )

    @property
    def output_len(self) -> int:
        return 1 if self.program.output_is_class else self.program.buffer(self.program.output).size


def stream(base=0, s_o1=0, s_o0=0, s_r1=0, s_r0=0, *, g, lane=None, reg=None, rs=0) -> dict:
    n0c, m1, m0, lanes = g["chunks"], g["m1"], g["m0"], g["lanes"]
    back_r = (m1 - 1) * s_r1 + (m0 - 1) * s_r0
    return {
        "base": base,
        "reg": reg or 0,
        "reg_en": int(reg is not None),
        "rs": rs,
        "d0": s_r0,
        "d1": s_r1 - (m0 - 1) * s_r0,
        "d2": lanes * s_o0 - back_r,
        "d3": s_o1 - (n0c - 1) * lanes * s_o0 - back_r,
        "lane": s_o0 if lane is None else lane,
    }


RAM_LAYOUTS = ("auto", "plan", "spread")
BRAM_BITS = 32768  # data bits of one RAMB36E1
ROM_COPY_BUDGET = 32  # RAMB36 the per-lane weight ROM copies may take (of the 35T's 50)


BLOCK_MIN_BITS = 4096  # a per-lane entry table or table ROM this big goes to block RAM
BLOCK_BUDGET = 45  # RAMB36 all per-lane ROMs may take (0.9 of the 35T's 50)
# RAMB18E1 aspect ratios (words, bits); a RAMB36E1 is two
RAMB18_SHAPES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def bram_blocks(words: int, word_bits: int) -> int:
    return -(-words * word_bits // BRAM_BITS)


def ramb36(words: int, word_bits: int) -> float:
    """RAMB36 (in halves: RAMB18) that hold ``words`` × ``word_bits`` in the best aspect ratio."""
    return min(-(-words // d) * -(-word_bits // w) for d, w in RAMB18_SHAPES) / 2
