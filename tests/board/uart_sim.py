"""amaranth.sim helpers: drive a UART line at a real-time baud rate and decode one by cycles."""

from __future__ import annotations


def byte_bits(byte: int) -> list[int]:
    """The 10 line levels of one 8N1 character: start, data LSB first, stop."""
    return [0, *((byte >> i) & 1 for i in range(8)), 1]


async def drive_line(ctx, pin, data: bytes, baud: float, *, stop_bit: int = 1) -> None:
    """Send ``data`` on ``pin`` back to back, each bit lasting 1/baud seconds of simulated time."""
    for byte in data:
        for level in byte_bits(byte)[:-1] + [stop_bit]:
            ctx.set(pin, level)
            await ctx.delay(1 / baud)
    ctx.set(pin, 1)


async def read_line(ctx, pin, divisor: int, *, max_cycles: int) -> int | None:
    """Decode one character from ``pin`` sampled at mid-bit, or None if none starts in ``max_cycles``."""
    for _ in range(max_cycles):
        if not ctx.get(pin):
            break
        await ctx.tick()
    else:
        return None
    await ctx.tick().repeat(divisor // 2)
    byte = 0
    for i in range(8):
        await ctx.tick().repeat(divisor)
        byte |= ctx.get(pin) << i
    await ctx.tick().repeat(divisor)
    assert ctx.get(pin) == 1, "stop bit must be high"
    return byte
