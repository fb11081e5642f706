"""Streaming server-side VAD for the emulator.

The real service decides turn boundaries itself; a plugin under test reacts to
``speech_started`` / ``speech_stopped``. An energy detector is enough for test
audio (synthetic speech over a quiet floor) and, unlike a neural VAD, its
decisions are exact functions of the samples, so tests can assert precise
``audio_start_ms`` / ``audio_end_ms`` values regardless of how the client
chunked its ``input_audio_buffer.append`` events.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["EnergyVad", "VadEvent"]

_FRAME_MS: Final = 10
_FULL_SCALE: Final = 32768.0
_DBFS_AT_ZERO: Final = -70.0
_DBFS_SPAN: Final = 60.0
# Below this many frames per chunk a plain loop beats numpy run-length encoding.
_SMALL_CHUNK_FRAMES: Final = 16
_EMPTY: Final[npt.NDArray[np.int16]] = np.zeros(0, dtype=np.int16)
_EMPTY.flags.writeable = False


@dataclass(frozen=True, slots=True)
class VadEvent:
    """A turn boundary on the session's audio timeline.

    ``audio_ms`` is what Voice Live reports (``audio_start_ms`` already moved
    back by the prefix padding, or ``audio_end_ms`` including the trailing
    silence); ``onset_ms`` is where voiced audio really began, which the server
    needs to cut the committed user audio and to order interruptions.
    """

    kind: Literal["start", "stop"]
    audio_ms: int
    onset_ms: int


class EnergyVad:
    """Frame-energy voice activity detector with Voice Live's turn semantics.

    Audio is analysed in 10 ms frames. A frame is voiced when its RMS level
    exceeds ``-70 + 60 * threshold`` dBFS (relative to int16 full scale 32768),
    so Voice Live's ``turn_detection.threshold`` range 0..1 maps to -70..-10
    dBFS and the default 0.5 means -40 dBFS.

    Speech starts after a continuous voiced run of ``min_speech_ms`` and ends
    after ``silence_duration_ms`` of continuous unvoiced frames; shorter pauses
    stay inside the turn. All times come from sample counts, never wall time,
    so results do not depend on chunking or scheduling.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        threshold: float = 0.5,
        prefix_padding_ms: int = 300,
        silence_duration_ms: int = 500,
        min_speech_ms: int = 60,
    ) -> None:
        if sample_rate < 100:
            raise ValueError(f"sample_rate must be at least 100 Hz, got {sample_rate}")
        self._rate = sample_rate
        self._frame_len = max(1, round(sample_rate * _FRAME_MS / 1000))
        self._threshold = 0.5
        self._energy_limit = 0.0
        self._prefix_padding_ms = 0
        self._silence_ms = 0
        self._silence_frames = 1
        self._min_speech_ms = 0
        self._min_speech_frames = 1
        self.reconfigure(
            threshold=threshold,
            prefix_padding_ms=prefix_padding_ms,
            silence_duration_ms=silence_duration_ms,
            min_speech_ms=min_speech_ms,
        )

        self._samples_fed = 0
        self._carry: npt.NDArray[np.int16] = _EMPTY
        # Sample index where the next analysis frame begins.
        self._frame_pos = 0
        self._floor_sample = 0
        self._speaking = False
        self._onset_sample = 0
        self._voiced_run = 0
        self._voiced_run_start = 0
        self._silence_run = 0

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def clock_ms(self) -> int:
        """Milliseconds of audio fed so far (the session's input audio timeline)."""
        return self._ms(self._samples_fed)

    def reconfigure(
        self,
        *,
        threshold: float | None = None,
        prefix_padding_ms: int | None = None,
        silence_duration_ms: int | None = None,
        min_speech_ms: int | None = None,
    ) -> None:
        """Apply new ``turn_detection`` settings to audio fed from now on.

        Runs already in progress keep their length, so shortening the silence
        window mid-pause can end the turn at the next unvoiced frame.
        """
        if threshold is not None:
            if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
                raise ValueError(f"threshold must be within 0..1, got {threshold}")
            self._threshold = float(threshold)
            level = _FULL_SCALE * 10.0 ** ((_DBFS_AT_ZERO + _DBFS_SPAN * threshold) / 20.0)
            self._energy_limit = level * level * self._frame_len
        if prefix_padding_ms is not None:
            self._prefix_padding_ms = _non_negative("prefix_padding_ms", prefix_padding_ms)
        if silence_duration_ms is not None:
            self._silence_ms = _non_negative("silence_duration_ms", silence_duration_ms)
            self._silence_frames = self._frames_for(self._silence_ms)
        if min_speech_ms is not None:
            self._min_speech_ms = _non_negative("min_speech_ms", min_speech_ms)
            self._min_speech_frames = self._frames_for(self._min_speech_ms)

    def reset(self) -> None:
        """Drop any turn in progress without a stop event (``input_audio_buffer.clear``).

        The clock keeps running, but the frame grid restarts here and prefix
        padding may never reach back before this point.
        """
        self._carry = _EMPTY
        self._frame_pos = self._samples_fed
        self._floor_sample = self._samples_fed
        self._speaking = False
        self._voiced_run = 0
        self._silence_run = 0

    def feed(self, samples: npt.NDArray[np.int16]) -> list[VadEvent]:
        """Consume audio of any length and return the turn boundaries it completed."""
        x = samples.reshape(-1)
        n_new = len(x)
        if n_new == 0:
            return []
        self._samples_fed += n_new
        owned = False
        if len(self._carry):
            x = np.concatenate([self._carry, x])
            owned = True
        fl = self._frame_len
        n_frames = len(x) // fl
        used = n_frames * fl
        if used == len(x):
            self._carry = _EMPTY
        else:
            # A view into the caller's buffer would change if they reuse it.
            self._carry = x[used:] if owned else x[used:].copy()
        if n_frames == 0:
            return []

        frames = x[:used].reshape(n_frames, fl).astype(np.int64)
        # Integer energies make the voicing decision exact and platform-independent.
        voiced = (frames * frames).sum(axis=1) > self._energy_limit

        events: list[VadEvent] = []
        pos = self._frame_pos
        if n_frames <= _SMALL_CHUNK_FRAMES:
            flags: list[bool] = voiced.tolist()
            run_start = 0
            for i in range(1, n_frames + 1):
                if i == n_frames or flags[i] != flags[run_start]:
                    self._run(flags[run_start], i - run_start, pos + run_start * fl, events)
                    run_start = i
        else:
            edges = np.flatnonzero(voiced[1:] != voiced[:-1]) + 1
            bounds = [0, *edges.tolist(), n_frames]
            is_voiced = bool(voiced[0])
            for start, stop in itertools.pairwise(bounds):
                self._run(is_voiced, stop - start, pos + start * fl, events)
                is_voiced = not is_voiced
        self._frame_pos = pos + used
        return events

    def _run(self, voiced: bool, count: int, start_sample: int, events: list[VadEvent]) -> None:
        """Advance the turn state machine over ``count`` frames of equal voicing."""
        fl = self._frame_len
        while count > 0:
            if voiced:
                self._silence_run = 0
                if self._speaking:
                    return
                if self._voiced_run == 0:
                    self._voiced_run_start = start_sample
                needed = self._min_speech_frames - self._voiced_run
                if count < needed:
                    self._voiced_run += count
                    return
                self._voiced_run += count
                self._speaking = True
                self._onset_sample = self._voiced_run_start
                onset_ms = self._ms(self._onset_sample)
                floor_ms = self._ms(self._floor_sample)
                events.append(
                    VadEvent("start", max(floor_ms, onset_ms - self._prefix_padding_ms), onset_ms)
                )
                return
            self._voiced_run = 0
            if not self._speaking:
                return
            needed = max(1, self._silence_frames - self._silence_run)
            if count < needed:
                self._silence_run += count
                return
            end_sample = start_sample + needed * fl
            self._speaking = False
            self._silence_run = 0
            self._floor_sample = end_sample
            events.append(VadEvent("stop", self._ms(end_sample), self._ms(self._onset_sample)))
            count -= needed
            start_sample = end_sample

    def _frames_for(self, ms: int) -> int:
        return max(1, math.ceil(ms * self._rate / (1000 * self._frame_len)))

    def _ms(self, sample: int) -> int:
        return sample * 1000 // self._rate


def _non_negative(name: str, value: int) -> int:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)
