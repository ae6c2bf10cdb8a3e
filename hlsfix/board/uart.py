"""The board's host link: an 8N1 UART receiver and transmitter, and ``HostLink``, which turns request
frames into the accelerator's input stream and its output stream into response frames.

The frame format and status codes are defined once, in ``hlsfix.board.protocol``; this module only
imports the constants.
"""

# An FSM reads state by state: a state's body stays nested under it even when it is one `If`.
# ruff: noqa: SIM117

from __future__ import annotations

from amaranth import Array, C, Cat, Module, Mux, Signal
from amaranth.hdl import Shape
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hlsfix.board.protocol import (
    FINGERPRINT_BYTES,
    MAX_PAYLOAD,
    REQUEST_SYNC,
    RESPONSE_SYNC,
    Status,
    element_bytes,
)
from hlsfix.errors import BoardError

DEFAULT_BAUD = 115_200
# A receiver sampling mid-bit tolerates about 4.5% total clock mismatch over a 10-bit frame;
# keeping our own rounding error to 2% leaves the rest for the host's oscillator.
MAX_BAUD_ERROR = 0.02


def baud_divisor(clk_hz: int, baud: int = DEFAULT_BAUD) -> int:
    """Clock cycles per UART bit; BoardError when ``baud`` cannot be made from ``clk_hz`` closely enough."""
    if baud <= 0:
        raise BoardError(f"baud rate must be positive, not {baud}")
    divisor = round(clk_hz / baud)
    # Below 4 cycles a bit the receiver's half-bit wait and synchroniser delay eat the sampling margin.
    if divisor < 4:
        raise BoardError(f"baud rate must be at most {clk_hz // 4} at {clk_hz} Hz, not {baud}")
    error = abs(clk_hz / divisor - baud) / baud
    if error > MAX_BAUD_ERROR:
        raise BoardError(f"baud rate must be within 2% of {clk_hz} Hz / n, not {baud} ({error:.1%} off)")
    return divisor


class UartRx(wiring.Component):
    """8N1 receiver.  ``data`` carries each byte for one cycle (it cannot wait: the line does not);
    a byte whose stop bit is low is dropped and flagged on ``framing_error`` instead."""

    def __init__(self, divisor: int) -> None:
        self.divisor = divisor
        super().__init__(
            {
                "rx": In(1, init=1),
                "data": Out(stream.Signature(8, always_ready=True)),
                "framing_error": Out(1),
            }
        )

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)  # idle-high, also across reset, so reset is not seen as a start bit
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)

        timer = Signal(range(self.divisor))
        bit = Signal(range(8))
        shift = Signal(8)
        m.d.comb += self.data.payload.eq(shift)
        with m.If(timer != 0):
            m.d.sync += timer.eq(timer - 1)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer == 0):
                    # Still low at mid-bit: a real start bit, not a glitch.
                    with m.If(line):
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                        m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer == 0):
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), timer.eq(self.divisor - 1), bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                # Decide at mid stop bit and return to IDLE at once: the next start bit may follow
                # half a bit later, and a slightly fast sender makes it sooner still.
                with m.If(timer == 0):
                    with m.If(line):
                        m.d.comb += self.data.valid.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.comb += self.framing_error.eq(1)
                        m.next = "BREAK"
            with m.State("BREAK"):
                # A line held low (a break, or a disconnected cable) would otherwise read as 0x00 bytes.
                with m.If(line):
                    m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """8N1 transmitter: takes a byte from ``data`` whenever it is idle."""

    def __init__(self, divisor: int) -> None:
        self.divisor = divisor
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        bits_sent = Signal(range(10))
        shift = Signal(9)  # data bits then the stop bit; the start bit goes straight onto tx

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.data.ready.eq(1)
                with m.If(self.data.valid):
                    m.d.sync += [
                        shift.eq(Cat(self.data.payload, C(1, 1))),
                        self.tx.eq(0),
                        timer.eq(self.divisor - 1),
                        bits_sent.eq(0),
                    ]
                    m.next = "SEND"
            with m.State("SEND"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(bits_sent == 9):
                    m.next = "IDLE"  # the stop bit has lasted a full bit time; tx stays high
                with m.Else():
                    m.d.sync += [
                        self.tx.eq(shift[0]),
                        shift.eq(shift >> 1),
                        timer.eq(self.divisor - 1),
                        bits_sent.eq(bits_sent + 1),
                    ]
        return m


class HostLink(wiring.Component):
    """Request/response framing between UART bytes and the accelerator's streams.

    A request's payload is buffered whole and checked before any of it reaches the accelerator, so
    a corrupted frame never starts an inference.  Every request gets exactly one response:

    - OK with the ``n_outputs`` output elements;
    - BAD_CHECKSUM when the checksum byte is wrong;
    - BAD_LENGTH when the length field is not the model's input size (the claimed payload is
      discarded until the line is quiet for ``timeout_cycles``, since its true end is unknown);
    - TRUNCATED when the line goes quiet for ``timeout_cycles`` inside a frame;
    - IDENTITY with ``fingerprint`` (the program's, 8 bytes) for an empty request.

    Bytes outside a frame (before the sync byte, or while an answer is being produced) are ignored.
    ``result`` holds the first output element of the last OK answer (for the LEDs).
    The OK answer waits for the accelerator's outputs without a time limit: a silent accelerator
    is a bug in it, and the reset button is the way out.
    """

    def __init__(
        self,
        *,
        n_inputs: int,
        input_shape,
        n_outputs: int = 1,
        output_shape=8,
        timeout_cycles: int,
        fingerprint: bytes = bytes(FINGERPRINT_BYTES),
    ) -> None:
        if len(fingerprint) != FINGERPRINT_BYTES:
            raise BoardError(f"fingerprint must be {FINGERPRINT_BYTES} bytes, not {len(fingerprint)}")
        self.fingerprint = bytes(fingerprint)
        self.input_shape = Shape.cast(input_shape)
        self.output_shape = Shape.cast(output_shape)
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.in_bytes = element_bytes(self.input_shape.width)
        self.out_bytes = element_bytes(self.output_shape.width)
        self.request_len = n_inputs * self.in_bytes
        self.response_len = n_outputs * self.out_bytes
        if n_inputs < 1 or n_outputs < 1:
            raise BoardError(
                f"accelerator must take and give at least one element, not {n_inputs}/{n_outputs}"
            )
        if max(self.request_len, self.response_len) > MAX_PAYLOAD:
            raise BoardError(f"frame payload must be at most {MAX_PAYLOAD} bytes, not {self.request_len}")
        self.timeout_cycles = timeout_cycles
        super().__init__(
            {
                "rx": In(stream.Signature(8, always_ready=True)),
                "tx": Out(stream.Signature(8)),
                "to_accel": Out(stream.Signature(self.input_shape)),
                "from_accel": In(stream.Signature(self.output_shape)),
                "result": Out(self.output_shape),
                "status": Out(range(len(Status))),
            }
        )

    def elaborate(self, platform):
        m = Module()
        rx, tx = self.rx, self.tx
        width = self.input_shape.width
        m.submodules.inputs = mem = Memory(shape=width, depth=self.n_inputs, init=[])
        wr = mem.write_port()
        rd = mem.read_port()  # synchronous, so it maps onto block RAM for large inputs

        length = Signal(16)
        rx_sum = Signal(8)
        tx_sum = Signal(8)
        elem = Signal(8 * self.in_bytes)  # little-endian bytes shift in from the top
        byte_in_elem = Signal(range(self.in_bytes))
        index = Signal(range(max(self.n_inputs, self.n_outputs) + 1))
        quiet = Signal(range(self.timeout_cycles + 1))
        status = Signal(range(len(Status)))
        out_shift = Signal(8 * self.out_bytes)
        id_byte = Signal(range(FINGERPRINT_BYTES))
        id_rom = Array(C(b, 8) for b in self.fingerprint)
        byte_in_out = Signal(range(self.out_bytes))
        m.d.comb += self.status.eq(status)

        # The feeder streams the checked input to the accelerator while the FSM below already sends
        # the response header and waits for outputs: an accelerator may answer before it has taken
        # all of its input (a pass-through, or one with a small FIFO), and must not deadlock then.
        feeding = Signal()
        feed_index = Signal(range(self.n_inputs))
        primed = Signal()  # the read port's data is that of feed_index (one cycle after the address)
        m.d.comb += [rd.addr.eq(feed_index), self.to_accel.payload.eq(rd.data)]
        with m.If(feeding):
            with m.If(~primed):
                m.d.sync += primed.eq(1)
            with m.Else():
                m.d.comb += self.to_accel.valid.eq(1)
                with m.If(self.to_accel.ready):
                    m.d.sync += [primed.eq(0), feed_index.eq(feed_index + 1)]
                    with m.If(feed_index == self.n_inputs - 1):
                        m.d.sync += [feeding.eq(0), feed_index.eq(0)]

        def respond(code: Status) -> None:
            m.d.sync += [status.eq(code), index.eq(0)]
            m.next = "SEND_SYNC"

        def send(byte, next_state: str, *, checksummed: bool = True) -> None:
            m.d.comb += [tx.valid.eq(1), tx.payload.eq(byte)]
            with m.If(tx.ready):
                if checksummed:
                    m.d.sync += tx_sum.eq(tx_sum + byte)
                m.next = next_state

        def watch_line(on_silence: Status) -> None:
            """Inside a frame: count quiet cycles, and give up with ``on_silence`` when too many pass."""
            with m.If(rx.valid):
                m.d.sync += quiet.eq(0)
            with m.Elif(quiet == self.timeout_cycles):
                respond(on_silence)
            with m.Else():
                m.d.sync += quiet.eq(quiet + 1)

        with m.FSM():
            with m.State("IDLE"):
                m.d.sync += [rx_sum.eq(0), tx_sum.eq(0), quiet.eq(0)]
                with m.If(rx.valid & (rx.payload == REQUEST_SYNC)):
                    m.next = "LEN_LO"
            with m.State("LEN_LO"):
                watch_line(Status.TRUNCATED)
                with m.If(rx.valid):
                    m.d.sync += [length[:8].eq(rx.payload), rx_sum.eq(rx_sum + rx.payload)]
                    m.next = "LEN_HI"
            with m.State("LEN_HI"):
                watch_line(Status.TRUNCATED)
                with m.If(rx.valid):
                    m.d.sync += [rx_sum.eq(rx_sum + rx.payload), byte_in_elem.eq(0), index.eq(0)]
                    with m.If(Cat(length[:8], rx.payload) == self.request_len):
                        m.next = "PAYLOAD"
                    with m.Elif(Cat(length[:8], rx.payload) == 0):
                        m.next = "IDENTIFY"
                    with m.Else():
                        m.next = "DRAIN"
            with m.State("PAYLOAD"):
                watch_line(Status.TRUNCATED)
                assembled = Cat(elem[8:], rx.payload)
                m.d.comb += [wr.addr.eq(index), wr.data.eq(assembled[:width])]
                with m.If(rx.valid):
                    m.d.sync += [elem.eq(assembled), rx_sum.eq(rx_sum + rx.payload)]
                    with m.If(byte_in_elem == self.in_bytes - 1):
                        m.d.comb += wr.en.eq(1)
                        m.d.sync += [byte_in_elem.eq(0), index.eq(index + 1)]
                        with m.If(index == self.n_inputs - 1):
                            m.next = "CHECK"
                    with m.Else():
                        m.d.sync += byte_in_elem.eq(byte_in_elem + 1)
            with m.State("CHECK"):
                watch_line(Status.TRUNCATED)
                with m.If(rx.valid):
                    m.d.sync += index.eq(0)
                    with m.If((rx_sum + rx.payload)[:8] == 0):
                        m.d.sync += [feeding.eq(1), feed_index.eq(0), primed.eq(0)]
                        respond(Status.OK)
                    with m.Else():
                        respond(Status.BAD_CHECKSUM)
            with m.State("IDENTIFY"):  # an empty request: only its checksum byte is left
                watch_line(Status.TRUNCATED)
                with m.If(rx.valid):
                    with m.If((rx_sum + rx.payload)[:8] == 0):
                        respond(Status.IDENTITY)
                    with m.Else():
                        respond(Status.BAD_CHECKSUM)
            with m.State("DRAIN"):
                watch_line(Status.BAD_LENGTH)

            with m.State("SEND_SYNC"):
                send(C(RESPONSE_SYNC, 8), "SEND_STATUS", checksummed=False)
            with m.State("SEND_STATUS"):
                send(status, "SEND_LEN_LO")
            n_payload = Signal(16)
            m.d.comb += n_payload.eq(
                Mux(
                    status == Status.OK,
                    self.response_len,
                    Mux(status == Status.IDENTITY, FINGERPRINT_BYTES, 0),
                )
            )
            with m.State("SEND_LEN_LO"):
                send(n_payload[:8], "SEND_LEN_HI")
            with m.State("SEND_LEN_HI"):
                send(n_payload[8:], "SEND_CHECKSUM")
                with m.If(tx.ready & (status == Status.OK)):
                    m.next = "AWAIT_OUTPUT"  # overrides send()'s choice: an OK answer has a payload
                with m.If(tx.ready & (status == Status.IDENTITY)):
                    m.d.sync += id_byte.eq(0)
                    m.next = "SEND_ID"
            with m.State("SEND_ID"):
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(id_rom[id_byte])]
                with m.If(tx.ready):
                    m.d.sync += [tx_sum.eq(tx_sum + id_rom[id_byte]), id_byte.eq(id_byte + 1)]
                    with m.If(id_byte == FINGERPRINT_BYTES - 1):
                        m.next = "SEND_CHECKSUM"
            with m.State("AWAIT_OUTPUT"):
                m.d.comb += self.from_accel.ready.eq(1)
                with m.If(self.from_accel.valid):
                    # Sign-extend (for a signed shape) to whole bytes before sending.
                    m.d.sync += [out_shift.eq(self.from_accel.payload), byte_in_out.eq(0)]
                    with m.If(index == 0):
                        m.d.sync += self.result.eq(self.from_accel.payload)
                    m.next = "SEND_OUTPUT"
            with m.State("SEND_OUTPUT"):
                m.d.comb += [tx.valid.eq(1), tx.payload.eq(out_shift[:8])]
                with m.If(tx.ready):
                    m.d.sync += [tx_sum.eq(tx_sum + out_shift[:8]), out_shift.eq(out_shift >> 8)]
                    m.d.sync += byte_in_out.eq(byte_in_out + 1)
                    with m.If(byte_in_out == self.out_bytes - 1):
                        m.d.sync += index.eq(index + 1)
                        with m.If(index == self.n_outputs - 1):
                            m.next = "SEND_CHECKSUM"
                        with m.Else():
                            m.next = "AWAIT_OUTPUT"
            with m.State("SEND_CHECKSUM"):
                send((-tx_sum)[:8], "IDLE", checksummed=False)
        return m
