"""Tests for the plugin's PCM plumbing (``videosdk_plugins_azure.audio``)."""

from __future__ import annotations

import array
import random

import av.error
import numpy as np
import pytest

from videosdk_plugins_azure.audio import (
    AppendBatcher,
    InputConverter,
    OutputFramer,
    PendingAudio,
    choose_input_rate,
    pcm16_bytes,
)

FULL_SCALE = 32767


def tone(rate: int, seconds: float, freq: float, channels: int = 1, level: float = 0.5) -> bytes:
    """A sine as interleaved s16 LE, identical in every channel."""
    t = np.arange(round(rate * seconds)) / rate
    mono = np.round(level * FULL_SCALE * np.sin(2 * np.pi * freq * t)).astype("<i2")
    return np.repeat(mono, channels).tobytes()


def noisy_signal(rate: int, seconds: float, channels: int, seed: int) -> bytes:
    """Broadband noise plus a tone, different per channel, so every path is exercised."""
    rng = np.random.default_rng(seed)
    n = round(rate * seconds)
    t = np.arange(n) / rate
    x = rng.normal(0, 4000, (n, channels)) + 8000 * np.sin(2 * np.pi * 440 * t)[:, None]
    pcm: bytes = np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()
    return pcm


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64)


def amplitude(y: np.ndarray, freq: float, rate: int) -> float:
    """Least-squares amplitude of a sine at ``freq``: exact for a pure tone, any length."""
    t = np.arange(len(y)) / rate
    basis = np.column_stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)])
    coef = np.linalg.lstsq(basis, y, rcond=None)[0]
    return float(np.hypot(*coef))


def settled(pcm: bytes, rate: int) -> np.ndarray:
    """The output with the filter's start-up and end transients cut off."""
    y = samples(pcm)
    margin = rate // 20
    return y[margin:-margin]


def db(ratio: float) -> float:
    return 20 * float(np.log10(max(ratio, 1e-12)))


def random_chunks(data: bytes, rng: random.Random, max_size: int = 5000) -> list[bytes]:
    chunks = []
    i = 0
    while i < len(data):
        size = rng.randint(1, max_size)
        chunks.append(data[i : i + size])
        i += size
    return chunks


# --- choose_input_rate / pcm16_bytes -------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "declared"),
    [
        (8000, 8000),
        (16000, 16000),
        (24000, 24000),
        (48000, 24000),
        (44100, 24000),
        (32000, 24000),
        (12000, 24000),
        (96000, 24000),
    ],
)
def test_choose_input_rate(wire: int, declared: int) -> None:
    assert choose_input_rate(wire) == declared


def test_pcm16_bytes_is_whole_frames() -> None:
    assert pcm16_bytes(24000, 40) == 1920
    assert pcm16_bytes(48000, 20, channels=2) == 3840
    assert pcm16_bytes(8000, 2000) == 32000
    assert pcm16_bytes(44100, 10, channels=2) % 4 == 0
    with pytest.raises(ValueError, match="sample_rate"):
        pcm16_bytes(0, 20)


# --- InputConverter: streaming ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "channels"), [(48000, 2), (44100, 2), (48000, 1), (8000, 1), (16000, 2)]
)
def test_streamed_equals_one_shot(rate: int, channels: int) -> None:
    pcm = noisy_signal(rate, 1.0, channels, seed=rate + channels)
    whole = InputConverter(rate, channels, 24000)
    expected = whole.convert(pcm) + whole.flush()

    rng = random.Random(rate * 10 + channels)
    chunks = random_chunks(pcm, rng)
    assert any(len(c) % 2 for c in chunks), "the seed must produce odd-byte chunks"
    streamed = InputConverter(rate, channels, 24000)
    out = b"".join(streamed.convert(c) for c in chunks) + streamed.flush()

    assert out == expected
    assert len(out) // 2 == pytest.approx(len(pcm) // (2 * channels) * 24000 / rate, abs=2)


def test_one_pull_per_push_drains_the_graph() -> None:
    """The converter pulls once per push (see ``_resample``); nothing may be left over.

    If a future FFmpeg emitted more than one frame per input frame, audio would
    pile up in the sink and latency would grow call by call; this catches that.
    """
    conv = InputConverter(48000, 2, 24000)
    rng = random.Random(7)
    for chunk in random_chunks(noisy_signal(48000, 0.5, 2, seed=1), rng, max_size=20000):
        conv.convert(chunk)
        with pytest.raises(av.error.BlockingIOError):
            conv._pull()


def test_steady_output_per_20ms_frame() -> None:
    conv = InputConverter(48000, 2, 24000)
    pcm = tone(48000, 0.2, 997, channels=2)
    sizes = [len(conv.convert(pcm[i : i + 3840])) for i in range(0, len(pcm), 3840)]
    assert sizes[0] < 960
    assert set(sizes[1:]) == {960}
    assert sum(sizes) + len(conv.flush()) == len(pcm) // 4


def test_split_stereo_frames_are_carried() -> None:
    pcm = noisy_signal(48000, 0.1, 2, seed=3)
    ref = InputConverter(48000, 2, 24000).convert(pcm)
    conv = InputConverter(48000, 2, 24000)
    # Cut inside a sample, then inside a stereo frame, then at 1-byte steps.
    parts = [pcm[:1], pcm[1:3843], pcm[3843:3846], *(pcm[i : i + 1] for i in range(3846, 3900))]
    out = b"".join(conv.convert(p) for p in parts) + conv.convert(pcm[3900:])
    assert out == ref


def test_delay_is_compensated() -> None:
    """The first output sample lines up with the first input sample (lag 0)."""
    out = samples(InputConverter(48000, 2, 24000).convert(tone(48000, 0.5, 997, channels=2)))
    ideal = 0.5 * FULL_SCALE * np.sin(2 * np.pi * 997 * np.arange(len(out)) / 24000)
    assert np.max(np.abs(out[500:10000] - ideal[500:10000])) < 2


# --- InputConverter: frequency response ------------------------------------------------


def test_passband_is_flat_48k_stereo_to_24k() -> None:
    conv = InputConverter(48000, 2, 24000)
    level = 0.5 * FULL_SCALE
    for freq in (100, 300, 1000, 3000, 6000, 8000, 9000, 10000):
        out = settled(conv.convert(tone(48000, 0.25, freq, channels=2)) + conv.flush(), 24000)
        gain = db(amplitude(out, freq, 24000) / level)
        assert abs(gain) < 0.5, f"{freq} Hz: {gain:.3f} dB"


@pytest.mark.parametrize("freq", [12500, 13000, 16000, 20000])
def test_stopband_is_rejected_48k_stereo_to_24k(freq: int) -> None:
    conv = InputConverter(48000, 2, 24000)
    passband = amplitude(
        settled(conv.convert(tone(48000, 0.25, 1000, 2, level=0.9)) + conv.flush(), 24000),
        1000,
        24000,
    )
    out = settled(conv.convert(tone(48000, 0.25, freq, 2, level=0.9)) + conv.flush(), 24000)
    peak_equivalent = np.sqrt(2 * np.mean(out**2))
    assert db(peak_equivalent / passband) <= -60


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 1), (44100, 2), (32000, 1)])
def test_other_rates_are_flat_and_clean(rate: int, channels: int) -> None:
    """Up to 80 % of the lower Nyquist: no loss, and no images or aliases above -60 dB."""
    level = 0.9 * FULL_SCALE
    nyquist = min(rate, 24000) / 2
    for freq in (0.05 * nyquist, 0.8 * nyquist):
        conv = InputConverter(rate, channels, 24000)
        out = settled(conv.convert(tone(rate, 0.25, freq, channels, 0.9)) + conv.flush(), 24000)
        t = np.arange(len(out)) / 24000
        basis = np.column_stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)])
        fit = basis @ np.linalg.lstsq(basis, out, rcond=None)[0]
        assert abs(db(amplitude(out, freq, 24000) / level)) < 0.1, f"{freq} Hz"
        assert db(float(np.sqrt(2 * np.mean((out - fit) ** 2))) / level) < -60, f"{freq} Hz"


# --- InputConverter: pass-through and downmix ------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_mono_at_an_accepted_rate_passes_through(rate: int) -> None:
    conv = InputConverter(rate, 1, choose_input_rate(rate))
    assert conv.passthrough
    pcm = noisy_signal(rate, 0.1, 1, seed=rate)
    assert conv.convert(pcm) is pcm
    assert conv.convert(bytearray(pcm)) == pcm
    assert conv.convert(memoryview(pcm)) == pcm

    rng = random.Random(rate)
    out = b"".join(conv.convert(c) for c in random_chunks(pcm, rng, max_size=101))
    assert out == pcm
    assert conv.convert(b"\x01") == b""
    assert conv.flush() == b""


def test_stereo_downmix_keeps_level_for_identical_channels() -> None:
    for level in (0.5, 1.0):
        out = settled(
            InputConverter(48000, 2, 24000).convert(tone(48000, 0.3, 1000, 2, level)), 24000
        )
        assert amplitude(out, 1000, 24000) == pytest.approx(level * FULL_SCALE, rel=1e-3)
        # A wrapped (rather than saturated) overflow would jump by ~65536.
        assert np.max(np.abs(np.diff(out))) < 0.3 * 2 * FULL_SCALE


def test_stereo_downmix_is_an_average() -> None:
    left = np.frombuffer(tone(48000, 0.3, 1000, 1, 0.8), "<i2")
    left_only = np.column_stack([left, np.zeros_like(left)]).tobytes()
    out = settled(InputConverter(48000, 2, 24000).convert(left_only), 24000)
    assert amplitude(out, 1000, 24000) == pytest.approx(0.4 * FULL_SCALE, rel=1e-3)


def test_stereo_to_mono_without_resampling_is_exact() -> None:
    mono = np.frombuffer(noisy_signal(24000, 0.1, 1, seed=9), "<i2")
    out = InputConverter(24000, 2, 24000).convert(np.repeat(mono, 2).tobytes())
    assert np.max(np.abs(samples(out) - mono)) <= 1


# --- InputConverter: state, input validation ------------------------------------------


def test_reset_and_flush_start_a_fresh_stream() -> None:
    a = noisy_signal(48000, 0.1, 2, seed=11)
    b = noisy_signal(48000, 0.1, 2, seed=12)
    fresh = InputConverter(48000, 2, 24000).convert(b)

    conv = InputConverter(48000, 2, 24000)
    conv.convert(a + b"\x01")
    conv.reset()
    assert conv.convert(b) == fresh

    conv = InputConverter(48000, 2, 24000)
    conv.convert(a + b"\x01\x02\x03")
    assert len(conv.flush()) > 0
    assert conv.convert(b) == fresh
    assert InputConverter(48000, 2, 24000).flush() == b""


def test_memoryview_of_wider_items_counts_bytes() -> None:
    pcm = noisy_signal(48000, 0.05, 2, seed=5)
    items = array.array("h", pcm)
    ref = InputConverter(48000, 2, 24000).convert(pcm)
    assert InputConverter(48000, 2, 24000).convert(memoryview(items)) == ref
    assert InputConverter(48000, 2, 24000).convert(bytearray(pcm)) == ref
    strided = memoryview(pcm + pcm)[::2]
    assert InputConverter(48000, 1, 24000).convert(strided) == InputConverter(
        48000, 1, 24000
    ).convert(bytes(strided))


@pytest.mark.parametrize(
    "bad", ["abc", 3, None, [0, 1], np.zeros(4, dtype=np.int16), array.array("h", [0, 1])]
)
@pytest.mark.parametrize("wire", [(48000, 2), (24000, 1)])
def test_non_bytes_input_is_a_type_error(bad: object, wire: tuple[int, int]) -> None:
    conv = InputConverter(*wire, 24000)
    with pytest.raises(TypeError, match="bytes, bytearray or memoryview"):
        conv.convert(bad)  # type: ignore[arg-type]


def test_empty_input_is_fine() -> None:
    conv = InputConverter(48000, 2, 24000)
    assert conv.convert(b"") == b""
    assert conv.convert(b"\x00") == b""
    assert conv.convert(b"") == b""


@pytest.mark.parametrize(
    ("rate", "channels", "target"), [(4000, 1, 24000), (48000, 3, 24000), (48000, 2, 0)]
)
def test_unsupported_formats_are_rejected_up_front(rate: int, channels: int, target: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        InputConverter(rate, channels, target)


def test_matches() -> None:
    conv = InputConverter(48000, 2, 24000)
    assert conv.matches(48000, 2)
    assert not conv.matches(48000, 1)
    assert not conv.matches(16000, 2)


# --- AppendBatcher --------------------------------------------------------------------


def test_append_batcher_releases_at_target() -> None:
    batcher = AppendBatcher(1920)
    first, frame = b"\x01" * 890, b"\x02" * 960
    batcher.add(first)
    assert batcher.take() is None
    batcher.add(frame)
    assert batcher.take() is None
    batcher.add(frame)
    assert batcher.take() == first + frame + frame
    assert len(batcher) == 0
    batcher.add(b"")
    batcher.add(frame)
    assert batcher.take() is None
    batcher.add(frame)
    assert batcher.take() == frame + frame
    big = b"\x03" * 4000
    batcher.add(big)
    assert batcher.take() is big


def test_append_batcher_flush() -> None:
    batcher = AppendBatcher(1920)
    assert batcher.flush() == b""
    batcher.add(b"\x01\x02")
    batcher.add(b"\x03\x04")
    assert len(batcher) == 4
    assert batcher.flush() == b"\x01\x02\x03\x04"
    assert batcher.flush() == b""
    assert batcher.take() is None


def test_append_batcher_for_duration() -> None:
    assert AppendBatcher.for_duration(24000).target_bytes == 1920
    assert AppendBatcher.for_duration(8000, 20).target_bytes == 320
    with pytest.raises(ValueError, match="positive"):
        AppendBatcher(0)


# --- PendingAudio ---------------------------------------------------------------------


def test_pending_audio_keeps_the_newest_bytes() -> None:
    pending = PendingAudio(1000)
    data = bytes(range(256)) * 8
    pending.append(data[:600])
    pending.append(data[600:1200])
    assert len(pending) == 1000
    assert pending.dropped_bytes == 200
    assert pending.drain() == data[200:1200]
    assert len(pending) == 0
    assert pending.drain() == b""


def test_pending_audio_bounds_alignment_and_counts() -> None:
    rng = random.Random(3)
    pending = PendingAudio(3001)
    assert pending.max_bytes == 3000
    stream = bytearray()
    for _ in range(200):
        chunk = rng.randbytes(2 * rng.randint(0, 900))
        stream += chunk
        pending.append(chunk)
        assert len(pending) <= 3000
        assert pending.dropped_bytes % 2 == 0
        assert pending.dropped_bytes + len(pending) == len(stream)
    assert pending.drain() == bytes(stream[pending.dropped_bytes :])


def test_pending_audio_oversized_append_and_zero_bound() -> None:
    pending = PendingAudio(10)
    pending.append(bytes(range(30)))
    assert pending.drain() == bytes(range(20, 30))
    assert pending.dropped_bytes == 20

    nothing = PendingAudio(0)
    nothing.append(b"\x01\x02")
    assert len(nothing) == 0
    assert nothing.dropped_bytes == 2
    with pytest.raises(ValueError, match=">= 0"):
        PendingAudio(-1)


# --- OutputFramer ---------------------------------------------------------------------


def test_output_framer_carries_an_odd_byte() -> None:
    framer = OutputFramer()
    even = b"\x01\x02\x03\x04"
    assert framer.feed(even) is even
    assert framer.feed(b"\x01\x02\x03") == b"\x01\x02"
    assert framer.pending == 1
    assert framer.feed(b"\x04") == b"\x03\x04"
    assert framer.pending == 0
    assert framer.feed(b"\x05") == b""
    assert framer.feed(b"") == b""
    assert framer.feed(b"\x06\x07\x08") == b"\x05\x06\x07\x08"


def test_output_framer_reset_drops_the_carried_byte() -> None:
    framer = OutputFramer()
    assert framer.feed(b"\xaa\xbb\xcc") == b"\xaa\xbb"
    framer.reset()
    assert framer.pending == 0
    assert framer.feed(b"\x01\x02") == b"\x01\x02"


def test_output_framer_random_splits_keep_samples_aligned() -> None:
    rng = random.Random(5)
    audio = rng.randbytes(10_000)
    framer = OutputFramer()
    outs = [framer.feed(c) for c in random_chunks(audio, rng, max_size=333)]
    assert all(len(o) % 2 == 0 for o in outs)
    assert b"".join(outs) == audio
    assert framer.feed(bytearray(b"\x01\x02")) == b"\x01\x02"
