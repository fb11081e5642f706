"""The caller's microphone as the meeting would deliver it: a live, paced audio track.

The framework's listener (``InputStreamManager.add_audio_listener``) pulls
``track.recv()`` in a loop and awaits ``pipeline.on_audio_delta`` before pulling
again. This track imitates a remote participant's decoded track under that loop:
opus-shaped ``av.AudioFrame`` objects (packed s16, interleaved), 20 ms each, at
the leg's rate and channel count, arriving at the pace of a live line.

Two properties matter for tests:

* A live line is never digitally silent. When nothing has been queued the track
  keeps sending low-level seeded noise in real time, because voice activity
  detectors (the provider's server VAD, a local VAD) only end a turn after they
  hear trailing non-speech; a stream that simply stops starves them.
* ``play()`` must know when its audio has *reached the model*, not merely when it
  was handed out. The listener awaits ``on_audio_delta`` for a frame before it
  calls ``recv()`` again, so the next ``recv()`` call is the proof that the
  previous frame went all the way through the pipeline. A batch is acknowledged
  there.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from vsaiortc.mediastreams import MediaStreamError, MediaStreamTrack

from ._wire import FRAME_SECONDS, Int16Array, layout_name, make_noise, samples_per_frame

MAX_LAG_SECONDS = 0.1
"""How far the mic clock may fall behind before it is re-anchored to now.

If the consumer stalls (a slow ``handle_audio_input``, a debugger), a real
jitter buffer would drop or compress the backlog rather than burst it; re-anchoring
keeps the fake line from flooding the pipeline with catch-up frames.
"""


@dataclass(eq=False)
class _Batch:
    """Frames from one ``play`` call and the future that says they were consumed."""

    chunks: deque[Int16Array]
    done: asyncio.Future[None]


class FakeMicTrack(MediaStreamTrack):
    """A remote participant's audio track, fed from a queue and paced like a live line.

    ``speed`` scales the pace of every frame (``2.0`` = twice real time). With
    ``math.inf`` queued audio goes as fast as the pipeline accepts it, while the
    idle line stays at real time so an unattended room does not spin the CPU.
    The agent's *output* is unaffected: the framework's own track paces it.
    """

    kind = "audio"

    def __init__(
        self,
        *,
        rate: int,
        channels: int,
        noise_dbfs: float | None,
        seed: int,
        speed: float,
    ) -> None:
        super().__init__()
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.rate = rate
        self.channels = channels
        self.layout = layout_name(channels)
        self.samples = samples_per_frame(rate)
        self.time_base = Fraction(1, rate)
        self.speed = speed
        self._noise_dbfs = noise_dbfs
        self._rng = np.random.default_rng(seed)
        self._batches: deque[_Batch] = deque()
        self._acking: asyncio.Future[None] | None = None
        self._due: float | None = None
        self._pts = 0
        self._failure: BaseException | None = None
        self.frames_sent = 0
        self.queued_frames_sent = 0

    # -- producer side -------------------------------------------------------------

    def noise_frames(self, n_frames: int) -> list[Int16Array]:
        """``n_frames`` frames of line noise (what the line carries when nobody talks)."""
        block = make_noise(self._rng, n_frames * self.samples, self.channels, self._noise_dbfs)
        return [block[i * self.samples : (i + 1) * self.samples] for i in range(n_frames)]

    def split(self, pcm: Int16Array) -> list[Int16Array]:
        """Cut wire-format PCM into 20 ms frames, topping the last one up with line noise.

        Padding with noise rather than zeros keeps the leg free of digital
        silence, which no decoder of a live call ever produces.
        """
        n = pcm.shape[0]
        chunks = [pcm[i : i + self.samples] for i in range(0, n, self.samples)]
        if chunks and chunks[-1].shape[0] < self.samples:
            tail = chunks[-1]
            pad = make_noise(
                self._rng, self.samples - tail.shape[0], self.channels, self._noise_dbfs
            )
            chunks[-1] = np.concatenate([tail, pad])
        return chunks

    def enqueue(self, chunks: list[Int16Array]) -> asyncio.Future[None]:
        """Queue frames after anything already queued; the future resolves once consumed."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._failure is not None:
            fut.set_exception(RuntimeError(f"the microphone is closed: {self._failure}"))
            return fut
        if not chunks:
            fut.set_result(None)
            return fut
        self._batches.append(_Batch(deque(chunks), fut))
        return fut

    def fail_pending(self, reason: BaseException) -> None:
        """Resolve every waiting ``play`` with ``reason``; later ``enqueue`` calls fail too.

        Used when the listener stops or the room closes, so nobody waits forever
        for audio that will never be pulled.
        """
        self._failure = reason
        waiting = [b.done for b in self._batches]
        if self._acking is not None:
            waiting.append(self._acking)
        self._batches.clear()
        self._acking = None
        for fut in waiting:
            if not fut.done():
                fut.set_exception(reason)

    def delay(self, seconds: float) -> None:
        """Send the next frame ``seconds`` later than its schedule, as network jitter does.

        A caller and a speaker driven by one harness keep a fixed phase between
        their 20 ms clocks for a whole call; shifting it per turn spreads what the
        agent's answer waits for the next output tick, as in a real meeting.
        """
        if self._due is not None:
            self._due += seconds

    @property
    def pending_frames(self) -> int:
        """Frames queued but not yet handed to the listener."""
        return sum(len(b.chunks) for b in self._batches if not b.done.done())

    # -- consumer side (the framework's listener) ----------------------------------

    async def recv(self) -> av.AudioFrame:
        """Hand the listener the next 20 ms frame, on the line's clock."""
        if self.readyState != "live":
            raise MediaStreamError
        # Reaching here means the previous frame went through on_audio_delta.
        if self._acking is not None:
            if not self._acking.done():
                self._acking.set_result(None)
            self._acking = None

        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._due is None or self._due < now - MAX_LAG_SECONDS:
            self._due = now
        wait = self._due - now
        # Always yield: with speed=inf nothing else would let the loop breathe.
        await asyncio.sleep(wait if wait > 0 else 0)
        if self.readyState != "live":
            raise MediaStreamError

        while self._batches and self._batches[0].done.done():
            self._batches.popleft()  # a cancelled play(): drop the rest of its audio
        if self._batches:
            batch = self._batches[0]
            chunk = batch.chunks.popleft()
            if not batch.chunks:
                self._batches.popleft()
                self._acking = batch.done
            self.queued_frames_sent += 1
            period = FRAME_SECONDS / self.speed
        else:
            chunk = self.noise_frames(1)[0]
            period = FRAME_SECONDS if math.isinf(self.speed) else FRAME_SECONDS / self.speed
        self._due += period

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(chunk).reshape(1, -1), format="s16", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts = self._pts
        frame.time_base = self.time_base
        self._pts += self.samples
        self.frames_sent += 1
        return frame

    def describe(self) -> dict[str, Any]:
        """A small status dict for error messages."""
        return {
            "rate": self.rate,
            "channels": self.channels,
            "frames_sent": self.frames_sent,
            "pending_frames": self.pending_frames,
        }
