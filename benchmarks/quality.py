"""Figure 2: what the input conversion does to the caller's audio (48 kHz stereo → 24 kHz mono).

Three converters, each fed the way it runs in a call, 20 ms at a time:

* **ours**: ``videosdk_plugins_azure.audio.InputConverter``;
* **vendor**: the framework's ``ProviderAudioInput`` (``audio_native.converter``
  underneath), which the vendor plugin calls;
* **per-chunk FFT**: downmix + ``scipy.signal.resample`` on each chunk alone.

Measured:

* **streamed vs one-shot SNR**: the 20 ms-chunked output against the same
  converter run over the whole signal at once, on a speech-like signal and on a
  997 Hz sine. A converter whose state carries across calls is bit-exact
  (reported as ``inf``); one that restarts per chunk clicks at every boundary.
* **rejection** of tones from 12.5 kHz up (they cannot be represented at 24 kHz
  and alias back into the band unless filtered): input level over output level,
  in dB, per tone; the figure is the worst tone. ``inf`` means digital silence.
* **passband flatness**: the spread (max - min) of the gain of tones from 100 Hz
  to 10 kHz, in dB.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import FRAME_BYTES, OUTPUT_RATE, WIRE_RATE, speech, to_meeting

__all__ = [
    "PASS_HZ",
    "REJECT_HZ",
    "SPEECH_TEXT",
    "TONE_DBFS",
    "Convert",
    "Factory",
    "converters",
    "gain_db",
    "one_shot",
    "run",
    "snr_db",
    "streamed",
    "tone",
]

Convert = Callable[[bytes], bytes]
Factory = Callable[[], Convert]

REJECT_HZ = (12503, 13007, 14009, 15013, 16001, 18013, 20011, 22003, 23501)
"""Tones from 12.5 kHz up. None is a multiple of 50 Hz: a tone with a whole number of
cycles in every 20 ms chunk would flatter a per-chunk FFT resampler."""
PASS_HZ = (101, 199, 307, 499, 997, 1999, 3001, 4003, 4999, 6007, 7001, 7993, 9001, 9973)
"""Tones from 100 Hz to 10 kHz, likewise off the 50 Hz grid."""
TONE_DBFS = -6.0
SPEECH_TEXT = "the quick brown fox jumps over the lazy dog while the radio plays"


def _ours() -> Convert:
    from videosdk_plugins_azure.audio import InputConverter

    return InputConverter(WIRE_RATE, 2, OUTPUT_RATE).convert


def _vendor() -> Convert:
    from videosdk.agents import audio_format
    from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

    audio_format.reset()  # the meeting default, 48 kHz stereo
    try:
        from videosdk.plugins.azure.voice_live import CAPABILITY
    except ImportError:  # the framework's converter is there even without the vendor plugin
        CAPABILITY = AudioCapability(
            rates=frozenset({8000, 16000, 24000}), preferred_rate=OUTPUT_RATE
        )
    return ProviderAudioInput(CAPABILITY, want_channels=1, label="bench").process


def _fft() -> Convert | None:
    try:
        from scipy.signal import resample
    except ImportError:
        return None

    def convert(pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, dtype="<i2").reshape(-1, 2).astype(np.float64).mean(axis=1)
        y = resample(x, x.shape[0] * OUTPUT_RATE // WIRE_RATE)
        return np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()

    return convert


def converters() -> tuple[dict[str, Factory], list[str]]:
    notes = []
    found: dict[str, Factory] = {"ours": _ours, "vendor": _vendor}
    if _fft() is None:
        notes.append("scipy is not installed: the per-chunk FFT baseline is skipped")
    else:
        found["fft_baseline"] = _fft  # type: ignore[dict-item]
    return found, notes


def streamed(factory: Factory, pcm: bytes, chunk: int = FRAME_BYTES) -> np.ndarray:
    convert = factory()
    out = b"".join(convert(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def one_shot(factory: Factory, pcm: bytes) -> np.ndarray:
    return np.frombuffer(factory()(pcm), dtype="<i2").astype(np.float64)


def snr_db(reference: np.ndarray, test: np.ndarray) -> float:
    n = min(reference.shape[0], test.shape[0])
    ref, err = reference[:n], test[:n] - reference[:n]
    noise = float(np.sum(err * err))
    if noise == 0.0:
        return math.inf
    return 10 * math.log10(float(np.sum(ref * ref)) / noise)


def tone(freq: float, seconds: float, dbfs: float = TONE_DBFS) -> np.ndarray:
    t = np.arange(round(seconds * WIRE_RATE)) / WIRE_RATE
    amp = 32768 * 10 ** (dbfs / 20)
    return np.rint(amp * np.sin(2 * math.pi * freq * t)).astype(np.int16)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def gain_db(factory: Factory, freq: float, seconds: float = 0.5, *, in_band: bool = True) -> float:
    """Output level over input level for a tone, streamed, away from the start and end.

    In band, the output is projected on the tone itself (exact whatever the window);
    out of band, whatever comes out is alias, so its total RMS is what counts.
    """
    x = tone(freq, seconds)
    y = streamed(factory, to_meeting(x))
    edge = OUTPUT_RATE // 20  # 50 ms
    y = y[edge:-edge]
    amp_in = 32768 * 10 ** (TONE_DBFS / 20)
    if in_band and freq < OUTPUT_RATE / 2:
        t = (np.arange(y.shape[0]) + edge) / OUTPUT_RATE
        basis = np.stack([np.sin(2 * math.pi * freq * t), np.cos(2 * math.pi * freq * t)], 1)
        coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
        out = float(np.hypot(*coef))
        inp = amp_in
    else:
        out = _rms(y)
        inp = amp_in / math.sqrt(2)
    if out == 0.0:
        return -math.inf
    return 20 * math.log10(out / inp)


def _r(x: float, digits: int = 2) -> float | str:
    return round(x, digits) if math.isfinite(x) else ("inf" if x > 0 else "-inf")


def run(response_points: int = 48) -> dict[str, Any]:
    """Figure 2."""
    found, notes = converters()
    sentence = speech(SPEECH_TEXT, WIRE_RATE)
    signals = {"speech": to_meeting(sentence), "sine_997hz": to_meeting(tone(997, 2.0))}
    result: dict[str, Any] = {"converters": {}, "notes": notes}
    freqs = np.unique(
        np.round(np.geomspace(50, 23900, response_points)).astype(int).tolist()
        + list(PASS_HZ)
        + list(REJECT_HZ)
    )
    for name, factory in found.items():
        entry: dict[str, Any] = {}
        for label, pcm in signals.items():
            entry[f"snr_streamed_vs_oneshot_{label}_db"] = _r(
                snr_db(one_shot(factory, pcm), streamed(factory, pcm))
            )
        rejection = {int(f): -gain_db(factory, f, in_band=False) for f in REJECT_HZ}
        entry["rejection_db"] = {str(f): _r(v, 1) for f, v in rejection.items()}
        entry["rejection_worst_db"] = _r(min(rejection.values()), 1)
        passband = {int(f): gain_db(factory, f) for f in PASS_HZ}
        entry["passband_gain_db"] = {str(f): _r(v, 3) for f, v in passband.items()}
        entry["passband_flatness_db"] = _r(max(passband.values()) - min(passband.values()), 3)
        entry["gain_1khz_db"] = _r(passband[997], 3)
        entry["response"] = [
            [int(f), _r(gain_db(factory, f, 0.25, in_band=f < 11000), 2)] for f in freqs
        ]
        result["converters"][name] = entry
    return result
