"""``build``: one entry for every board — an MCU, an FPGA (accelerator or HLS) or a co-design split.

The options are checked against the board before anything slow runs: an option that does nothing
for the chosen board and backend is refused (a user who passed ``--interface`` to an Uno build
meant something else), and every tool the build will need is looked for first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hlsfix.boards import McuBoard, get_board
from hlsfix.errors import BoardError
from hlsfix.flows.options import BuildOptions, OptionError
from hlsfix.flows.progress import Progress, quiet
from hlsfix.flows.result import FlowResult

if TYPE_CHECKING:
    from hlsfix.flows.model import TrackedModel

# Which options mean something in which mode.
_MODE_OPTIONS = {
    "mcu": {"--inputs"},
    "fpga": {"--backend", "--lanes", "--inputs", "--baud", "--run-vivado", "--compare-uno", "--simulator"},
    "hls": {"--backend", "--interface", "--clock-ns"},
    "codesign": {"--backend", "--lanes", "--inputs", "--host", "--pins", "--synth", "--simulator"},
    # An open FPGA (ULX3S, iCEBreaker) is built to a bitstream here: no Vivado to run.
    "open": {"--backend", "--lanes", "--inputs", "--baud", "--compare-uno", "--simulator"},
}
_FLAG_NAMES = {"--compare-uno": "--no-uno", "--synth": "--no-synth", "--pins": "--pin"}


def build_mode(options: BuildOptions) -> str:
    """``mcu``, ``fpga``, ``hls``, ``codesign`` or ``open`` (an open FPGA to a bitstream); an error for a
    board, backend and host that do not go together."""
    board = get_board(options.board)
    if isinstance(board, McuBoard):
        if options.backend is not None:
            raise OptionError(f"--backend applies to an FPGA board, not {board.name}")
        if options.host is not None:
            raise OptionError(f"--host needs an FPGA board (arty-a7, …), not {board.name}")
        return "mcu"
    if board.is_open:
        for flag, value in (
            ("--backend hls", options.backend == "hls"),
            ("--host", options.host is not None),
        ):
            if value:
                raise OptionError(f"{flag} needs a Xilinx board (arty-a7, …), not {board.name}")
        return "open"
    if options.host is not None:
        if options.backend == "hls":
            raise BoardError("--host needs the rtl backend, not hls")
        return "codesign"
    return "hls" if options.backend == "hls" else "fpga"


def check_build_options(options: BuildOptions) -> str:
    """The build's mode, once every given option has been found to apply to it."""
    mode = build_mode(options)
    for flag in options.given():
        if flag not in _MODE_OPTIONS[mode]:
            shown = _FLAG_NAMES.get(flag, flag)
            what = {
                "mcu": f"an {options.board} build",
                "fpga": "an accelerator build",
                "hls": "an HLS build",
                "open": f"an {options.board} build (no Vivado)",
            }
            raise OptionError(
                f"{shown} does nothing in {what.get(mode, 'a co-design build')}, so it is refused"
            )
    return mode


def check_prerequisites(options: BuildOptions) -> None:
    """Every tool and extra the build will need, before the compile starts."""
    mode = check_build_options(options)
    if mode == "mcu":
        from hlsfix.flows.mcu import check_mcu_prerequisites

        check_mcu_prerequisites()
    elif mode in ("fpga", "open"):
        from hlsfix.flows.fpga import check_fpga_prerequisites

        check_fpga_prerequisites(options)
    elif mode == "codesign":
        from hlsfix.flows.codesign import check_codesign_prerequisites

        check_codesign_prerequisites(options.host or "", options.simulator or "icarus")
    else:
        from hlsfix.flows.prereq import GXX, require

        require([GXX], "the HLS C-simulation")


def build(
    cm: TrackedModel,
    out: Path,
    options: BuildOptions,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> FlowResult:
    """Build ``cm`` for ``options.board`` into ``out`` (replaced only when the build succeeds)."""
    progress = progress or quiet
    check_prerequisites(options)
    mode = check_build_options(options)
    board = get_board(options.board)
    if mode == "mcu":
        from hlsfix.flows.mcu import build_mcu

        return build_mcu(cm, out, board, options, force=force, progress=progress)  # type: ignore[arg-type]
    if mode == "codesign":
        from hlsfix.flows.codesign import build_codesign

        return build_codesign(cm, out, board, options, force=force, progress=progress)  # type: ignore[arg-type]
    if mode == "hls":
        from hlsfix.flows.fpga import build_hls_project

        return build_hls_project(cm, out, board, options, force=force, progress=progress)  # type: ignore[arg-type]
    from hlsfix.flows.fpga import build_fpga

    return build_fpga(cm, out, board, options, force=force, progress=progress)  # type: ignore[arg-type]
