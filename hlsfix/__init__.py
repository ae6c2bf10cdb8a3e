"""hlsfix: compile small float ML models to bit-exact fixed-point C, RTL and HLS C++."""

from hlsfix.compiler import CompiledModel, compile
from hlsfix.errors import HlsfixError
from hlsfix.zoo import ZOO_NAMES, load_model

__all__ = ["CompiledModel", "HlsfixError", "ZOO_NAMES", "compile", "load_model"]
__version__ = "0.1.0"
