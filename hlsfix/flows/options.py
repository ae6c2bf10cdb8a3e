"""Typed options of the flows: what a user asks for, checked once, before anything slow runs.

Every field a user did not give is ``None``; the flows resolve it to its default, so an option that
does nothing in the chosen mode (``--interface`` on an Uno build, ``--pin`` without ``--host``) can be
told from one left at its default, and refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from hlsfix.errors import HlsfixError

BITS = ("8", "16", "32", "mixed")
METRICS = ("acc", "disagree", "red_disagree", "sqnr", "max_rel_err")  # the last two: tensor outputs
ACTIVATIONS = ("auto", "table", "linear")
BACKENDS = ("rtl", "hls")
HLS_INTERFACES = ("ap_memory", "s_axilite", "axis")
SIMULATORS = ("icarus", "verilator")
HOSTS = ("arduino-uno", "microblaze")
MAX_LANES = 64
MAX_INPUTS = 100_000
DEFAULT_BAUD = 115_200
DEFAULT_CLOCK_NS = 10.0
DEFAULT_INTERFACE = "ap_memory"


class OptionError(HlsfixError):
    """An option's value is out of range, or the option does nothing in the chosen mode."""


def _choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise OptionError(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def _positive_int(option: str, value: int | None, limit: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise OptionError(f"{option} must be an integer from 1 to {limit}, not {value!r}")


def _finite(option: str, value: float | None, *, positive: bool = False) -> None:
    if value is None:
        return
    if (
        not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        kind = "a positive finite number" if positive else "a finite number ≥ 0"
        raise OptionError(f"{option} must be {kind}, not {value!r}")


def parse_lanes(text: str | int | None) -> int | Literal["auto"] | None:
    """``--lanes``: ``"auto"``, or an integer from 1 to MAX_LANES (None: not given)."""
    if text is None or text == "auto":
        return text  # type: ignore[return-value]
    try:
        lanes = int(text)
    except (TypeError, ValueError):
        lanes = 0
    if not 1 <= lanes <= MAX_LANES:
        raise OptionError(f"--lanes must be auto or an integer from 1 to {MAX_LANES}, not {text!r}")
    return lanes


OUTPUT_KINDS = ("class", "values")


@dataclass(frozen=True)
class ModelSpec:
    """Where the model comes from: a zoo name or a file, with optional weights and data files."""

    model: str
    weights: Path | None = None
    data: Path | None = None
    # The input's real range (the fixed-point scale of the input); None: the model's declared
    # range (.sd), or the training data's range (an imported .onnx/.tflite model)
    input_range: tuple[float, float] | None = None
    # What an imported (.onnx/.tflite) model's output is: "class" (the argmax of its scores) or
    # "values" (the output tensor itself); None: decided from the data's labels (zoo.imported)
    output_kind: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise OptionError(f"model must be a zoo name or a file path, not {self.model!r}")
        object.__setattr__(self, "input_range", parse_input_range(self.input_range))
        if self.output_kind not in (None, *OUTPUT_KINDS):
            raise OptionError(
                f"--output-kind must be one of {', '.join(OUTPUT_KINDS)}, not {self.output_kind!r}"
            )


def parse_input_range(value: str | tuple | list | None) -> tuple[float, float] | None:
    """``--input-range LO,HI`` (or a pair of numbers): finite, LO < HI (None: not given)."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else value
    try:
        lo, hi = (float(v) for v in parts)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        lo = hi = math.nan
    if isinstance(value, str) and value.count(",") != 1:
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        shown = value if isinstance(value, str) else list(value)  # type: ignore[arg-type]
        raise OptionError(f"--input-range must be LO,HI with finite numbers LO < HI, not {shown!r}")
    return (lo, hi)


@dataclass(frozen=True)
class CompileOptions:
    """How the fixed-point program is chosen (see DESIGN.md, "Choosing scales and bitwidths")."""

    bits: str = "16"
    metric: str | None = None
    activation: str = "auto"
    budget_pp: float | None = None
    weight_budget: int | None = None
    min_sqnr: float | None = None  # a tensor output's mixed search: the SQNR (dB) it keeps
    max_rel_err: float | None = None  # ... or the worst relative error it may reach
    no_reorder: bool | None = None  # an int8 .tflite model: keep the file's operator order
    no_partial_execution: bool | None = None  # ... and no channel-sliced execution

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", str(self.bits))
        _choice("--bits", self.bits, BITS)
        _choice("--metric", self.metric, METRICS)
        _choice("--activation", self.activation, ACTIVATIONS)
        _finite("--budget-pp", self.budget_pp)
        if self.budget_pp is not None and self.budget_pp > 100:
            raise OptionError(f"--budget-pp must be at most 100 percentage points, not {self.budget_pp}")
        _positive_int("--weight-budget", self.weight_budget, 1 << 40)
        _finite("--min-sqnr", self.min_sqnr, positive=True)
        if self.min_sqnr is not None and self.min_sqnr > 200:
            raise OptionError(f"--min-sqnr must be at most 200 dB, not {self.min_sqnr}")
        _finite("--max-rel-err", self.max_rel_err, positive=True)
        if self.budget_pp is not None and (self.min_sqnr is not None or self.max_rel_err is not None):
            raise OptionError(
                "--budget-pp bounds a class output, --min-sqnr and --max-rel-err a tensor output: "
                "give one, not both"
            )
        if self.bits != "mixed":
            for name, value in (
                ("--budget-pp", self.budget_pp),
                ("--weight-budget", self.weight_budget),
                ("--min-sqnr", self.min_sqnr),
                ("--max-rel-err", self.max_rel_err),
            ):
                if value is not None:
                    raise OptionError(f"{name} applies to --bits mixed only, not --bits {self.bits}")


@dataclass(frozen=True)
class BuildOptions:
    """``build`` for a board: an MCU (C project), an FPGA (accelerator or HLS), or a co-design split."""

    board: str = "arty-a7"
    backend: str | None = None
    lanes: int | Literal["auto"] | None = None
    inputs: int | None = None
    baud: int | None = None
    run_vivado: bool = False
    compare_uno: bool = True
    interface: str | None = None
    clock_ns: float | None = None
    host: str | None = None
    pins: str | None = None
    synth: bool = True
    simulator: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lanes", parse_lanes(self.lanes))
        _choice("--backend", self.backend, BACKENDS)
        _choice("--interface", self.interface, HLS_INTERFACES)
        _choice("--host", self.host, HOSTS)
        _choice("--simulator", self.simulator, SIMULATORS)
        _positive_int("--inputs", self.inputs, MAX_INPUTS)
        _positive_int("--baud", self.baud, 12_000_000)
        _finite("--clock-ns", self.clock_ns, positive=True)

    def given(self) -> list[str]:
        """The options set away from their "not given" value, as command-line flags."""
        defaults = {f.name: f.default for f in fields(self)}
        return [
            "--" + name.replace("_", "-")
            for name, default in defaults.items()
            if name != "board" and getattr(self, name) != default
        ]


@dataclass(frozen=True)
class SimOptions:
    """``sim``: the accelerator (or a co-design split) in cocotb on test inputs."""

    lanes: int | None = None
    inputs: int | None = None
    simulator: str = "icarus"
    vcd: Path | None = None
    host: str | None = None
    pins: str | None = None

    def __post_init__(self) -> None:
        lanes = parse_lanes(self.lanes)
        if lanes == "auto":
            raise OptionError("--lanes must be an integer for sim, not 'auto'")
        object.__setattr__(self, "lanes", lanes)
        _positive_int("--inputs", self.inputs, MAX_INPUTS)
        _choice("--simulator", self.simulator, SIMULATORS)
        _choice("--host", self.host, HOSTS)
        if self.pins is not None and self.host is None:
            raise OptionError("--pin applies to a co-design (--host), not to the accelerator alone")
        if self.vcd is not None and self.simulator != "icarus":
            raise OptionError(f"--vcd is written by the icarus simulator, not {self.simulator}")
        if self.vcd is not None and self.host is not None:
            raise OptionError("--vcd applies to the accelerator alone, not to a co-design (--host)")
