"""PCM plumbing between the VideoSDK pipeline and Azure Voice Live.

The framework hands ``handle_audio_input`` raw interleaved s16 LE with no metadata,
usually 48 kHz stereo (3840 B per 20 ms) and sometimes 8 or 16 kHz mono from a phone
leg. Voice Live accepts only mono pcm16 at 8, 16 or 24 kHz. Everything here exists to
close that gap on a hot path that runs 50 times a second per call, for hundreds of
calls per process, so each piece is written to do no work in the common case:

* :class:`InputConverter`: stateful downmix + resample. A stateful filter is the
  point: per-chunk resamplers (scipy FFT or polyphase) have no memory across calls
  and click at every 20 ms boundary.
* :class:`BlockConverter`: feeds it 40 ms at a time, which halves its fixed cost
  per call and is the append batch as well.
* the buffers around it (:class:`AppendBatcher`, :class:`PendingAudio`,
  :class:`OutputFramer`) live in :mod:`._buffers` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Final, cast

import av.error
from av.audio.frame import AudioFrame
from av.filter import Graph

from ._buffers import (
    DEFAULT_APPEND_BATCH_MS,
    AppendBatcher,
    BytesLike,
    OutputFramer,
    PendingAudio,
    pcm16_bytes,
)
from .protocol.audio import PCM16_INPUT_RATES

__all__ = [
    "DEFAULT_APPEND_BATCH_MS",
    "DEFAULT_INPUT_RATE",
    "DOWNMIX",
    "MAX_WIRE_RATE",
    "MIN_WIRE_RATE",
    "RESAMPLER_OPTIONS",
    "VOICE_LIVE_INPUT_RATES",
    "AppendBatcher",
    "BlockConverter",
    "BytesLike",
    "InputConverter",
    "OutputFramer",
    "PendingAudio",
    "choose_input_rate",
    "pcm16_bytes",
]

VOICE_LIVE_INPUT_RATES: Final[frozenset[int]] = PCM16_INPUT_RATES
"""Input rates Voice Live accepts for ``input_audio_sampling_rate`` (pcm16, mono)."""

DEFAULT_INPUT_RATE: Final = 24000
"""Declared when the wire rate is not accepted: the highest rate Voice Live takes, so
a 48 kHz meeting loses only content above 11 kHz, which speech models ignore anyway."""

MIN_WIRE_RATE: Final = 8000
MAX_WIRE_RATE: Final = 96000

RESAMPLER_OPTIONS: Final = "filter_size=64:cutoff=0.92:kaiser_beta=10"
"""libswresample windowed-sinc settings, measured for 48 kHz stereo → 24 kHz mono.

Flat to 10 kHz (−0.001 dB; −0.5 dB at 10.5 kHz) and every tone from 12.5 kHz up
comes out as exact digital silence at s16 (≥ 84 dB down from 12.1 kHz). The
swresample defaults (filter_size=32, cutoff=0.97) let a 12.5 kHz tone alias to
11.5 kHz only 19.5 dB down, which is why PyAV's plain ``AudioResampler`` is not
used. cutoff=0.90 costs the same but is already −0.04 dB at 10 kHz with a
1-LSB residue at 12.5 kHz; longer filters buy nothing audible for +30 % CPU.
"""

DOWNMIX: Final = "mono|c0=0.5*c0+0.5*c1"
"""The ``pan`` filter's stereo → mono matrix: the average, so an L=R signal keeps its
level and the sum of two full-scale channels cannot clip."""

_S16_BYTES: Final = 2


def choose_input_rate(wire_rate: int) -> int:
    """The ``input_audio_sampling_rate`` to declare for audio arriving at ``wire_rate``.

    Accepted rates pass through so a phone leg (8/16 kHz) is forwarded without
    resampling; anything else is resampled to :data:`DEFAULT_INPUT_RATE`, including
    rates below 24 kHz that Voice Live does not accept, since upsampling loses nothing.
    """
    return wire_rate if wire_rate in VOICE_LIVE_INPUT_RATES else DEFAULT_INPUT_RATE


def _byte_view(pcm: object) -> BytesLike:
    """Validate ``pcm`` and return it as something whose ``len`` counts bytes.

    A ``memoryview`` of a non-byte format (e.g. ``'h'``) reports its length in items,
    which would silently halve the byte arithmetic below, so it is recast.
    """
    if isinstance(pcm, bytes | bytearray):
        return pcm
    if isinstance(pcm, memoryview):
        if pcm.format == "B" and pcm.ndim == 1 and pcm.c_contiguous:
            return pcm
        return pcm.cast("B") if pcm.c_contiguous else pcm.tobytes()
    raise TypeError(
        "expected raw s16 PCM as bytes, bytearray or memoryview, got "
        f"{type(pcm).__name__}; convert arrays with .tobytes()"
    )


class InputConverter:
    """Streaming s16 converter from the wire format to mono at ``target_rate``.

    Built on a libavfilter graph ``abuffer → aresample → abuffersink`` because
    libswresample keeps its filter history between calls: the concatenation of the
    outputs of any chunking of the input equals the output of converting it all at
    once, sample for sample, so there are no clicks at call boundaries. It also
    compensates its own filter delay, so the first output sample lines up with
    the first input sample.

    Stereo is downmixed first (:data:`DOWNMIX`, the average of the two channels), so
    the resampler itself works on one channel of s16.

    Input that ends inside a sample or a stereo frame is carried over to the next
    call, so odd-sized chunks cannot shift the sample grid.

    When the wire already is mono at ``target_rate`` no graph is built and
    :meth:`convert` returns the caller's ``bytes`` object itself.
    """

    __slots__ = (
        "_carry",
        "_frame_bytes",
        "_graph",
        "_layout",
        "_pts",
        "_pull",
        "_push",
        "_target_rate",
        "_wire_channels",
        "_wire_rate",
    )

    def __init__(self, wire_rate: int, wire_channels: int, target_rate: int) -> None:
        for name, rate in (("wire_rate", wire_rate), ("target_rate", target_rate)):
            if not MIN_WIRE_RATE <= rate <= MAX_WIRE_RATE:
                raise ValueError(
                    f"{name} must be within {MIN_WIRE_RATE}..{MAX_WIRE_RATE} Hz, got {rate}"
                )
        if wire_channels not in (1, 2):
            raise ValueError(f"wire_channels must be 1 or 2, got {wire_channels}")
        self._wire_rate = wire_rate
        self._wire_channels = wire_channels
        self._target_rate = target_rate
        self._frame_bytes = _S16_BYTES * wire_channels
        self._layout = "stereo" if wire_channels == 2 else "mono"
        self._carry = b""
        self._pts = 0
        # The graph owns the filter contexts (they hold only a weak reference to
        # it), so it must stay referenced for as long as _push/_pull are used;
        # PyAV segfaults otherwise.
        self._graph: Graph | None = None
        self._push: Callable[[AudioFrame | None], None] = _unreachable_push
        self._pull: Callable[[], AudioFrame] = _unreachable_pull
        if not self.passthrough:
            self._build()

    @property
    def wire_rate(self) -> int:
        return self._wire_rate

    @property
    def wire_channels(self) -> int:
        return self._wire_channels

    @property
    def target_rate(self) -> int:
        return self._target_rate

    @property
    def passthrough(self) -> bool:
        """True when the wire format already is what Voice Live was told to expect."""
        return self._wire_rate == self._target_rate and self._wire_channels == 1

    def matches(self, wire_rate: int, wire_channels: int) -> bool:
        """Whether this converter is still right for the current wire format.

        Lets the caller rebuild only when the framework's detected format changes.
        """
        return wire_rate == self._wire_rate and wire_channels == self._wire_channels

    def convert(self, pcm: BytesLike) -> bytes:
        """Convert one chunk of interleaved s16 LE to mono s16 LE at ``target_rate``.

        Any length is accepted, including empty, odd or a fraction of a stereo
        frame; the incomplete tail is held for the next call. Raises
        :class:`TypeError` only for input that is not bytes, bytearray or memoryview.
        """
        if type(pcm) is not bytes:
            pcm = _byte_view(pcm)
        carry = self._carry
        if carry:
            pcm = carry + pcm
        size = len(pcm)
        usable = size - size % self._frame_bytes
        if usable != size:
            self._carry = bytes(pcm[usable:])
            pcm = pcm[:usable]
        elif carry:
            self._carry = b""
        if self._graph is None:
            return pcm if type(pcm) is bytes else bytes(pcm)
        if not usable:
            return b""
        return self._resample(pcm, usable // self._frame_bytes)

    def _resample(self, pcm: BytesLike, samples: int) -> bytes:
        frame = AudioFrame(format="s16", layout=self._layout, samples=samples)
        # PyAV's stub says bytes; the implementation takes any buffer.
        frame.planes[0].update(cast(bytes, pcm))
        # abuffer rejects a frame without its rate (EINVAL), even though it knows it.
        frame.sample_rate = self._wire_rate
        frame.pts = self._pts
        self._pts += samples
        self._push(frame)
        # aresample turns each input frame into at most one output frame and drops
        # empty ones, so one pull drains the sink; a second pull would only raise
        # EAGAIN, and that exception costs ~2 µs, about 15 % of the whole call.
        # tests/plugin/test_audio.py checks this holds for the bundled FFmpeg.
        try:
            out = self._pull()
        except av.error.BlockingIOError:
            return b""
        # Output plane buffers are padded beyond the samples they carry.
        return bytes(out.planes[0])[: out.samples * _S16_BYTES]

    def flush(self) -> bytes:
        """Return the audio still inside the filter and start a fresh stream.

        A filter graph cannot resume after end-of-stream, so the next
        :meth:`convert` starts with new filter state. An incomplete sample held
        from the last call is discarded, as it cannot be converted.
        """
        self._carry = b""
        if self._graph is None or not self._pts:
            return b""
        self._push(None)
        chunks: list[bytes] = []
        while True:
            try:
                out = self._pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                break
            chunks.append(bytes(out.planes[0])[: out.samples * _S16_BYTES])
        self._build()
        return b"".join(chunks)

    def reset(self) -> None:
        """Forget all buffered audio, e.g. on reconnect, so stale audio is never sent."""
        self._carry = b""
        if self._graph is not None and self._pts:
            self._build()

    def _build(self) -> None:
        graph = Graph()
        source = graph.add_abuffer(
            sample_rate=self._wire_rate,
            format="s16",
            layout=self._layout,
            time_base=Fraction(1, self._wire_rate),
        )
        nodes = [source]
        if self._wire_channels == 2:
            # Downmixed before resampling, by a filter of its own: aresample asked to
            # downmix as well runs the whole filter in float (34 µs per 40 ms block of
            # 48 kHz stereo), while s16 mono in and out keeps it on swresample's int16
            # path (20 µs with the downmix, the same output within 1 LSB).
            nodes.append(graph.add("pan", DOWNMIX))
        nodes.append(
            graph.add(
                "aresample",
                f"{self._target_rate}:out_chlayout=mono:out_sample_fmt=s16:{RESAMPLER_OPTIONS}",
            )
        )
        nodes.append(graph.add("abuffersink"))
        graph.link_nodes(*nodes)
        graph.configure()
        self._graph = graph
        self._push = source.push
        self._pull = cast("Callable[[], AudioFrame]", nodes[-1].pull)
        self._pts = 0


class BlockConverter:
    """An :class:`InputConverter` fed whole blocks of ``block_ms`` of wire audio.

    Each conversion has a fixed cost (an ``AudioFrame``, two copies, the graph's
    push and pull) of about a third of what converting 20 ms of 48 kHz stereo
    costs, so converting 40 ms at a time halves it. The audio is sent in 40 ms
    appends anyway (:data:`DEFAULT_APPEND_BATCH_MS`); gathering it before the
    conversion instead of after makes each block one append. The output is
    bit-identical to converting the same audio in any other chunks, because the
    converter's output never depends on the chunking.
    """

    __slots__ = ("_gather", "converter")

    def __init__(
        self, converter: InputConverter, block_ms: float = DEFAULT_APPEND_BATCH_MS
    ) -> None:
        self.converter = converter
        frame = pcm16_bytes(converter.wire_rate, block_ms, converter.wire_channels)
        self._gather = AppendBatcher(max(frame, _S16_BYTES * converter.wire_channels))

    @property
    def held_bytes(self) -> int:
        """Wire audio waiting for the block to fill."""
        return len(self._gather)

    def feed(self, pcm: BytesLike) -> bytes | None:
        """The converted block once ``block_ms`` of wire audio is in, else None.

        Raises :class:`TypeError` for input that is not bytes, bytearray or memoryview.
        """
        # what is held must not change under us: a caller may reuse its buffer
        self._gather.add(pcm if type(pcm) is bytes else bytes(_byte_view(pcm)))
        block = self._gather.take()
        return None if block is None else self.converter.convert(block)

    def drain(self) -> bytes:
        """Whatever is held, converted now (the block is cut short)."""
        return self.converter.convert(self._gather.flush())

    def reset(self) -> None:
        """Forget the held and buffered audio (see :meth:`InputConverter.reset`)."""
        self._gather.flush()
        self.converter.reset()


def _unreachable_push(frame: AudioFrame | None) -> None:
    raise AssertionError("pass-through InputConverter has no filter graph")


def _unreachable_pull() -> AudioFrame:
    raise AssertionError("pass-through InputConverter has no filter graph")
