"""DSP building blocks of the emulator: codecs, resampling, server VAD, reply voice."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import numpy.typing as npt
import pytest

from videosdk_plugins_azure.emulator import _codec, _speech
from videosdk_plugins_azure.emulator._vad import EnergyVad, VadEvent

Int16 = npt.NDArray[np.int16]

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def _sine(rate: int, freq: float, seconds: float, amplitude: float = 0.5) -> Int16:
    t = np.arange(round(rate * seconds)) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _snr_db(reference: Int16, decoded: Int16) -> float:
    ref = reference.astype(np.float64)
    err = ref - decoded.astype(np.float64)
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum(err**2), 1e-9)))


def _rms_dbfs(x: Int16) -> float:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    return float(20 * np.log10(max(rms, 1e-9) / 32768))


# ---------------------------------------------------------------- G.711 / pcm16


@pytest.mark.parametrize("encoding", ["g711_ulaw", "g711_alaw"])
def test_g711_all_codes_round_trip(encoding: str) -> None:
    codes = bytes(range(256))
    decoded = _codec.decode(codes, encoding)
    assert decoded.dtype == np.int16
    assert len(np.unique(decoded)) == (255 if encoding == "g711_ulaw" else 256)
    again = _codec.encode(decoded, encoding)
    mismatched = {i for i in range(256) if again[i] != i}
    if encoding == "g711_ulaw":
        # 0x7F (-0) and 0xFF (+0) both decode to 0, which encodes as 0xFF.
        assert mismatched == {0x7F}
        assert again[0x7F] == 0xFF
    else:
        assert mismatched == set()


def test_g711_matches_reference_coder() -> None:
    # Outputs of the ITU/Sun reference coder (as used by CPython's audioop).
    x = np.array(
        [0, 1, -1, 2, -2, 7, -8, 100, -100, 1000, -1000, 4095, -4096, 12345, -12345, 32767, -32768],
        dtype=np.int16,
    )
    assert list(_codec.encode(x, "g711_ulaw")) == [
        255, 255, 126, 255, 126, 254, 126, 242, 114, 206, 78, 175, 47, 151, 23, 128, 0,
    ]  # fmt: skip
    assert list(_codec.encode(x, "g711_alaw")) == [
        213, 213, 85, 213, 85, 213, 85, 211, 83, 250, 122, 154, 26, 189, 61, 170, 42,
    ]  # fmt: skip


@pytest.mark.parametrize("encoding", ["g711_ulaw", "g711_alaw"])
def test_g711_sine_snr_and_monotonic(encoding: str) -> None:
    x = _sine(8000, 440.0, 0.5, amplitude=0.3)
    y = _codec.decode(_codec.encode(x, encoding), encoding)
    assert len(y) == len(x)
    assert _snr_db(x, y) > 30
    ramp = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    assert np.all(np.diff(_codec.decode(_codec.encode(ramp, encoding), encoding)) >= 0)


def test_pcm16_odd_length_ignores_last_byte() -> None:
    data = np.array([1, -2, 300], dtype="<i2").tobytes() + b"\x7f"
    assert _codec.decode(data, "pcm16").tolist() == [1, -2, 300]
    assert _codec.decode(b"\x01", "pcm16").tolist() == []
    assert _codec.encode(np.array([1, -2, 300], dtype=np.int16), "pcm16") == data[:-1]


@pytest.mark.parametrize("name", sorted(_codec.OUTPUT_FORMATS))
def test_every_output_format_round_trips(name: str) -> None:
    encoding, rate = _codec.OUTPUT_FORMATS[name]
    assert encoding in {"pcm16", "g711_ulaw", "g711_alaw"}
    assert rate == (24000 if name == "pcm16" else 16000 if "16000" in name else 8000)
    x = _sine(rate, 300.0, 0.1, amplitude=0.4)
    wire = _codec.encode(x, name)
    assert len(wire) == len(x) * (2 if encoding == "pcm16" else 1)
    assert _codec.encode(x, encoding) == wire
    y = _codec.decode(wire, name)
    if encoding == "pcm16":
        assert np.array_equal(x, y)
    else:
        assert _snr_db(x, y) > 30


def test_both_sdk_spellings_and_input_rates() -> None:
    assert _codec.OUTPUT_FORMATS["pcm16-8000hz"] == _codec.OUTPUT_FORMATS["pcm16_8000hz"]
    assert _codec.OUTPUT_FORMATS["pcm16-16000hz"] == _codec.OUTPUT_FORMATS["pcm16_16000hz"]
    assert {"pcm16", "g711_ulaw", "g711_alaw"} == _codec.INPUT_FORMATS
    assert _codec.input_rate("pcm16", None) == 24000
    assert _codec.input_rate("pcm16", 16000) == 16000
    assert _codec.input_rate("g711_alaw", 16000) == 8000
    assert _codec.input_rate("g711_ulaw", None) == 8000
    with pytest.raises(ValueError, match="unsupported"):
        _codec.input_rate("mp3", None)
    with pytest.raises(ValueError, match="unsupported"):
        _codec.decode(b"\x00\x00", "opus")
    assert _codec.duration_ms(4800, 24000) == 200.0


# ---------------------------------------------------------------- resampling


@pytest.mark.parametrize(("src", "dst"), [(22050, 24000), (24000, 8000), (24000, 16000)])
def test_resample_lengths(src: int, dst: int) -> None:
    rng = np.random.default_rng(7)
    for n in (0, 1, 3, 100, 441, 1001, src):
        x = rng.integers(-2000, 2000, n).astype(np.int16)
        y = _codec.resample(x, src, dst)
        assert y.dtype == np.int16
        assert len(y) == round(n * dst / src)


@pytest.mark.parametrize(("src", "dst"), [(22050, 24000), (24000, 8000), (24000, 16000)])
def test_resample_keeps_frequency_and_level(src: int, dst: int) -> None:
    x = _sine(src, 1000.0, 1.0)
    y = _codec.resample(x, src, dst)[200:-200].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak_hz = np.argmax(spectrum) * dst / len(y)
    assert abs(peak_hz - 1000.0) < 2.0
    level_change = 20 * np.log10(np.sqrt(np.mean(y**2)) / (0.5 * 32767 / np.sqrt(2)))
    assert abs(level_change) < 1.0


def test_resample_rejects_alias_and_identity() -> None:
    tone = _sine(24000, 6000.0, 1.0)
    down = _codec.resample(tone, 24000, 8000)
    assert _rms_dbfs(down[100:-100]) - _rms_dbfs(tone) < -40
    x = _sine(16000, 440.0, 0.1)
    same = _codec.resample(x, 16000, 16000)
    assert np.array_equal(same, x)
    assert same is not x
    assert np.array_equal(_codec.resample(x, 16000, 24000), _codec.resample(x, 16000, 24000))


# ---------------------------------------------------------------- VAD

BURST_TEXT = "hello there friend"  # 18 characters, so 1170 ms of speech-like audio
SILENCE_MS = 500
PADDING_MS = 300


def _noise(rate: int, ms: int, seed: int) -> Int16:
    rng = np.random.default_rng(seed)
    level = 32768 * 10 ** (-65 / 20)
    return np.round(rng.standard_normal(rate * ms // 1000) * level).astype(np.int16)


def _burst(rate: int) -> Int16:
    return _speech.synthesize_fallback(BURST_TEXT, rate)


def _scene(rate: int) -> tuple[Int16, list[tuple[int, int]]]:
    """Noise, burst, noise, burst, noise; returns the signal and the true burst spans (ms)."""
    burst = _burst(rate)
    burst_ms = len(burst) * 1000 // rate
    parts = [_noise(rate, 1000, 1), burst, _noise(rate, 1000, 2), burst, _noise(rate, 1000, 3)]
    spans = [(1000, 1000 + burst_ms), (2000 + burst_ms, 2000 + 2 * burst_ms)]
    return np.concatenate(parts), spans


def _feed(vad: EnergyVad, signal: Int16, sizes: list[int]) -> list[VadEvent]:
    events: list[VadEvent] = []
    pos = 0
    for size in sizes:
        events += vad.feed(signal[pos : pos + size])
        pos += size
    assert pos >= len(signal)
    return events


def _fixed_chunks(n: int, size: int) -> list[int]:
    return [size] * (-(-n // size))


def _random_chunks(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, 1500)))
    return sizes


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_vad_two_turns_independent_of_chunking(rate: int) -> None:
    signal, spans = _scene(rate)
    by_20ms = _feed(EnergyVad(rate), signal, _fixed_chunks(len(signal), rate // 50))
    by_random = _feed(EnergyVad(rate), signal, _random_chunks(len(signal), seed=rate))
    assert by_20ms == by_random
    assert [e.kind for e in by_20ms] == ["start", "stop", "start", "stop"]

    floor_ms = 0
    for start, stop, (true_on, true_off) in zip(by_20ms[0::2], by_20ms[1::2], spans, strict=True):
        assert abs(start.onset_ms - true_on) <= 20
        assert start.audio_ms == max(floor_ms, start.onset_ms - PADDING_MS)
        assert stop.onset_ms == start.onset_ms
        assert true_off + SILENCE_MS <= stop.audio_ms <= true_off + SILENCE_MS + 20
        floor_ms = stop.audio_ms


def test_vad_padding_is_clamped_to_the_previous_turn() -> None:
    rate = 16000
    burst = _burst(rate)
    gap = _noise(rate, 600, 4)  # longer than the silence window, shorter than it plus padding
    signal = np.concatenate([_noise(rate, 100, 5), burst, gap, burst, _noise(rate, 700, 6)])
    events = _feed(EnergyVad(rate), signal, _fixed_chunks(len(signal), 320))
    assert [e.kind for e in events] == ["start", "stop", "start", "stop"]
    assert events[0].audio_ms == 0  # clamped to the start of the stream
    assert events[2].audio_ms == events[1].audio_ms  # clamped to the end of turn one
    assert events[2].onset_ms - PADDING_MS < events[1].audio_ms


@pytest.mark.parametrize("rate", [8000, 24000])
def test_vad_short_pause_keeps_one_turn(rate: int) -> None:
    burst = _burst(rate)
    signal = np.concatenate(
        [_noise(rate, 500, 1), burst, _noise(rate, 300, 2), burst, _noise(rate, 800, 3)]
    )
    vad = EnergyVad(rate)
    events = _feed(vad, signal, _fixed_chunks(len(signal), rate // 50))
    assert [e.kind for e in events] == ["start", "stop"]
    end_ms = (len(signal) * 1000 // rate) - 800
    assert end_ms + SILENCE_MS <= events[1].audio_ms <= end_ms + SILENCE_MS + 20
    assert not vad.speaking
    assert vad.clock_ms == len(signal) * 1000 // rate


def test_vad_high_threshold_hears_nothing() -> None:
    rate = 24000
    signal, _ = _scene(rate)
    assert _feed(EnergyVad(rate, threshold=0.99), signal, [len(signal)]) == []
    # threshold 0 puts the voicing level at -70 dBFS, below the noise floor
    events = _feed(EnergyVad(rate, threshold=0.0), signal, [len(signal)])
    assert [e.kind for e in events] == ["start"]
    assert events[0].onset_ms == 0


@pytest.mark.parametrize("rate", [8000, 16000])
def test_vad_reconfigure_changes_stop_time(rate: int) -> None:
    burst = _burst(rate)
    lead = _noise(rate, 1000, 1)
    tail = _noise(rate, 1000, 2)
    burst_end_ms = 1000 + len(burst) * 1000 // rate

    vad = EnergyVad(rate)
    first = vad.feed(np.concatenate([lead, burst[: len(burst) // 2]]))
    assert [e.kind for e in first] == ["start"]
    assert vad.speaking
    vad.reconfigure(silence_duration_ms=200)
    rest = vad.feed(np.concatenate([burst[len(burst) // 2 :], tail]))
    assert [e.kind for e in rest] == ["stop"]
    assert burst_end_ms + 200 <= rest[0].audio_ms <= burst_end_ms + 220

    vad = EnergyVad(rate, silence_duration_ms=200)
    vad.feed(np.concatenate([lead, burst]))
    vad.reconfigure(silence_duration_ms=800)
    late = vad.feed(tail)
    assert [e.kind for e in late] == ["stop"]
    assert burst_end_ms + 800 <= late[0].audio_ms <= burst_end_ms + 820


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_vad_reset_drops_turn_and_moves_floor(rate: int) -> None:
    burst = _burst(rate)
    vad = EnergyVad(rate)
    head = np.concatenate([_noise(rate, 1000, 1), burst[: len(burst) // 2]])
    events = vad.feed(head)
    assert [e.kind for e in events] == ["start"]
    assert vad.speaking

    vad.reset()
    reset_ms = vad.clock_ms
    assert reset_ms == len(head) * 1000 // rate
    assert not vad.speaking

    after = _feed(
        vad,
        np.concatenate([burst[len(burst) // 2 :], _noise(rate, 1000, 2)]),
        _fixed_chunks(len(burst) - len(burst) // 2 + rate, 333),
    )
    assert [e.kind for e in after] == ["start", "stop"]
    assert after[0].audio_ms >= reset_ms
    assert after[0].onset_ms >= reset_ms
    assert vad.clock_ms == (len(head) + len(burst) - len(burst) // 2 + rate) * 1000 // rate


def test_vad_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        EnergyVad(16000, threshold=1.5)
    with pytest.raises(ValueError, match="silence_duration_ms"):
        EnergyVad(16000).reconfigure(silence_duration_ms=-1)


# ---------------------------------------------------------------- reply speech

SENTENCE = "Hello there, how are you?"


@needs_espeak
@pytest.mark.asyncio
async def test_espeak_sentence() -> None:
    audio = await _speech.synthesize(SENTENCE, 24000, engine="espeak")
    assert audio.dtype == np.int16
    assert 0.8 <= len(audio) / 24000 <= 4.0
    assert _rms_dbfs(audio) > -35
    again = await _speech.synthesize(SENTENCE, 24000, engine="espeak")
    assert np.array_equal(audio, again)
    assert again is not audio


@needs_espeak
@pytest.mark.asyncio
async def test_espeak_text_starting_with_dash() -> None:
    audio = await _speech.synthesize("-v --help me", 16000, engine="espeak")
    assert len(audio) > 16000 * 0.3


@pytest.mark.asyncio
async def test_espeak_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    assert not _speech.speech_engine_available()
    with pytest.raises(RuntimeError, match="espeak-ng"):
        await _speech.synthesize("never cached text", 24000, engine="espeak")
    fallback = await _speech.synthesize("never cached text", 24000, engine="auto")
    assert np.array_equal(fallback, _speech.synthesize_fallback("never cached text", 24000))


@pytest.mark.asyncio
@pytest.mark.parametrize("engine", ["auto", "espeak", "synthetic"])
async def test_empty_text_is_empty_audio(engine: str) -> None:
    for text in ("", "   \n"):
        audio = await _speech.synthesize(text, 24000, engine=engine)
        assert audio.dtype == np.int16
        assert len(audio) == 0


@pytest.mark.asyncio
async def test_synthetic_engine() -> None:
    a = await _speech.synthesize(SENTENCE, 24000, engine="synthetic")
    b = await _speech.synthesize(SENTENCE, 24000, engine="synthetic")
    assert np.array_equal(a, b)
    assert np.array_equal(a, _speech.synthesize_fallback(SENTENCE, 24000))

    durations = [len(_speech.synthesize_fallback("x" * n, 16000)) for n in (1, 5, 20, 60)]
    assert durations == sorted(durations)
    assert durations[0] == 16000 * 150 // 1000
    assert 60 * 60 <= durations[-1] * 1000 / 16000 <= 70 * 60

    energy = np.abs(np.fft.rfft(a.astype(np.float64))) ** 2
    assert energy.max() / energy.sum() < 0.5
    assert -7.0 <= 20 * np.log10(np.abs(a.astype(np.float64)).max() / 32768) <= -3.0
    assert _rms_dbfs(a) > -30

    with pytest.raises(ValueError, match="engine"):
        await _speech.synthesize(SENTENCE, 24000, engine="piper")


def test_word_timings_cover_duration() -> None:
    timings = _speech.word_timings(SENTENCE, 1625.0)
    assert [w for w, _, _ in timings] == ["Hello", "there,", "how", "are", "you?"]
    assert timings[0][1] == 0.0
    end = 0.0
    for _, offset, length in timings:
        assert offset >= end
        assert length > 0
        end = offset + length
    assert end == pytest.approx(1625.0)
    assert _speech.word_timings("  ", 100.0) == []


def test_visemes_track() -> None:
    track = _speech.visemes(SENTENCE, 1625.0)
    offsets = [t for t, _ in track]
    ids = [v for _, v in track]
    assert offsets == sorted(offsets)
    assert len(set(offsets)) == len(offsets)
    assert all(0 <= v <= 21 for v in ids)
    assert all(a != b for a, b in itertools.pairwise(ids))
    assert len(set(ids)) > 5
    assert track[-1][1] == 0
    assert track[-1][0] <= 1625.0
    assert _speech.visemes("Hi", 100.0)[-1] == (100.0, 0)
    assert _speech.visemes("", 100.0) == []
    assert _speech.visemes(SENTENCE, 1625.0) == track
