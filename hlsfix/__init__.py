"""hlsfix: compile small float ML models to bit-exact fixed-point C, RTL and HLS C++."""

from hlsfix.compiler import CompiledModel, compile
from hlsfix.errors import HlsfixError
from hlsfix.fixedpoint.int8.compiled import CompiledInt8Model, compile_tflite
from hlsfix.zoo import ZOO_NAMES, load_model

__all__ = [
    "CompiledInt8Model",
    "CompiledModel",
    "HlsfixError",
    "ZOO_NAMES",
    "compile",
    "compile_tflite",
    "load_model",
]
__version__ = "0.1.0"
