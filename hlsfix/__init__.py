"""hlsfix: compile small float ML models to bit-exact fixed-point C, RTL and HLS C++.

cm = hlsfix.compile("protonn")                       # → CompiledModel (the golden model: cm.predict)
cm.build(board="arty-a7", out="out/protonn")         # → FlowResult (report, bit_exact, cycles, resources)
"""

from hlsfix.errors import HlsfixError
from hlsfix.flows.api import CompiledModel, compile
from hlsfix.flows.options import BuildOptions, CompileOptions, ModelSpec, SimOptions
from hlsfix.flows.result import FlowResult
from hlsfix.zoo import ZOO_NAMES, load_model

__all__ = [
    "BuildOptions",
    "CompileOptions",
    "CompiledModel",
    "FlowResult",
    "HlsfixError",
    "ModelSpec",
    "SimOptions",
    "ZOO_NAMES",
    "compile",
    "load_model",
]
__version__ = "0.2.0"
