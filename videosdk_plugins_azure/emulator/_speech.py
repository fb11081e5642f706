"""The emulated assistant's voice and the timing metadata that goes with it.

Plugins under test need reply audio that behaves like speech (it must trip a
VAD, survive resampling and codecs, and have a duration that tracks the text)
plus word and viseme timings to stream alongside it. espeak-ng gives
intelligible, byte-reproducible speech in a few milliseconds; where it is not
installed a deterministic numpy "voice" keeps tests running with the same
shape of output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import unicodedata
import zlib
from collections import OrderedDict
from typing import Final

import numpy as np
import numpy.typing as npt

from . import _codec

__all__ = [
    "speech_engine_available",
    "synthesize",
    "synthesize_fallback",
    "visemes",
    "word_timings",
]

_log = logging.getLogger(__name__)

ENGINES: Final[frozenset[str]] = frozenset({"auto", "espeak", "synthetic"})

_ESPEAK: Final = "espeak-ng"
_ESPEAK_TIMEOUT_S: Final = 30.0
# Linux caps a single argv string at 128 KiB; longer text goes through stdin.
_MAX_ARG_BYTES: Final = 100_000
_TRIM_LEVEL: Final = 16
_TRIM_KEEP_MS: Final = 30

_MS_PER_CHAR: Final = 65.0
_MIN_UTTERANCE_MS: Final = 150.0
_PEAK: Final = 0.56 * 32767  # about -5 dBFS
_RAMP_MS: Final = 20.0

_CACHE_SIZE: Final = 256
_cache: OrderedDict[tuple[str, int, str], npt.NDArray[np.int16]] = OrderedDict()


def speech_engine_available() -> bool:
    """Whether real (espeak-ng) speech can be produced on this machine."""
    return shutil.which(_ESPEAK) is not None


async def synthesize(text: str, sample_rate: int, *, engine: str = "auto") -> npt.NDArray[np.int16]:
    """Reply audio for ``text`` as mono int16 at ``sample_rate``.

    ``engine="auto"`` prefers espeak-ng and quietly degrades to the synthetic
    voice, so the emulator never fails a response just because a TTS binary is
    missing; ``"espeak"`` is for tests that specifically need real speech.
    Results are cached because test suites replay the same replies many times.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}; expected one of {sorted(ENGINES)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not text.strip():
        return np.zeros(0, dtype=np.int16)

    use_espeak = engine == "espeak" or (engine == "auto" and speech_engine_available())
    if engine == "espeak" and not speech_engine_available():
        raise RuntimeError(
            "speech engine 'espeak' requested but the espeak-ng binary is not on PATH "
            "(install it, e.g. `apt-get install espeak-ng`, or use engine='synthetic')"
        )

    if use_espeak:
        key = (text, sample_rate, "espeak")
        cached = _cache_get(key)
        if cached is not None:
            return cached
        try:
            raw, raw_rate = await _run_espeak(text)
        except (TimeoutError, OSError, RuntimeError) as exc:
            if engine == "espeak":
                raise RuntimeError(f"espeak-ng failed: {exc}") from exc
            _log.warning("espeak-ng failed (%s); using the synthetic voice", exc)
        else:
            audio = _codec.resample(_trim_silence(raw, raw_rate), raw_rate, sample_rate)
            return _cache_put(key, audio)

    key = (text, sample_rate, "synthetic")
    cached = _cache_get(key)
    if cached is not None:
        return cached
    return _cache_put(key, synthesize_fallback(text, sample_rate))


def _cache_get(key: tuple[str, int, str]) -> npt.NDArray[np.int16] | None:
    hit = _cache.get(key)
    if hit is None:
        return None
    _cache.move_to_end(key)
    return hit.copy()


def _cache_put(key: tuple[str, int, str], audio: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    stored = audio.copy()
    stored.flags.writeable = False
    _cache[key] = stored
    _cache.move_to_end(key)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return audio


async def _run_espeak(text: str) -> tuple[npt.NDArray[np.int16], int]:
    """Run espeak-ng without a shell and without blocking the event loop."""
    text = text.replace("\x00", " ")
    args = [_ESPEAK, "-v", "en-us", "--stdout"]
    stdin_data: bytes | None = None
    if len(text.encode("utf-8")) > _MAX_ARG_BYTES:
        args.append("--stdin")
        stdin_data = text.encode("utf-8")
    else:
        # "--" ends option parsing, so text such as "-v" or "--help" is spoken.
        args.extend(["--", text])
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE if stdin_data is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin_data), _ESPEAK_TIMEOUT_S)
    except BaseException:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()
        raise RuntimeError(f"espeak-ng exited with status {proc.returncode}: {detail}")
    return _parse_wav(out)


def _parse_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """Extract PCM from a WAV whose header may carry streaming placeholder sizes.

    espeak-ng writes its header before it knows the length (sizes 0x7ffff000),
    so the ``data`` chunk is taken to run to the end of the stream whenever its
    declared size overshoots what was actually received.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("espeak-ng did not produce a RIFF/WAVE stream")
    pos = 12
    rate = 0
    channels = 0
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise RuntimeError("truncated WAV fmt chunk")
            audio_format = int.from_bytes(data[body : body + 2], "little")
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
            bits = int.from_bytes(data[body + 14 : body + 16], "little")
            if audio_format != 1 or bits != 16 or channels < 1 or rate <= 0:
                raise RuntimeError(
                    f"unexpected WAV format (format={audio_format}, bits={bits}, "
                    f"channels={channels}, rate={rate})"
                )
        elif chunk_id == b"data":
            if rate == 0:
                raise RuntimeError("WAV data chunk precedes its fmt chunk")
            payload = data[body:] if body + size > len(data) else data[body : body + size]
            usable = len(payload) - len(payload) % (2 * channels)
            pcm = np.frombuffer(payload, dtype="<i2", count=usable // 2).astype(np.int16)
            if channels > 1:
                pcm = pcm.reshape(-1, channels).mean(axis=1).round().astype(np.int16)
            return pcm, rate
        pos = body + size + (size & 1)
    raise RuntimeError("WAV stream has no data chunk")


def _trim_silence(samples: npt.NDArray[np.int16], rate: int) -> npt.NDArray[np.int16]:
    """Cut espeak-ng's long trailing pause so reply durations track the words."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _TRIM_LEVEL)
    if len(loud) == 0:
        return samples[:0]
    keep = rate * _TRIM_KEEP_MS // 1000
    return samples[max(0, int(loud[0]) - keep) : int(loud[-1]) + 1 + keep]


def _layout(text: str) -> tuple[list[str], int]:
    """Words and the character count (one per separating space) timing is spread over."""
    words = text.split()
    return words, sum(len(w) for w in words) + max(0, len(words) - 1)


def synthesize_fallback(text: str, sample_rate: int) -> npt.NDArray[np.int16]:
    """A deterministic speech-like signal used when no TTS engine is available.

    It is built to look like speech to the things that inspect reply audio: an
    energy VAD (syllables well above -40 dBFS separated by short gaps), a
    resampler or codec (broadband harmonic content below 4 kHz, not a tone), and
    duration arithmetic (about 65 ms per character, matching
    :func:`word_timings`). Each word's pitch and formants are seeded from
    ``zlib.crc32`` of the word, so the same text always gives the same samples.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    words, chars = _layout(text)
    if not words:
        return np.zeros(0, dtype=np.int16)
    total_ms = max(_MIN_UTTERANCE_MS, chars * _MS_PER_CHAR)
    n_total = round(total_ms * sample_rate / 1000)
    per_char = n_total / chars
    out = np.zeros(n_total, dtype=np.float64)
    char_pos = 0
    for word in words:
        start = round(char_pos * per_char)
        end = round((char_pos + len(word)) * per_char)
        out[start:end] = _render_word(word, end - start, sample_rate)
        char_pos += len(word) + 1
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= _PEAK / peak
    return np.round(out).astype(np.int16)


def _count_syllables(word: str) -> int:
    groups = 0
    previous_vowel = False
    for ch in word.lower():
        is_vowel = ch in "aeiouy"
        if is_vowel and not previous_vowel:
            groups += 1
        previous_vowel = is_vowel
    return max(1, groups)


def _render_word(word: str, n: int, rate: int) -> npt.NDArray[np.float64]:
    out = np.zeros(n, dtype=np.float64)
    if n <= 0:
        return out
    rng = np.random.default_rng(zlib.crc32(word.lower().encode("utf-8")))
    base_f0 = rng.uniform(110.0, 160.0)
    word_ms = n * 1000.0 / rate
    n_syl = min(_count_syllables(word), max(1, int(word_ms // 90.0)))
    edges = np.round(np.linspace(0, n, n_syl + 1)).astype(int)
    for i in range(n_syl):
        a, b = int(edges[i]), int(edges[i + 1])
        out[a:b] = _render_syllable(rng, b - a, rate, base_f0)
    return out


def _render_syllable(
    rng: np.random.Generator, n: int, rate: int, base_f0: float
) -> npt.NDArray[np.float64]:
    """One voiced syllable: a gliding harmonic source through three formant peaks."""
    if n <= 0:
        return np.zeros(0, dtype=np.float64)
    f0_start = base_f0 * rng.uniform(0.92, 1.08)
    f0_end = f0_start * rng.uniform(0.88, 1.05)
    f0 = np.linspace(f0_start, f0_end, n)
    phase = 2.0 * np.pi * np.cumsum(f0) / rate

    formants = np.array(
        [rng.uniform(300.0, 850.0), rng.uniform(900.0, 2300.0), rng.uniform(2400.0, 3200.0)]
    )
    bandwidths = np.array([90.0, 130.0, 200.0])
    weights = np.array([1.0, 0.6, 0.3])

    top = min(3800.0, 0.45 * rate)
    n_harmonics = max(1, int(top // max(f0_start, f0_end)))
    k = np.arange(1, n_harmonics + 1, dtype=np.float64)
    freqs = k * 0.5 * (f0_start + f0_end)
    detune = (freqs[:, None] - formants[None, :]) / bandwidths[None, :]
    gains = (weights[None, :] / (1.0 + detune**2)).sum(axis=1) + 0.08 / k
    phases = rng.uniform(0.0, 2.0 * np.pi, n_harmonics)
    voiced: npt.NDArray[np.float64] = gains @ np.sin(np.outer(k, phase) + phases[:, None])
    voiced += 0.03 * float(np.max(gains)) * rng.standard_normal(n)

    rms = float(np.sqrt(np.mean(voiced**2)))
    if rms > 0:
        voiced /= rms
    return voiced * _envelope(n, rate) * rng.uniform(0.7, 1.0)


def _envelope(n: int, rate: int) -> npt.NDArray[np.float64]:
    """Flat-topped syllable envelope: short raised-cosine edges keep onsets crisp for a VAD."""
    env = np.ones(n, dtype=np.float64)
    ramp = min(int(rate * _RAMP_MS / 1000), n // 4)
    if ramp > 0:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        env[:ramp] = rise
        env[n - ramp :] = rise[::-1]
    return env


def word_timings(text: str, duration_ms: float) -> list[tuple[str, float, float]]:
    """``(word, offset_ms, duration_ms)`` per word, spread by character count.

    Spaces get a character's worth of time, mirroring the synthetic voice, so
    transcript and ``audio_timestamp`` deltas line up with the audio that is
    streamed; the last word ends exactly at ``duration_ms``.
    """
    words, chars = _layout(text)
    if not words:
        return []
    unit = max(0.0, duration_ms) / chars
    timings: list[tuple[str, float, float]] = []
    char_pos = 0
    for i, word in enumerate(words):
        offset = char_pos * unit
        length = max(0.0, duration_ms) - offset if i == len(words) - 1 else len(word) * unit
        timings.append((word, offset, length))
        char_pos += len(word) + 1
    return timings


# Azure TTS viseme ids (en-US): 0 silence, 1 ae/ax/ah, 2 aa, 3 ao, 4 ey/eh/uh,
# 5 er, 6 y/iy/ih/ix, 7 w/uw, 8 ow, 9 aw, 10 oy, 11 ay, 12 h, 13 r, 14 l,
# 15 s/z, 16 sh/ch/jh/zh, 17 th (voiced), 18 f/v, 19 d/t/n/th, 20 k/g/ng, 21 p/b/m.
_LETTER_VISEMES: Final[dict[str, int]] = {
    "a": 1, "b": 21, "c": 20, "d": 19, "e": 4, "f": 18, "g": 20, "h": 12, "i": 6,
    "j": 16, "k": 20, "l": 14, "m": 21, "n": 19, "o": 8, "p": 21, "q": 20, "r": 13,
    "s": 15, "t": 19, "u": 7, "v": 18, "w": 7, "x": 15, "y": 6, "z": 15,
}  # fmt: skip
_DIGRAPH_VISEMES: Final[dict[str, int]] = {
    "th": 17, "sh": 16, "ch": 16, "ph": 18, "ng": 20, "ee": 6, "oo": 7, "ou": 9,
    "ow": 9, "oy": 10, "oi": 10, "ai": 11, "ay": 11, "er": 5, "aw": 3, "au": 3, "ar": 2,
}  # fmt: skip
_OTHER_SPOKEN_VISEME: Final = 1


def _base_letter(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return decomposed[0].lower() if decomposed else ch


def visemes(text: str, duration_ms: float) -> list[tuple[float, int]]:
    """A cheap lip-sync track: ``(audio_offset_ms, viseme_id)`` changes only.

    Letters stand in for phonemes, laid out on the same per-character grid as
    :func:`word_timings`; the mouth closes (id 0) at spaces, punctuation and the
    end of the utterance, as Azure's own tracks do.
    """
    words, chars = _layout(text)
    if not words:
        return []
    spoken = " ".join(words)
    total = max(0.0, duration_ms)
    unit = total / chars
    track: list[tuple[float, int]] = []
    i = 0
    while i < len(spoken):
        letter = _base_letter(spoken[i])
        pair = letter + _base_letter(spoken[i + 1]) if i + 1 < len(spoken) else ""
        step = 1
        if pair in _DIGRAPH_VISEMES:
            viseme = _DIGRAPH_VISEMES[pair]
            step = 2
        elif letter in _LETTER_VISEMES:
            viseme = _LETTER_VISEMES[letter]
        elif letter.isalnum():
            viseme = _OTHER_SPOKEN_VISEME
        else:
            viseme = 0
        if not track or track[-1][1] != viseme:
            track.append((i * unit, viseme))
        i += step
    if track[-1][1] != 0:
        track.append((total, 0))
    return track
