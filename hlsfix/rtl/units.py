"""Datapath building blocks shared by every lane: the numeric contract's integer primitives as
combinational helpers (``rescale_sat``, ``shift_exact``) and the pipelined divider of the table unit.

They mirror ``hlsfix.fixedpoint.golden`` function for function; ``tests/rtl/test_units.py`` checks
each against it in amaranth.sim.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

SHIFT_CAP = 72  # every shift amount the contract can ask for saturates or zeroes well before this


def _amount_bits(limit: int) -> int:
    return max(1, int(limit).bit_length())


def shift_exact(m: Module, v, s, width: int, name: str, s_range: tuple[int, int] | None = None):
    """v · 2^s for s ≥ 0, floor(v · 2^-s) for s < 0 (golden ``shift_exact``); s a signed Value.
    ``s_range`` (lowest, highest) is every value ``s`` takes where the caller knows them (the
    program's shifts): the shifter is then only as deep as those amounts need."""
    out = Signal(signed(width), name=name)
    lo, hi = s_range if s_range is not None else (-(1 << 7), (1 << 7) - 1)
    if lo >= 0:
        m.d.comb += out.eq(v << s.as_unsigned()[: _amount_bits(hi)])
    elif hi <= 0:
        m.d.comb += out.eq(v >> (-s).as_unsigned()[: _amount_bits(-lo)])
    else:
        left = Mux(s[-1], 0, s.as_unsigned())[: min(7, _amount_bits(hi))]
        right = Mux(s[-1], -s, 0).as_unsigned()[: min(7, _amount_bits(-lo))]
        m.d.comb += out.eq(Mux(s[-1], v >> right, v << left))
    return out


def shift_right_among(m: Module, v, amount_ahead, values, name: str) -> Signal:
    """floor(v · 2^-s) for s among ``values`` (every amount the program uses), given a cycle
    early (``amount_ahead``): which one is registered one-hot, so the shift is one AND-OR level
    after ``v`` rather than a barrel shifter's level per bit of the amount."""
    out = Signal(signed(len(v)), name=name)
    value = 0
    for k in sorted(values):
        by_k = Signal(name=f"{name}_by{k}")
        m.d.sync += by_k.eq(amount_ahead == k)
        value = value | Mux(by_k, v >> k, 0)
    m.d.comb += out.eq(value)
    return out


def saturate(m: Module, v, bits, name: str, max_bits: int = SHIFT_CAP - 1):
    """Clip v to the signed range of ``bits`` (a Value or an int of at most ``max_bits``)."""
    amount = bits - 1 if isinstance(bits, int) else (bits - 1).as_unsigned()[: len(bits)]
    width = max_bits + 1
    hi = Signal(signed(width), name=f"{name}_hi")
    lo = Signal(signed(width), name=f"{name}_lo")
    out = Signal(signed(width), name=name)
    m.d.comb += [
        hi.eq((Const(1, width) << amount) - 1),
        lo.eq(-hi - 1),
        out.eq(Mux(v > hi, hi, Mux(v < lo, lo, v))),
    ]
    return out


def _saturate_beside(m: Module, v, amount, shifted, bits: int, name: str, values) -> Signal:
    """sat(v >> amount) to ``bits`` for an amount among ``values`` (all ≥ 0): whether v >> k
    leaves the range is decided on v itself for each k (v ≥ 2^(bits-1+k), v < -2^(bits-1+k):
    reductions of v's top bits), in parallel with the shifter, then selected by the amount."""
    hi, lo = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    pos, neg = Const(0), Const(0)
    for k in sorted(set(values)):
        top = bits - 1 + k
        if top >= len(v) - 1:
            continue  # v >> k fits: nothing saturates
        hit = amount == k
        pos = pos | (hit & ~v[-1] & v[top:].any())
        neg = neg | (hit & v[-1] & ~v[top:].all())
    out = Signal(signed(bits), name=name)
    m.d.comb += out.eq(Mux(pos, hi, Mux(neg, lo, shifted[:bits])))
    return out


def rescale_sat(
    m: Module,
    v,
    s,
    bits,
    name: str,
    max_bits: int = 64,
    s_range: tuple[int, int] | None = None,
    s_values=None,
):
    """sat(floor(v · 2^-s)) to ``bits`` (golden ``rescale_sat``): a right shift for s ≥ 0, a
    saturating left shift for s < 0. ``bits`` never exceeds ``max_bits`` (the widest word the
    result is stored to), so a left shift by ``max_bits`` or more saturates any non-zero v: the
    amount is capped there and the shifter and comparators are only len(v) + ``max_bits`` wide
    (34 + 16 bits for a 16-bit model rather than 98). With ``s_range`` (every value ``s`` takes,
    lowest and highest) and no negative ``s``, only a right shift that deep is built; with the
    values themselves (``s_values``) and a constant ``bits``, saturation is decided beside it."""
    if s_range is not None and s_range[0] >= 0:
        top = min(s_range[1], len(v) - 1)
        amount = s.as_unsigned()[: _amount_bits(s_range[1])]
        shifted = Signal(signed(len(v)), name=f"{name}_shifted")
        m.d.comb += shifted.eq(v >> Mux(amount > top, top, amount) if s_range[1] > top else v >> amount)
        if isinstance(bits, int) and s_values is not None:
            return _saturate_beside(m, v, amount, shifted, bits, name, s_values)
        return saturate(m, shifted, bits, name, max_bits)
    neg = s[-1]
    cap = max_bits
    left = Signal(range(cap + 1), name=f"{name}_left")
    mag = (-s).as_unsigned()
    m.d.comb += left.eq(Mux(neg, Mux(mag > cap, cap, mag), 0))
    right = Signal(range(len(v)), name=f"{name}_right")  # past len(v) - 1 only the sign is left
    m.d.comb += right.eq(Mux(neg, 0, Mux(s.as_unsigned() >= len(v), len(v) - 1, s.as_unsigned())))
    shifted = Signal(signed(len(v) + cap), name=f"{name}_shifted")
    m.d.comb += shifted.eq(Mux(neg, v << left, v >> right))
    return saturate(m, shifted, bits, name, max_bits)


def round_half(m: Module, v, word, name: str, s_max: int):
    """v + 2^(s-1) where the instruction ``word`` rounds (``rnd``) and its s = ``out_shift`` ≥ 1,
    else v (golden ``round_const``): a one-hot decode of s (at most ``s_max``) added before
    ``rescale_sat``. ``s_max`` 0: no instruction of the program rounds, nothing is built."""
    if s_max <= 0:
        return v
    rnd, s = word.rnd, word.out_shift
    out = Signal(signed(len(v)), name=f"{name}_rounded")
    half = Signal(unsigned(max(1, min(s_max, len(v) - 1))), name=f"{name}_half")
    amount = (s - 1).as_unsigned()[: max(1, (max(s_max - 1, 1)).bit_length())]
    m.d.comb += [
        half.eq(Mux(rnd & (s > 0), Const(1, len(half)) << amount, 0)),
        out.eq(v + half),
    ]
    return out


DIV_BITS_PER_STAGE = 2  # two restoring steps per register stage: short enough for 100 MHz


def times_constant(v, k: int):
    """``v · k`` for a constant ``k`` as shifted adds of its signed digits (k = 7: 8v − v): Yosys
    maps a product by a constant to a DSP block, whose 4 ns of delay (ECP5) sat on the entry
    table's address path of every lane but lane 0, and which the datapath's multiplies need."""
    terms, shift = [], 0
    while k:
        if k & 1:
            digit = 2 - (k & 3)  # 1, or -1 where a run of ones follows (non-adjacent form)
            terms.append((digit, shift))
            k -= digit
        k >>= 1
        shift += 1
    out = Const(0)
    for digit, at in terms:
        out = out + (v << at) if digit > 0 else out - (v << at)
    return out


class Divider(wiring.Component):
    """Pipelined restoring divider: q = num // den for num ≥ 0, den > 0, q < 2^q_bits.

    The inputs are registered first (the caller's num and den come from logic: a shift and an
    add), then ``bits_per_stage`` quotient bits per register stage, the last stage's registers
    being the outputs: one division accepted per cycle, its result ``latency`` cycles later;
    ``tag`` travels alongside (the lane's destination and sign). Division is only needed by
    SigmoidTanh, and a pipelined unit keeps it at one element per cycle like every other kernel;
    more bits per stage shorten the wait of whatever depends on the result.

    Each step is as wide as the divisor: q < 2^q_bits means num < den · 2^q_bits, so before the
    step of quotient bit i the remainder is below den · 2^(i+1) and its bits from i up fit
    ``den_bits`` + 1 bits; the trial subtraction is on those alone, and the remainder below
    den · 2^i it leaves keeps i + ``den_bits`` bits.
    """

    def __init__(
        self,
        num_bits: int,
        den_bits: int,
        q_bits: int,
        tag_bits: int,
        bits_per_stage: int = 1,
        *,
        early: bool = False,
    ) -> None:
        self.num_bits, self.den_bits, self.q_bits = num_bits, den_bits, q_bits
        self.early = early
        self.bits_per_stage = bits_per_stage
        super().__init__(
            {
                "in_valid": In(1),
                "num": In(unsigned(num_bits)),
                "den": In(unsigned(den_bits)),
                "tag": In(tag_bits),
                "out_valid": Out(1),
                "q": Out(unsigned(q_bits)),
                "tag_out": Out(tag_bits),
                "busy": Out(1),  # a division is somewhere in the pipeline
            }
        )
        # what ``out_valid`` and ``tag_out`` hold next cycle (``write_stage.write_ahead``)
        self.valid_ahead, self.tag_ahead = Signal(name="valid_ahead"), Signal(tag_bits, name="tag_ahead")
        # with ``early``, what they hold the cycle after (``write_stage.lane_write_ahead``)
        self.valid_early, self.tag_early = Signal(name="valid_early"), Signal(tag_bits, name="tag_early")
        self.busy_next = Signal(name="busy_next")

    @property
    def latency(self) -> int:
        return divider_latency(self.q_bits, self.bits_per_stage)

    def elaborate(self, platform):
        m = Module()
        db = self.den_bits
        valid, den, tag = (
            Signal(name="v_in"),
            Signal(unsigned(db), name="den_in"),
            Signal(len(self.tag), name="tag_in"),
        )
        rem = Signal(unsigned(max(self.num_bits, db + self.q_bits)), name="num_in")
        m.d.sync += [valid.eq(self.in_valid), den.eq(self.den), tag.eq(self.tag), rem.eq(self.num)]
        q = Const(0, self.q_bits)
        valids = [valid]
        early = (self.in_valid, self.tag)  # the last valid's and tag's registers' inputs
        for step, i in enumerate(reversed(range(self.q_bits))):
            top = rem[i : i + db + 1]  # rem >> i < 2·den
            trial = Signal(signed(db + 2), name=f"trial{i}")
            m.d.comb += trial.eq(top - den)
            nrem, nq = Signal(unsigned(i + db), name=f"rem{i}"), Signal(self.q_bits, name=f"q{i}")
            registered = (step + 1) % self.bits_per_stage == 0 or i == 0
            domain = m.d.sync if registered else m.d.comb
            domain += [
                nrem.eq(Cat(rem[:i], Mux(trial[-1], top[:db], trial[:db]))),
                nq.eq(q | Mux(trial[-1], 0, 1 << i)),
            ]
            rem, q = nrem, nq
            if registered and i:
                nvalid, nden = Signal(name=f"v{i}"), Signal(unsigned(db), name=f"den{i}")
                ntag = Signal(len(self.tag), name=f"tag{i}")
                m.d.sync += [nvalid.eq(valid), nden.eq(den), ntag.eq(tag)]
                early = (valid, tag)
                valid, den, tag = nvalid, nden, ntag
                valids.append(nvalid)
        m.d.sync += [self.out_valid.eq(valid), self.tag_out.eq(tag)]
        m.d.comb += [self.valid_ahead.eq(valid), self.tag_ahead.eq(tag)]
        if self.early:
            m.d.comb += [self.valid_early.eq(early[0]), self.tag_early.eq(early[1])]
        m.d.comb += [self.q.eq(q), self.busy.eq(Cat(*valids, self.out_valid).any())]
        if self.early:  # ``busy`` of the next cycle: the inputs of its registers
            m.d.comb += self.busy_next.eq(Cat(self.in_valid, *valids).any())
        return m


def divider_latency(q_bits: int, bits_per_stage: int = DIV_BITS_PER_STAGE) -> int:
    """The inputs' register, then one register stage per ``bits_per_stage`` quotient bits."""
    return 1 + -(-q_bits // bits_per_stage)
