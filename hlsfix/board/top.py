"""The board top: UART host link + accelerator, with LEDs and a reset button.

``BoardCore`` is the whole design with plain ports (``rx``, ``tx``, ``button``, ``leds``), so that
amaranth.sim and cocotb can drive exactly what goes on the board; ``BoardTop`` only connects those
ports to the platform's pins.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth import Elaboratable, Module, ResetInserter, Signal
from amaranth.lib import io, stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from hlsfix.board.fpga_boards import FpgaBoard, get_fpga_board
from hlsfix.board.protocol import FINGERPRINT_BYTES
from hlsfix.board.uart import DEFAULT_BAUD, HostLink, UartRx, UartTx, baud_divisor
from hlsfix.errors import BoardError

N_LEDS = 4  # the Arty's four green LEDs; they show the low bits of the last class
# Long enough that a host's pauses between bytes (USB frames, a busy OS) do not cut a frame short,
# short enough that a person never notices the board recovering from a bad one.
DEFAULT_FRAME_TIMEOUT_S = 0.05


def accelerator_streams(accel: wiring.Component) -> tuple[str, str]:
    """The names of the accelerator's one input stream and one output stream."""
    inputs, outputs = [], []
    for name, member in accel.signature.members.items():
        if member.is_signature and isinstance(member.signature, stream.Signature):
            (inputs if member.flow == In else outputs).append(name)
    if len(inputs) != 1 or len(outputs) != 1:
        raise BoardError(
            f"accelerator must have one input and one output stream, not inputs {inputs}, outputs {outputs}"
        )
    return inputs[0], outputs[0]


class BoardCore(wiring.Component):
    """UART link + accelerator.  The button resets the whole datapath synchronously.

    ``accelerator_factory()`` returns a Component with one input stream (model-input elements) and
    one output stream (the class, or output elements).  ``n_inputs`` elements go in and
    ``n_outputs`` come out per inference; when ``n_inputs`` is None the accelerator's own
    ``n_inputs`` attribute is used.
    """

    def __init__(
        self,
        accelerator_factory: Callable[[], wiring.Component],
        *,
        clk_hz: int,
        baud: int = DEFAULT_BAUD,
        n_inputs: int | None = None,
        n_outputs: int = 1,
        frame_timeout_cycles: int | None = None,
        fingerprint: bytes = bytes(FINGERPRINT_BYTES),
    ) -> None:
        self.accelerator_factory = accelerator_factory
        self.fingerprint = fingerprint
        self.clk_hz = int(clk_hz)
        self.baud = baud
        self.divisor = baud_divisor(self.clk_hz, baud)  # check the baud rate now, not at elaboration
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        if frame_timeout_cycles is None:
            frame_timeout_cycles = int(self.clk_hz * DEFAULT_FRAME_TIMEOUT_S)
        # The timeout must outlast at least a couple of byte times, or a frame at full speed would fail.
        self.frame_timeout_cycles = max(frame_timeout_cycles, 30 * self.divisor)
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "button": In(1), "leds": Out(N_LEDS)})

    def elaborate(self, platform):
        accel = self.accelerator_factory()
        in_name, out_name = accelerator_streams(accel)
        in_port, out_port = getattr(accel, in_name), getattr(accel, out_name)
        n_inputs = self.n_inputs if self.n_inputs is not None else getattr(accel, "n_inputs", None)
        if n_inputs is None:
            raise BoardError("board top must know the accelerator's input count (n_inputs), not None")
        m = Module()

        link = HostLink(
            n_inputs=n_inputs,
            input_shape=in_port.payload.shape(),
            n_outputs=self.n_outputs,
            output_shape=out_port.payload.shape(),
            timeout_cycles=self.frame_timeout_cycles,
            fingerprint=self.fingerprint,
        )
        uart_rx, uart_tx = UartRx(self.divisor), UartTx(self.divisor)

        # The button bounces and is asynchronous; synchronised, its bounces only repeat the reset.
        reset = Signal()
        m.submodules.button_sync = FFSynchronizer(self.button, reset)
        for name, sub in (("accel", accel), ("link", link), ("uart_rx", uart_rx), ("uart_tx", uart_tx)):
            m.submodules[name] = ResetInserter({"sync": reset})(sub)

        m.d.comb += [uart_rx.rx.eq(self.rx), self.tx.eq(uart_tx.tx), self.leds.eq(link.result)]
        wiring.connect(m, uart_rx.data, link.rx)
        wiring.connect(m, link.tx, uart_tx.data)
        wiring.connect(m, link.to_accel, in_port)
        wiring.connect(m, out_port, link.from_accel)
        return m


class BoardTop(Elaboratable):
    """``BoardCore`` on a real board: UART, LEDs and btn0 from the platform, clock from its default."""

    def __init__(
        self,
        accelerator_factory: Callable[[], wiring.Component],
        board: FpgaBoard | str,
        baud: int = DEFAULT_BAUD,
        *,
        n_inputs: int | None = None,
        n_outputs: int = 1,
        fingerprint: bytes = bytes(FINGERPRINT_BYTES),
    ) -> None:
        self.board = get_fpga_board(board) if isinstance(board, str) else board
        self.fingerprint = fingerprint
        self.accelerator_factory = accelerator_factory
        self.baud = baud
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        baud_divisor(self.board.clock_hz, baud)  # fail at construction on an impossible baud rate

    def elaborate(self, platform):
        m = Module()
        clk_hz = platform.default_clk_frequency if platform is not None else self.board.clock_hz
        m.submodules.core = core = BoardCore(
            self.accelerator_factory,
            clk_hz=int(clk_hz),
            baud=self.baud,
            n_inputs=self.n_inputs,
            n_outputs=self.n_outputs,
            fingerprint=self.fingerprint,
        )
        # Plain (unregistered) I/O buffers: rx and the button are synchronised inside the core.
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buffer = rx = io.Buffer("i", uart.rx)
        m.submodules.tx_buffer = tx = io.Buffer("o", uart.tx)
        m.submodules.button_buffer = button = io.Buffer("i", platform.request("button", 0, dir="-"))
        m.d.comb += [core.rx.eq(rx.i), tx.o.eq(core.tx), core.button.eq(button.i)]
        # The board's first LEDs, as many as it has up to N_LEDS (the iCEBreaker has two).
        leds = sorted(n for name, n in platform.resources if name == "led")
        for i in [n for n in leds if n < N_LEDS]:
            m.submodules[f"led{i}_buffer"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(core.leds[i])
        return m
