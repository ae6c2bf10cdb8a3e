"""The build API: typed options in, typed results out. The command line is a thin face over it.

compile (api.compile) → CompiledModel → save / build / simulate / emit_rtl → FlowResult
"""

from hlsfix.flows.api import CompiledModel, compile
from hlsfix.flows.options import BuildOptions, CompileOptions, ModelSpec, SimOptions
from hlsfix.flows.result import FlowResult

__all__ = [
    "BuildOptions",
    "CompileOptions",
    "CompiledModel",
    "FlowResult",
    "ModelSpec",
    "SimOptions",
    "compile",
]
