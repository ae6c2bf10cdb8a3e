"""Components: datapath units against the golden model's integer primitives, in amaranth.sim."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("amaranth")

from amaranth.hdl import Module, Signal, signed, unsigned  # noqa: E402
from amaranth.sim import Simulator  # noqa: E402

from hlsfix.fixedpoint.golden import rescale_sat as golden_rescale_sat  # noqa: E402
from hlsfix.fixedpoint.golden import shift_exact as golden_shift_exact  # noqa: E402
from hlsfix.rtl.units import Divider, rescale_sat, shift_exact, times_constant  # noqa: E402


def _comb(build, cases):
    """Evaluate a combinational helper on every (inputs, expected) case."""
    m = Module()
    v, s, bits = Signal(signed(40)), Signal(signed(8)), Signal(unsigned(7))
    out = build(m, v, s, bits)
    sim = Simulator(m)
    got = []

    async def bench(ctx):
        for (vi, si, bi), _ in cases:
            ctx.set(v, vi)
            ctx.set(s, si)
            ctx.set(bits, bi)
            got.append(ctx.get(out))

    sim.add_testbench(bench)
    sim.run()
    return got, [e for _, e in cases]


def test_rescale_sat_matches_golden():
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(300):
        vi = int(rng.integers(-(1 << 35), 1 << 35)) >> int(rng.integers(0, 34))
        si, bi = int(rng.integers(-20, 40)), int(rng.choice([8, 16, 32]))
        expected = int(golden_rescale_sat(np.array([vi]), si, bi)[0][0])
        cases.append(((vi, si, bi), expected))
    got, want = _comb(lambda m, v, s, b: rescale_sat(m, v, s, b, "rs"), cases)
    assert got == want


@pytest.mark.parametrize("values", [(0, 1, 12, 13, 14), (4, 7, 13, 14), (0, 3, 30, 40)])
def test_rescale_sat_narrowed_to_the_programs_shifts_matches_golden(values):
    """The write stage's form: only the program's (non-negative) shifts, a constant width, and
    saturation decided on the unshifted value beside the shifter."""
    rng = np.random.default_rng(len(values))
    cases = []
    for _ in range(300):
        vi = int(rng.integers(-(1 << 33), 1 << 33)) >> int(rng.integers(0, 34))
        si = int(rng.choice(values))
        cases.append(((vi, si, 16), int(golden_rescale_sat(np.array([vi]), si, 16)[0][0])))
    span = (min(values), max(values))

    def build(m, v, s, b):
        return rescale_sat(m, v[:34].as_signed(), s, 16, "rs", max_bits=16, s_range=span, s_values=values)

    got, want = _comb(build, cases)
    assert got == want
    small = [c for c in cases if c[0][1] <= 14][:50]  # the golden shift works in int64
    got, want = _comb(lambda m, v, s, b: shift_exact(m, v, s, 60, "se", s_range=span), small)
    assert got == [int(golden_shift_exact(np.array([c[0][0]]), c[0][1])[0]) for c in small]


def test_shift_exact_matches_golden():
    rng = np.random.default_rng(2)
    cases = []
    for _ in range(200):
        vi, si = int(rng.integers(-(1 << 20), 1 << 20)), int(rng.integers(-12, 12))
        cases.append(((vi, si, 16), int(golden_shift_exact(np.array([vi]), si)[0])))
    got, want = _comb(lambda m, v, s, b: shift_exact(m, v, s, 48, "se"), cases)
    assert got == want


def _divide(dut: Divider, nums, dens) -> list[tuple[int, int]]:
    """(quotient, tag) of each division, fed one per cycle."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got = []

    async def bench(ctx):
        for i, (n, d) in enumerate(zip(nums, dens, strict=True)):  # one division per cycle
            ctx.set(dut.in_valid, 1)
            ctx.set(dut.num, n)
            ctx.set(dut.den, int(d))
            ctx.set(dut.tag, i % 256)
            await ctx.tick()
            if ctx.get(dut.out_valid):
                got.append((ctx.get(dut.q), ctx.get(dut.tag_out)))
        ctx.set(dut.in_valid, 0)
        for _ in range(dut.latency + 1):
            await ctx.tick()
            if ctx.get(dut.out_valid):
                got.append((ctx.get(dut.q), ctx.get(dut.tag_out)))

    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("bits_per_stage", [1, 2, 3])
def test_pipelined_divider_matches_floor_division(bits_per_stage):
    rng = np.random.default_rng(3)
    q_bits = 16
    dens = rng.integers(1 << 14, 1 << 15, 100)
    nums = [int(rng.integers(0, int(d) << q_bits)) for d in dens]
    got = _divide(Divider(32, 32, q_bits, 8, bits_per_stage), nums, dens)
    assert got == [(n // int(d), i % 256) for i, (n, d) in enumerate(zip(nums, dens, strict=True))]


@pytest.mark.parametrize("model", ["bonsai-binary", "fastgrnn"])
def test_divider_sized_by_the_program_divides_its_table_operands(model):
    """The divider is as wide as the program's SigmoidTanh operands (``divider_operands``): 29-
    and 15-bit for bonsai-binary's tanh (one = 2^14, e ≤ one, out_frac 14), 30 and 15 for
    FastGRNN's sigmoid (out_frac 15); every numerator and denominator its tables give (one
    index in 5) divides exactly, each step only 16 bits wide."""
    import hlsfix
    from hlsfix.fixedpoint import program as kp
    from hlsfix.rtl.microcode import compile_image
    from hlsfix.rtl.program_facts import divider_operands

    program = hlsfix.compile(model, bits="16").program
    img = compile_image(program, 1)
    num_bits, den_bits = divider_operands(img)
    assert (num_bits, den_bits) == {"bonsai-binary": (29, 15), "fastgrnn": (30, 15)}[model]
    k = next(k for k in program.walk() if isinstance(k, kp.SigmoidTanh))
    hi, lo = (program.constants[t].reshape(-1).astype(np.int64) for t in (k.hi, k.lo))
    y = np.arange(0, 1 << (2 * k.t), 5)
    e = (hi[y >> k.t] * lo[y & ((1 << k.t) - 1)]) >> k.table_shift
    one = 1 << k.e_frac
    nums = [int(v) for v in (((one - e) if k.fn == "tanh" else np.full_like(e, one)) << k.out_frac)]
    dens = one + e
    got = _divide(Divider(num_bits, den_bits, img.div_bits, 8, 2), nums, dens)
    assert got == [(n // int(d), i % 256) for i, (n, d) in enumerate(zip(nums, dens, strict=True))]


def test_rescale_sat_sized_to_the_stored_word_matches_golden():
    """Capped at the widest stored word (16 bits), the shifter is len(v) + 16 bits wide and still
    equals the golden model, left shifts far past the word included."""
    rng = np.random.default_rng(2)
    cases = []
    for _ in range(300):
        vi = int(rng.integers(-(1 << 33), 1 << 33)) >> int(rng.integers(0, 34))
        si, bi = int(rng.integers(-70, 40)), int(rng.choice([8, 16]))
        expected = int(golden_rescale_sat(np.array([vi]), si, bi)[0][0])
        cases.append(((vi, si, bi), expected))
    got, want = _comb(lambda m, v, s, b: rescale_sat(m, v, s, b, "rs", max_bits=16), cases)
    assert got == want


def test_table_saturation_bounds_match_the_index_comparison():
    """``memories.table_saturation``: the bounds on the operand say exactly when the shifted table
    index exceeds ymax (the accelerator compares the operand, not the index), for every 16-bit x."""
    import numpy as np

    from hlsfix.rtl.isa import Op
    from hlsfix.rtl.ucode_words import _clip, table_saturation

    rng = np.random.default_rng(7)
    x = np.arange(-(1 << 15), 1 << 15, dtype=np.int64)
    for _ in range(200):
        ymax = int(rng.integers(0, 1 << 12))
        sh_l, sh_r = int(rng.integers(0, 4)), int(rng.integers(0, 12))
        imm = int(rng.integers(-(1 << 17), 1 << 17))
        for op in (Op.EXP, Op.SIGTANH):
            insn = {"op": op, "ymax": ymax, "sh_l": sh_l, "sh_r": sh_r, "imm": imm}
            lo, hi = (_clip(v, 18) for v in table_saturation(insn, 32))
            if op == Op.EXP:
                y = np.maximum(imm - x, 0) >> sh_r
            else:
                y = (np.abs(x) << sh_l) >> sh_r
            assert np.array_equal((x <= lo) | (x >= hi), y > ymax), insn


@pytest.mark.parametrize("signedness", [signed, unsigned])
def test_times_constant_is_the_product_for_every_lane_index(signedness):
    """A stream's lane stride times lane p (0-16) by shifted adds, checked against Python's product,
    as the 20-bit address it feeds keeps it (addresses wrap)."""
    rng = np.random.default_rng(3)
    m = Module()
    v = Signal(signedness(12))
    outs = {k: Signal(20, name=f"times_{k}") for k in range(17)}
    m.d.comb += [out.eq(times_constant(v, k)) for k, out in outs.items()]
    lo, hi = (-(1 << 11), 1 << 11) if signedness is signed else (0, 1 << 12)
    values = [
        lo,
        hi - 1,
        0,
        1,
        -1 if signedness is signed else 2,
        *(int(x) for x in rng.integers(lo, hi, 40)),
    ]
    got, want = [], []

    async def bench(ctx):
        for x in values:
            ctx.set(v, x)
            for k, out in outs.items():
                got.append(ctx.get(out))
                want.append((x * k) % (1 << 20))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got == want
