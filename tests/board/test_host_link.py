"""HostLink (frames <-> accelerator streams) in amaranth.sim, at the byte level: every request gets
one response, malformed ones an error status, and the link recovers for the next request."""

from __future__ import annotations

import random

import pytest
from amaranth import Module, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from hlsfix.board import protocol
from hlsfix.board.protocol import Status
from hlsfix.board.uart import HostLink
from tests.board.standin import SumAccelerator, standin_class

TIMEOUT_CYCLES = 200
BYTE_GAP = 7  # cycles between received bytes; a real UART has hundreds, which changes nothing here


class EchoAccelerator(wiring.Component):
    """Answers each input element with itself: n outputs, signed, wider than a byte."""

    def __init__(self, bits: int) -> None:
        super().__init__(
            {"input": In(stream.Signature(signed(bits))), "output": Out(stream.Signature(signed(bits)))}
        )

    def elaborate(self, platform):
        m = Module()
        wiring.connect(m, wiring.flipped(self.input), wiring.flipped(self.output))
        return m


class LinkHarness(wiring.Component):
    def __init__(self, accel, *, n_inputs, n_outputs=1, fingerprint=bytes(8)) -> None:
        self.accel = accel
        in_shape = accel.input.payload.shape()
        self.link = HostLink(
            n_inputs=n_inputs,
            input_shape=in_shape,
            n_outputs=n_outputs,
            output_shape=accel.output.payload.shape(),
            timeout_cycles=TIMEOUT_CYCLES,
            fingerprint=fingerprint,
        )
        super().__init__({"rx": In(stream.Signature(8, always_ready=True)), "tx": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.link, m.submodules.accel = self.link, self.accel
        wiring.connect(m, wiring.flipped(self.rx), self.link.rx)
        wiring.connect(m, self.link.tx, wiring.flipped(self.tx))
        wiring.connect(m, self.link.to_accel, self.accel.input)
        wiring.connect(m, self.accel.output, self.link.from_accel)
        return m


def run_link(harness, requests: list[tuple[bytes, int]]) -> tuple[list[protocol.Response], list[int]]:
    """Send each request (bytes, then `pause` idle cycles) and decode every response frame sent back.

    Also returns ``link.result`` after each pause."""
    sim = Simulator(harness)
    sim.add_clock(1e-8)
    sent_back = bytearray()
    results = []

    async def uart_tx(ctx):
        # A transmitter is busy for a while after each byte; model that with a slow `ready`.
        cycle = 0
        async for _ in ctx.tick():
            cycle += 1
            ctx.set(harness.tx.ready, cycle % 3 == 0)

    async def collect(ctx):
        async for _, _, valid, ready, payload in ctx.tick().sample(
            harness.tx.valid, harness.tx.ready, harness.tx.payload
        ):
            if valid and ready:
                sent_back.append(payload)

    async def testbench(ctx):
        for data, pause in requests:
            for byte in data:
                ctx.set(harness.rx.payload, byte)
                ctx.set(harness.rx.valid, 1)
                await ctx.tick()
                ctx.set(harness.rx.valid, 0)
                await ctx.tick().repeat(BYTE_GAP)
            await ctx.tick().repeat(pause)
            results.append(ctx.get(harness.link.result))

    sim.add_process(uart_tx)
    sim.add_process(collect)
    sim.add_testbench(testbench)
    sim.run()
    return split_responses(bytes(sent_back)), results


def split_responses(data: bytes) -> list[protocol.Response]:
    responses = []
    while data:
        end = protocol.RESPONSE_HEADER_BYTES + protocol.response_payload_length(data[:4])
        responses.append(protocol.decode_response(data[:end]))
        data = data[end:]
    return responses


N_INPUTS = 6
ANSWER_CYCLES = 300  # enough for the stand-in to finish and the answer to go out


def sum_harness(bits: int = 16) -> LinkHarness:
    return LinkHarness(SumAccelerator(N_INPUTS, bits), n_inputs=N_INPUTS)


def request(x, bits: int = 16) -> bytes:
    return protocol.request_for_input(x, bits)


def test_a_request_gets_the_accelerators_class():
    rng = random.Random(1)
    xs = [[rng.randrange(-32768, 32768) for _ in range(N_INPUTS)] for _ in range(3)]
    responses, results = run_link(sum_harness(), [(request(x), ANSWER_CYCLES) for x in xs])
    assert [r.status for r in responses] == [Status.OK] * 3
    assert [r.payload for r in responses] == [bytes([standin_class(x)]) for x in xs]
    assert results == [standin_class(x) for x in xs]  # the LEDs follow the last class


def test_eight_bit_inputs_take_one_byte_each():
    x = [-128, 127, -1, 0, 5, 100]
    responses, _ = run_link(sum_harness(bits=8), [(request(x, bits=8), ANSWER_CYCLES)])
    assert len(request(x, bits=8)) == 3 + N_INPUTS + 1
    assert responses == [protocol.Response(Status.OK, bytes([standin_class(x)]))]


def test_several_signed_outputs_are_sign_extended_little_endian():
    x = [-2048, 2047, -1, 0, 1, -300]
    harness = LinkHarness(EchoAccelerator(12), n_inputs=N_INPUTS, n_outputs=N_INPUTS)
    responses, _ = run_link(harness, [(request(x, bits=12), ANSWER_CYCLES)])
    assert responses[0].status == Status.OK
    assert responses[0].payload == protocol.encode_elements(x, 16)
    assert protocol.decode_elements(responses[0].payload, 12) == x


def test_bytes_before_the_sync_byte_are_skipped():
    x = list(range(N_INPUTS))
    responses, _ = run_link(sum_harness(), [(b"\x00\x13\xff" + request(x), ANSWER_CYCLES)])
    assert responses == [protocol.Response(Status.OK, bytes([standin_class(x)]))]


def test_a_bad_checksum_is_answered_and_the_next_frame_works():
    x = [1, 2, 3, 4, 5, 6]
    bad = bytearray(request(x))
    bad[-1] ^= 0x01
    corrupted = bytearray(request(x))
    corrupted[5] ^= 0x40  # a flipped payload bit
    responses, results = run_link(
        sum_harness(),
        [(bytes(bad), ANSWER_CYCLES), (bytes(corrupted), ANSWER_CYCLES), (request(x), ANSWER_CYCLES)],
    )
    assert [r.status for r in responses] == [Status.BAD_CHECKSUM, Status.BAD_CHECKSUM, Status.OK]
    assert responses[0].payload == b""
    assert results == [0, 0, standin_class(x)]  # a rejected frame never reached the accelerator


@pytest.mark.parametrize("n", [N_INPUTS - 1, N_INPUTS + 1, 1])
def test_a_wrong_length_is_answered_after_the_line_goes_quiet(n):
    x = list(range(n))
    responses, _ = run_link(
        sum_harness(),
        [(request(x), TIMEOUT_CYCLES + ANSWER_CYCLES), (request(range(N_INPUTS)), ANSWER_CYCLES)],
    )
    assert [r.status for r in responses] == [Status.BAD_LENGTH, Status.OK]


@pytest.mark.parametrize("keep", [1, 2, 3, 8, 15])
def test_a_truncated_frame_times_out_and_the_link_recovers(keep):
    x = [10, -20, 30, -40, 50, -60]
    responses, _ = run_link(
        sum_harness(), [(request(x)[:keep], TIMEOUT_CYCLES + ANSWER_CYCLES), (request(x), ANSWER_CYCLES)]
    )
    assert [r.status for r in responses] == [Status.TRUNCATED, Status.OK]
    assert responses[1].payload == bytes([standin_class(x)])


def test_a_pause_shorter_than_the_timeout_is_not_a_truncation():
    x = [7] * N_INPUTS
    frame = request(x)
    responses, _ = run_link(
        sum_harness(), [(frame[:5], TIMEOUT_CYCLES - 2 * BYTE_GAP), (frame[5:], ANSWER_CYCLES)]
    )
    assert responses == [protocol.Response(Status.OK, bytes([standin_class(x)]))]


FINGERPRINT = bytes.fromhex("4e246884d5933f99")


def test_an_empty_request_gets_the_programs_fingerprint_and_inference_goes_on():
    harness = LinkHarness(SumAccelerator(N_INPUTS, 16), n_inputs=N_INPUTS, fingerprint=FINGERPRINT)
    x = [3, -1, 4, -1, 5, -9]
    bad = bytearray(protocol.identify_request())
    bad[-1] ^= 0x80
    responses, results = run_link(
        harness,
        [
            (protocol.identify_request(), ANSWER_CYCLES),
            (bytes(bad), ANSWER_CYCLES),
            (request(x), ANSWER_CYCLES),
        ],
    )
    assert responses == [
        protocol.Response(Status.IDENTITY, FINGERPRINT),
        protocol.Response(Status.BAD_CHECKSUM, b""),
        protocol.Response(Status.OK, bytes([standin_class(x)])),
    ]
    assert results == [0, 0, standin_class(x)]  # identifying never starts an inference
