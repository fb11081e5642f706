"""``python -m videosdk_plugins_azure.emulator``: serve a local Voice Live endpoint.

Prints exactly one line, ``ready ws://HOST:PORT`` (``ready https://HOST:PORT`` with
``--tls-cert``), on stdout once it listens (so a parent process can read the port
when ``--port 0`` picked one), logs to stderr, and serves until SIGINT or SIGTERM.

It serves the service's rules by default, for any Voice Live client pointed at it:
replacing ``session.update`` and a model that takes ``--model-latency`` seconds to
answer. ``--session-semantics merge`` serves OpenAI-style clients that send partial
updates; ``--model-latency 0`` answers at once. The ``--*-timeout`` and size flags
bound what one client may ask of it (see ``ServerLimits``); the defaults suit any
real client.

``… record --upstream URL --out FILE`` and ``… replay FILE`` record a real session
through a proxy and serve it back offline (see :mod:`.cassette`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ..protocol.session import DEFAULT_SESSION_SEMANTICS, SESSION_SEMANTICS
from ._context import TTS_ENGINES
from ._latency import DEFAULT_LATENCY_JITTER, DEFAULT_MODEL_LATENCY, DEFAULT_SEED
from ._limits import ServerLimits
from ._loopback import add_listen_flags, run_command, serve_until_signalled
from ._scenario import Scenario
from ._server import VoiceLiveEmulator
from .cassette import _cli as cassette_cli

__all__ = ["build_emulator", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The command line, for ``--help`` and for tests that build an emulator from flags."""
    p = argparse.ArgumentParser(
        prog="python -m videosdk_plugins_azure.emulator",
        description="Serve a local Azure Voice Live emulator over WebSocket.",
        epilog="Cassettes: 'record --upstream URL --out FILE' records real sessions through "
        "a proxy, 'replay FILE' serves one back (each has its own --help).",
    )
    p.add_argument(
        "--api-key",
        default=os.environ.get("VOICELIVE_EMULATOR_API_KEY"),
        help="the accepted api-key (env VOICELIVE_EMULATOR_API_KEY); default: any non-empty key",
    )
    p.add_argument("--token", default=None, help="the accepted bearer token")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="pace output audio at SPEED x real time; 0 sends it unpaced",
    )
    p.add_argument("--chunk-ms", type=int, default=100, help="milliseconds of audio per delta")
    p.add_argument("--tts", choices=sorted(TTS_ENGINES), default="auto")
    p.add_argument("--scenario", help='a JSON file: {"turns": [{"user", "reply", "calls"}]}')
    _add_service_rules(p)
    _add_limits(p)
    add_listen_flags(p)
    return p


def _add_service_rules(p: argparse.ArgumentParser) -> None:
    """The flags that choose how closely the emulator follows the service (§9)."""
    p.add_argument(
        "--session-semantics",
        choices=sorted(SESSION_SEMANTICS),
        default=DEFAULT_SESSION_SEMANTICS,
        help="replace: each session.update is the whole session (Voice Live, the default); "
        "merge: only the keys sent change (OpenAI Realtime clients)",
    )
    p.add_argument(
        "--model-latency",
        type=float,
        default=DEFAULT_MODEL_LATENCY,
        metavar="SECONDS",
        help=f"wall-clock think time before a response's first output, whatever --speed "
        f"is (default {DEFAULT_MODEL_LATENCY}); 0 answers at once",
    )
    p.add_argument(
        "--latency-jitter",
        type=float,
        default=DEFAULT_LATENCY_JITTER,
        metavar="SECONDS",
        help=f"each latency is --model-latency +/- up to this (default {DEFAULT_LATENCY_JITTER})",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seeds the latency jitter (reproducible)"
    )


_LIMIT_FLAGS = {
    "handshake_timeout": (float, "seconds to finish the HTTP upgrade request"),
    "setup_timeout": (float, "seconds from the upgrade to the first valid session.update"),
    "idle_timeout": (float, "seconds a configured session may send nothing"),
    "max_frame_bytes": (int, "longest client frame read (longer: an error event)"),
    "max_reply_chars": (int, "characters of one reply (longer: cut, response incomplete)"),
    "speech_workers": (int, "threads that synthesize speech"),
    "max_closed_records": (int, "records of closed connections kept"),
}


def _add_limits(p: argparse.ArgumentParser) -> None:
    """One flag per :class:`ServerLimits` field a server operator tunes; 0 disables a timeout."""
    defaults = ServerLimits()
    for name, (kind, text) in _LIMIT_FLAGS.items():
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=kind,
            default=getattr(defaults, name),
            help=f"{text} (default {getattr(defaults, name)})",
        )
    p.add_argument(
        "--keep-records", action="store_true", help="keep every event of every connection"
    )


def _limits(args: argparse.Namespace) -> ServerLimits:
    values = {name: getattr(args, name) for name in _LIMIT_FLAGS}
    for name, value in values.items():
        if name.endswith("_timeout") and value == 0:
            values[name] = math.inf
    return ServerLimits(**values)


def build_emulator(args: argparse.Namespace) -> VoiceLiveEmulator:
    """The emulator the parsed command line describes (not started)."""
    return VoiceLiveEmulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        token=args.token,
        scenario=Scenario.from_file(args.scenario) if args.scenario else None,
        speed=math.inf if args.speed == 0 else args.speed,
        chunk_ms=args.chunk_ms,
        tts=args.tts,
        allow_remote=args.allow_remote,
        session_semantics=args.session_semantics,
        model_latency=args.model_latency,
        latency_jitter=args.latency_jitter,
        seed=args.seed,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        limits=_limits(args),
        keep_records=args.keep_records,
    )


async def _serve(args: argparse.Namespace) -> int:
    await serve_until_signalled(build_emulator(args))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in cassette_cli.COMMANDS:
        return cassette_cli.main(argv)
    return run_command(_serve, parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
