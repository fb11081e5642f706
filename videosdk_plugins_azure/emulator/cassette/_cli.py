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
import math
import sys
from typing import Final

from .._loopback import add_listen_flags, run_command, serve_until_signalled
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
    add_listen_flags(record, tls=False)
    replay = commands.add_parser("replay", help="serve a cassette as a Voice Live endpoint")
    replay.add_argument("cassette", help="the cassette file to replay")
    replay.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay the recorded delays at SPEED x; 0 sends each event as soon as it is due",
    )
    add_listen_flags(replay)
    return p


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
    await serve_until_signalled(proxy)
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
    await serve_until_signalled(replay)
    if replay.mismatches:
        print(
            f"{len(replay.mismatches)} mismatch(es); first: {replay.mismatches[0]}", file=sys.stderr
        )
        return 1
    return 0


_RUNNERS: Final = {"record": _record, "replay": _replay}


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return run_command(_RUNNERS[args.command], args)
