"""A compiled model that knows where it came from: its source files and the options it was compiled with.

The flows take this; ``hlsfix.flows.api.CompiledModel`` adds the methods that call them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hlsfix import compiler
from hlsfix.flows.options import CompileOptions, ModelSpec


@dataclass(frozen=True)
class TrackedModel(compiler.CompiledModel):
    """``compiler.CompiledModel`` plus its provenance, so its outputs can be rebuilt exactly."""

    spec: ModelSpec | None = field(default=None, repr=False)
    options: CompileOptions = field(default_factory=CompileOptions, repr=False)

    @property
    def protected_files(self) -> tuple[Path, ...]:
        """The user's files this model was read from: no output directory may replace them."""
        files = [self.source] if self.source is not None else []
        if self.spec is not None:
            files += [p for p in (self.spec.weights, self.spec.data) if p is not None]
        return tuple(Path(f) for f in files)
