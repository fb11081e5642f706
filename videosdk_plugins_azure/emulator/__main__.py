"""``python -m videosdk_plugins_azure.emulator``: serve a local Voice Live endpoint.

Prints exactly one line, ``ready ws://HOST:PORT``, on stdout once it listens (so a
parent process can read the port when ``--port 0`` picked one), logs to stderr,
and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import signal
import sys

from ._scenario import Scenario
from ._server import VoiceLiveEmulator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m videosdk_plugins_azure.emulator",
        description="Serve a local Azure Voice Live emulator over WebSocket.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
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
    p.add_argument("--tts", choices=["auto", "espeak", "synthetic"], default="auto")
    p.add_argument("--scenario", help='a JSON file: {"turns": [{"user", "reply", "calls"}]}')
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback interface (anyone who reaches it is served)",
    )
    p.add_argument("--log-level", default="WARNING")
    return p


async def _serve(args: argparse.Namespace) -> None:
    emulator = VoiceLiveEmulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        token=args.token,
        scenario=Scenario.from_file(args.scenario) if args.scenario else None,
        speed=math.inf if args.speed == 0 else args.speed,
        chunk_ms=args.chunk_ms,
        tts=args.tts,
        allow_remote=args.allow_remote,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(f"ready {emulator.endpoint}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        asyncio.run(_serve(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
