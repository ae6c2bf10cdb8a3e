"""The golden model with memory: an exploration's candidates share most of their kernels.

The mixed-precision search and the per-tensor scale search score dozens of programs that differ
in one tensor's format; every kernel before the first one that tensor touches computes the same
integers as in the last candidate. ``CachedGolden`` runs ``golden.Golden`` (the one definition,
unchanged) but looks each top-level kernel up first: a kernel whose definition, output format and
inputs (by what produced them: the quantised input's format, a constant's format and data, or the
kernel that wrote a buffer) were seen before on the same rows takes the stored output and
saturation count instead of running. Kernels that read or write registers, and loops, always run.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

from hlsfix.fixedpoint import program as kp
from hlsfix.fixedpoint.golden import Golden, GoldenResult
from hlsfix.fixedpoint.program import KernelProgram, Ref

# Stored outputs per cache (an evaluator's rows); the oldest are dropped beyond this.
CACHE_BYTES = 96 << 20


class KernelCache:
    """Kernel outputs by key, for one set of input rows, bounded in bytes."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.entries: OrderedDict[Hashable, tuple[np.ndarray, int]] = OrderedDict()
        self.max_bytes, self.bytes, self.hits, self.misses = max_bytes, 0, 0, 0
        self.tokens: dict[Hashable, int] = {}
        self.uniques = 0

    def token(self, key: Hashable) -> int:
        """A small integer standing for ``key`` (keys nest through tokens, so they stay flat)."""
        return self.tokens.setdefault(key, len(self.tokens))

    def unique(self) -> int:
        """A token no key has (for a buffer produced by a kernel that is not cached)."""
        self.uniques += 1
        return -self.uniques

    def get(self, key: Hashable) -> tuple[np.ndarray, int] | None:
        hit = self.entries.get(key)
        if hit is None:
            self.misses += 1
        else:
            self.hits += 1
            self.entries.move_to_end(key)
        return hit

    def put(self, key: Hashable, value: np.ndarray, saturations: int) -> None:
        self.entries[key] = (value, saturations)
        self.bytes += value.nbytes
        while self.bytes > self.max_bytes and len(self.entries) > 1:
            _, (old, _) = self.entries.popitem(last=False)
            self.bytes -= old.nbytes


def _buffers_read(k: kp.Kernel, names: set[str]) -> tuple[str, ...]:
    """Every buffer a kernel reads: its ``Ref``s and the buffers it names (tables, sparse arrays)."""
    read = []
    for f in dataclasses.fields(k):
        if f.name == "out":
            continue
        v = getattr(k, f.name)
        if isinstance(v, Ref):
            read.append(v.buffer)
        elif isinstance(v, str) and v in names:
            read.append(v)
    return tuple(read)


def _cacheable(k: kp.Kernel) -> bool:
    if isinstance(k, kp.Loop | kp.Argmax | kp.Sgn | kp.IntOp | kp.Select | kp.Window):
        return False
    return not k.registers_read() and isinstance(getattr(k, "out", None), str)


class CachedGolden(Golden):
    def __init__(self, program: KernelProgram, cache: KernelCache) -> None:
        super().__init__(program)
        self.cache = cache
        self.names = set(self.bufs)
        self.written: list[str] = []

    def write(self, k: kp.Kernel, name: str, value: np.ndarray, saturations: int = 0) -> None:
        self.written.append(name)
        super().write(k, name, value, saturations)

    def block(self, kernels: tuple[kp.Kernel, ...]) -> None:
        if kernels is not self.p.kernels:
            return super().block(kernels)
        p = self.p
        token = self.cache.token
        source: dict[str, int] = {p.input: token(("input", p.input_buffer.fmt))}
        for name, data in p.constants.items():
            source[name] = token(("const", self.bufs[name].fmt, np.asarray(data, dtype=np.int64).tobytes()))
        for k in kernels:
            reads = _buffers_read(k, self.names)
            if not _cacheable(k) or any(r not in source for r in reads):
                self.written = []
                super().block((k,))
                for name in self.written:
                    source[name] = self.cache.unique()  # not cached: matches nothing
                continue
            out = k.out  # type: ignore[attr-defined]
            key = (k, self.bufs[out].fmt, tuple(source[r] for r in reads))
            hit = self.cache.get(key)
            if hit is not None:
                self.mem[out] = hit[0]
                if hit[1]:
                    self.sat[self.ids[id(k)]] += hit[1]
            else:
                before = self.sat[self.ids[id(k)]]
                super().block((k,))
                self.cache.put(key, self.mem[out], self.sat[self.ids[id(k)]] - before)
            source[out] = token(key)
        return None


def run_golden_cached(program: KernelProgram, x_q: np.ndarray, cache: KernelCache) -> GoldenResult:
    return CachedGolden(program, cache).run(x_q)
