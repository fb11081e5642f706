"""The emulated assistant's voice.

Plugins under test need reply audio that behaves like speech: it must trip a VAD,
survive resampling and codecs, and have a duration that tracks the text (the word
and viseme timings streamed alongside it are in :mod:`._timings`). espeak-ng gives
intelligible, byte-reproducible speech; where it is not installed a deterministic
numpy "voice" keeps tests running with the same shape of output.

The emulator is a server other people run, so synthesis must never stall it:

* the CPU-bound work (the synthetic voice; parsing, trimming and resampling
  espeak-ng's output) and espeak-ng itself run in an executor, never on the event
  loop;
* the text spoken is capped at ``max_chars`` (:data:`MAX_SPEECH_CHARS` by default,
  about four minutes of speech): without a cap a 100 KB reply took ~50 s of CPU and
  gigabytes of memory;
* text that cannot be encoded (a lone surrogate from a client's JSON) is spoken
  with ``?`` in its place rather than failing the response;
* the cache of recent results is bounded by entries and by bytes.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import zlib
from collections import OrderedDict
from concurrent.futures import Executor
from typing import Final

import numpy as np
import numpy.typing as npt

from . import _codec
from ._limits import MAX_REPLY_CHARS
from ._timings import layout, visemes, word_timings

__all__ = [
    "MAX_SPEECH_CHARS",
    "speakable",
    "speech_engine_available",
    "synthesize",
    "synthesize_fallback",
    "visemes",
    "word_timings",
]

_log = logging.getLogger(__name__)

ENGINES: Final[frozenset[str]] = frozenset({"auto", "espeak", "synthetic"})

MAX_SPEECH_CHARS: Final = MAX_REPLY_CHARS
"""Characters of text :func:`synthesize` speaks by default; the rest is not spoken."""

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
_CACHE_BYTES: Final = 64 * 1024 * 1024
_cache: OrderedDict[tuple[str, int, str], npt.NDArray[np.int16]] = OrderedDict()
_cache_bytes = 0


def speech_engine_available() -> bool:
    """Whether real (espeak-ng) speech can be produced on this machine."""
    return shutil.which(_ESPEAK) is not None


def speakable(text: str, max_chars: int = MAX_SPEECH_CHARS) -> str:
    """``text`` as it will be spoken: at most ``max_chars``, encodable, no NULs.

    Lone surrogates (valid in JSON, not in UTF-8) become ``?``; NUL would end
    espeak-ng's argument early.
    """
    cut = text[: max(0, max_chars)]
    return cut.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ")


async def synthesize(
    text: str,
    sample_rate: int,
    *,
    engine: str = "auto",
    executor: Executor | None = None,
    max_chars: int = MAX_SPEECH_CHARS,
) -> npt.NDArray[np.int16]:
    """Reply audio for ``text`` (cut to ``max_chars``) as mono int16 at ``sample_rate``.

    ``engine="auto"`` prefers espeak-ng and quietly degrades to the synthetic
    voice, so the emulator never fails a response just because a TTS binary is
    missing; ``"espeak"`` is for tests that specifically need real speech. The
    CPU-bound work runs on ``executor`` (the event loop's default one when None).
    Results are cached because test suites replay the same replies many times.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown speech engine {engine!r}; expected one of {sorted(ENGINES)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    text = speakable(text, max_chars)
    if not text.strip():
        return np.zeros(0, dtype=np.int16)
    if engine == "espeak" and not speech_engine_available():
        raise RuntimeError(
            "speech engine 'espeak' requested but the espeak-ng binary is not on PATH "
            "(install it, e.g. `apt-get install espeak-ng`, or use engine='synthetic')"
        )
    loop = asyncio.get_running_loop()
    if engine == "espeak" or (engine == "auto" and speech_engine_available()):
        key = (text, sample_rate, "espeak")
        cached = _cache_get(key)
        if cached is not None:
            return cached
        try:
            audio = await loop.run_in_executor(executor, _espeak, text, sample_rate)
        except (TimeoutError, OSError, RuntimeError) as exc:
            if engine == "espeak":
                raise RuntimeError(f"espeak-ng failed: {exc}") from exc
            _log.warning("espeak-ng failed (%s); using the synthetic voice", exc)
        else:
            return _cache_put(key, audio)
    key = (text, sample_rate, "synthetic")
    cached = _cache_get(key)
    if cached is not None:
        return cached
    # looked up at call time, so a test can stand in for the voice
    voice = synthesize_fallback
    return _cache_put(key, await loop.run_in_executor(executor, voice, text, sample_rate))


def _cache_get(key: tuple[str, int, str]) -> npt.NDArray[np.int16] | None:
    hit = _cache.get(key)
    if hit is None:
        return None
    _cache.move_to_end(key)
    return hit.copy()


def _cache_put(key: tuple[str, int, str], audio: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Keep a read-only copy, evicting the oldest past the entry and byte bounds.

    Only ever called on the event loop's thread, so the cache needs no lock.
    """
    global _cache_bytes
    if audio.nbytes > _CACHE_BYTES:
        return audio
    stored = audio.copy()
    stored.flags.writeable = False
    old = _cache.pop(key, None)
    _cache_bytes -= old.nbytes if old is not None else 0
    _cache[key] = stored
    _cache_bytes += stored.nbytes
    while len(_cache) > _CACHE_SIZE or _cache_bytes > _CACHE_BYTES:
        _cache_bytes -= _cache.popitem(last=False)[1].nbytes
    return audio


def _espeak_audio(wav: bytes, sample_rate: int) -> npt.NDArray[np.int16]:
    """espeak-ng's WAV as trimmed mono at ``sample_rate`` (CPU-bound: run off the loop)."""
    raw, raw_rate = _parse_wav(wav)
    return _codec.resample(_trim_silence(raw, raw_rate), raw_rate, sample_rate)


def _espeak(text: str, sample_rate: int) -> npt.NDArray[np.int16]:
    """espeak-ng's speech for ``text``, trimmed and resampled (blocking: run off the loop).

    A plain blocking subprocess in the executor rather than an asyncio one: a
    response cancelled mid-synthesis then leaves no pipe transports behind (an
    asyncio child cancelled in ``communicate`` can), and the child is still
    bounded by the timeout, killed and reaped by ``subprocess.run``. No shell.
    """
    args = [_ESPEAK, "-v", "en-us", "--stdout"]
    stdin_data: bytes | None = None
    if len(text.encode("utf-8")) > _MAX_ARG_BYTES:
        args.append("--stdin")
        stdin_data = text.encode("utf-8")
    else:
        # "--" ends option parsing, so text such as "-v" or "--help" is spoken.
        args.extend(["--", text])
    try:
        done = subprocess.run(  # noqa: S603 - a fixed binary, no shell, text as one argument
            args,
            input=stdin_data,
            stdin=None if stdin_data is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=_ESPEAK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError(f"espeak-ng took over {_ESPEAK_TIMEOUT_S:g} s") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"espeak-ng exited with status {done.returncode}: {detail}")
    return _espeak_audio(done.stdout, sample_rate)


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
    words, chars = layout(text)
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
    # surrogatepass: the same seed as UTF-8 for any real text, and no error for a
    # lone surrogate
    rng = np.random.default_rng(zlib.crc32(word.lower().encode("utf-8", "surrogatepass")))
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
