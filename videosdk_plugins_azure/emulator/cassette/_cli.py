"""``python -m videosdk_plugins_azure.emulator record|replay``: cassettes from the shell.

Both print exactly one line on stdout once they listen, ``ready ws://HOST:PORT``
(as the emulator does, so a parent process reads the port), log to stderr, and
serve until SIGINT or SIGTERM. ``record`` then finishes the cassette and says on
stderr how many sessions it holds; ``replay`` exits 1 if any client diverged from
the recording (each mismatch was logged as it happened), so a CI step can run a
client against it and check the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
import sys
from typing import Final

from ._proxy import RecordingProxy
from ._replay import CassetteReplay

__all__ = ["COMMANDS", "main", "parser"]

COMMANDS: Final = frozenset({"record", "replay"})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m videosdk_plugins_azure.emulator",
        description="Record Voice Live sessions to a cassette, or replay one offline.",
    )
    commands = p.add_subparsers(dest="command", required=True)
    record = commands.add_parser(
        "record", help="a recording proxy in front of a Voice Live endpoint"
    )
    record.add_argument(
        "--upstream",
        required=True,
        help="the service endpoint, e.g. https://<resource>.services.ai.azure.com",
    )
    record.add_argument("--out", required=True, metavar="CASSETTE", help="the file to write")
    record.add_argument(
        "--input-audio",
        choices=("drop", "store"),
        default="drop",
        help="keep the caller's audio in the cassette (default: drop it, keep its length)",
    )
    record.add_argument("--overwrite", action="store_true", help="replace CASSETTE if it exists")
    record.add_argument(
        "--allow-insecure-upstream",
        action="store_true",
        help="allow a plain-text (http/ws) upstream off loopback",
    )
    _common(record)
    replay = commands.add_parser("replay", help="serve a cassette as a Voice Live endpoint")
    replay.add_argument("cassette", help="the cassette file to replay")
    replay.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay the recorded delays at SPEED x; 0 sends each event as soon as it is due",
    )
    replay.add_argument("--tls-cert", metavar="PATH", help="PEM certificate: serve wss://")
    replay.add_argument("--tls-key", metavar="PATH", help="PEM private key of --tls-cert")
    _common(replay)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    p.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback interface"
    )
    p.add_argument("--log-level", default="WARNING")


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _record(args: argparse.Namespace) -> int:
    proxy = RecordingProxy(
        args.upstream,
        args.out,
        input_audio=args.input_audio,
        overwrite=args.overwrite,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        allow_insecure_upstream=args.allow_insecure_upstream,
    )
    async with proxy:
        print(f"ready {proxy.endpoint}", flush=True)
        await _until_signalled()
    print(f"recorded {proxy.sessions} session(s) to {args.out}", file=sys.stderr)
    return 0


async def _replay(args: argparse.Namespace) -> int:
    replay = CassetteReplay(
        args.cassette,
        host=args.host,
        port=args.port,
        speed=math.inf if args.speed == 0 else args.speed,
        raise_on_mismatch=False,
        allow_remote=args.allow_remote,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
    )
    async with replay:
        print(f"ready {replay.endpoint}", flush=True)
        await _until_signalled()
    if replay.mismatches:
        print(
            f"{len(replay.mismatches)} mismatch(es); first: {replay.mismatches[0]}", file=sys.stderr
        )
        return 1
    return 0


_RUNNERS: Final = {"record": _record, "replay": _replay}


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        return asyncio.run(_RUNNERS[args.command](args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
