"""Board-side pieces of an FPGA build: board descriptions, the UART host link, the board top,
the host client and the Yosys resource estimate.

The accelerator itself lives in ``hlsfix.rtl``; everything here wraps any
``amaranth.lib.wiring.Component`` that has one input and one output ``amaranth.lib.stream``.
"""
