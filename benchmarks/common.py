"""Shared pieces of the benchmark suite: the two plugins, signals and statistics.

Everything measured here is measured on *this* machine in *this* run, and only
ratios and distributions are published: absolute times drift between runs. The
probes that timestamp both ends of a call are in :mod:`.probes`.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BARGE",
    "CLIENTS",
    "FLOOR",
    "FRAME_BYTES",
    "FRAME_MS",
    "FULL_SCALE",
    "KEY",
    "LABELS",
    "LONG_REPLY",
    "OURS",
    "OUTPUT_RATE",
    "PLUGINS",
    "QUESTION",
    "SHORT_REPLY",
    "VENDOR",
    "WIRE_CHANNELS",
    "WIRE_RATE",
    "available_plugins",
    "b64_size",
    "bench_agent",
    "caller_audio",
    "dist",
    "floor_missing",
    "frame_samples",
    "line_noise",
    "machine",
    "make_model",
    "quiet_logging",
    "speech",
    "to_meeting",
    "vendor_missing",
    "voiced",
]

KEY = "bench-key"
"""The API key both plugins present to the emulator (it accepts any non-empty key)."""

OURS = "ours"
VENDOR = "vendor"
FLOOR = "floor"
PLUGINS = (OURS, VENDOR)
CLIENTS = (OURS, VENDOR, FLOOR)
"""Everything a worker can drive: the two plugins and the floor client (:mod:`.floor`)."""
LABELS = {
    OURS: "ours (videosdk_plugins_azure)",
    VENDOR: "vendor (videosdk-plugins-azure 1.0.30)",
    FLOOR: "floor (bare aiohttp + orjson client, benchmarks/floor.py)",
}

WIRE_RATE = 48000
WIRE_CHANNELS = 2
FRAME_MS = 20
FRAME_BYTES = WIRE_RATE * FRAME_MS // 1000 * 2 * WIRE_CHANNELS
"""3840 B: one 20 ms frame of 48 kHz stereo s16, what the meeting listener hands over."""
OUTPUT_RATE = 24000
FULL_SCALE = 32768.0

QUESTION = "what time is it"
"""What the simulated caller asks (about 1 s in the emulator's synthetic voice)."""
BARGE = "wait a moment"
SHORT_REPLY = "Sure, it is sunny and warm in Paris today."
LONG_REPLY = (
    "Once upon a time there was a lighthouse keeper who counted every ship that "
    "passed, and every evening he wrote their names into a small blue notebook by "
    "the window, together with the weather, the wind and the colour of the sea."
)


# -- the plugins ---------------------------------------------------------------------


def vendor_missing() -> str | None:
    """Why the vendor plugin cannot be benchmarked here, or None when it can."""
    try:
        from videosdk.plugins.azure import AzureVoiceLive  # noqa: F401
    except Exception as exc:
        return (
            f"the vendor plugin is not importable ({type(exc).__name__}: {exc}); its rows are "
            "skipped. Install it with `pip install -e '.[bench]'` and "
            "`pip install --no-deps videosdk-plugins-azure==1.0.30`"
        )
    return None


def floor_missing() -> str | None:
    """Why the floor client cannot run here (it needs orjson), or None when it can."""
    try:
        import orjson  # noqa: F401
    except ImportError:
        return (
            "orjson is not installed: the floor client's column is skipped "
            "(`pip install orjson`, or the bench extra)"
        )
    return None


def available_plugins() -> tuple[list[str], dict[str, str]]:
    """The plugins that can run, and a note for each that cannot."""
    notes: dict[str, str] = {}
    kinds = [OURS]
    missing = vendor_missing()
    if missing is None:
        kinds.append(VENDOR)
    else:
        notes[VENDOR] = missing
    return kinds, notes


def make_model(kind: str, endpoint: str) -> Any:
    """A model of either plugin (or the floor client) pointed at ``endpoint``, with its defaults."""
    if kind == OURS:
        from videosdk_plugins_azure import AzureVoiceLive

        return AzureVoiceLive(model="gpt-realtime", endpoint=endpoint, api_key=KEY)
    if kind == VENDOR:
        from videosdk.plugins.azure import AzureVoiceLive as VendorAzureVoiceLive

        return VendorAzureVoiceLive(model="gpt-realtime", endpoint=endpoint, api_key=KEY)
    if kind == FLOOR:
        from .floor import FloorClient

        return FloorClient(endpoint=endpoint, api_key=KEY, model="gpt-realtime")
    raise ValueError(f"unknown plugin {kind!r}")


def bench_agent() -> Any:
    """A minimal agent: no greeting, no tools, so only the caller starts turns."""
    from videosdk.agents import Agent

    class BenchAgent(Agent):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(instructions="You are a helpful assistant.")

        async def on_enter(self) -> None:
            return None

        async def on_exit(self) -> None:
            return None

    return BenchAgent()


def quiet_logging(log_file: Path | None) -> None:
    """Send every log record to ``log_file`` (or drop them), never to the terminal.

    The vendor plugin logs an ``error`` on every turn (it cancels a response that
    is not active) and prints tracebacks on close; none of that belongs in the
    table, but it is kept in the log for whoever wants to read it.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if log_file is None:
        root.addHandler(logging.NullHandler())
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {os.getpid()} %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # offline, the framework's analytics fail on every turn ("No session ID"), and the
    # metrics collector warns about every turn the vendor plugin leaves incomplete
    logging.getLogger("videosdk.agents.metrics.analytics").setLevel(logging.CRITICAL)
    logging.getLogger("videosdk.agents.metrics.metrics_collector").setLevel(logging.ERROR)


# -- signals ---------------------------------------------------------------------------


def speech(text: str, rate: int) -> np.ndarray:
    """Deterministic speech-like int16 mono audio (the emulator's synthetic voice)."""
    from videosdk_plugins_azure.emulator._speech import synthesize_fallback

    return synthesize_fallback(text, rate)


def to_meeting(mono48: np.ndarray) -> bytes:
    """Mono int16 at 48 kHz as the meeting delivers it: interleaved stereo, L = R."""
    return np.repeat(np.asarray(mono48, dtype="<i2"), 2).tobytes()


def line_noise(samples: int, dbfs: float, seed: int) -> np.ndarray:
    """Gaussian line noise at ``dbfs`` RMS (a live line is never digitally silent)."""
    rng = np.random.default_rng(seed)
    sigma = FULL_SCALE * 10 ** (dbfs / 20)
    return np.clip(np.rint(rng.normal(0.0, sigma, samples)), -32768, 32767).astype(np.int16)


def caller_audio(seconds: float, seed: int = 0) -> bytes:
    """``seconds`` of 48 kHz stereo meeting audio: the caller's question, then line noise."""
    n = round(seconds * WIRE_RATE)
    out = line_noise(n, -60.0, seed)
    said = speech(QUESTION, WIRE_RATE)[:n]
    out[: said.shape[0]] = said
    return to_meeting(out)


def voiced(pcm: np.ndarray, threshold_dbfs: float = -50.0) -> bool:
    """Whether a frame of int16 audio is above ``threshold_dbfs`` RMS."""
    if pcm.size == 0:
        return False
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return rms > 0 and 20 * math.log10(rms / FULL_SCALE) > threshold_dbfs


def frame_samples(frame: Any) -> np.ndarray:
    """An output ``av.AudioFrame`` as mono int16 (the agent track is mono)."""
    return np.asarray(frame.to_ndarray()).reshape(-1).astype(np.int16)


def b64_size(text: str) -> int:
    """Decoded size of a base64 string, without decoding it."""
    return len(text) * 3 // 4 - (2 if text.endswith("==") else 1 if text.endswith("=") else 0)


# -- statistics ----------------------------------------------------------------------------


def dist(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """A distribution summary: n, mean, p50, p90, p99, min, max."""
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return {"n": 0}

    def r(x: float) -> float:
        return round(float(x), digits)

    return {
        "n": int(arr.size),
        "mean": r(arr.mean()),
        "p50": r(np.percentile(arr, 50)),
        "p90": r(np.percentile(arr, 90)),
        "p99": r(np.percentile(arr, 99)),
        "min": r(arr.min()),
        "max": r(arr.max()),
    }


def machine() -> dict[str, Any]:
    """What ran the benchmark, for the record."""
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": {
            name: version(name)
            for name in (
                "videosdk-plugins-azure-voicelive",
                "videosdk-plugins-azure",
                "videosdk-agents",
                "azure-ai-voicelive",
                "aiohttp",
                "av",
                "numpy",
                "scipy",
            )
        },
    }
