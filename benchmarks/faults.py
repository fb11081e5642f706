"""Faults for the load and soak runs: an emulator process that takes orders, and a schedule.

The emulator's connection controls (``drop``, ``close(code)``, ``expire``) are objects
in the emulator's process, and the load runs the emulator in a process of its own.
So ``python -m benchmarks.faults`` serves the very emulator ``python -m
videosdk_plugins_azure.emulator`` serves (same flags, built by its ``build_emulator``)
and also reads one order a line on stdin::

    <seq> <tag> <kind>      kind: drop | close:<code> | expire | kill

It acts on the newest connection of the call whose instructions carry ``[<tag>]``
(each driven call tags its agent's instructions, so the emulator can tell 50 calls
apart; each connection's owner is noted as its configuring ``session.update``
arrives, because the emulator's records are bounded) and answers
``fault <seq> <outcome> <connection index>`` on stdout, where the outcome is
``ok``, ``closed`` (that connection was already gone) or ``none``. ``kill`` is for
the harness's own test: it makes the emulator refuse every handshake from then on
(HTTP 403) and drops the call, so the call cannot come back.

``--warm-replies`` (added when the emulator runs faster than real time) synthesizes
the replies the emulator gives to untranscribed audio ("You said: (2.9 seconds of
speech)", 0.0 to 9.9 s) before it reports ready. A new reply costs about 45 ms of
wall time to synthesize, which at x20 would look like a 0.9 s stall before the
answer, long enough for the soak's scripted barge-in to talk over an answer that
has not started. After a fault the re-sent audio often measures differently, so
without this the soak would count the emulator's synthesis as a lost turn.

:class:`FaultyEmulator` is the load process's side: it starts the wrapper and sends
the orders. The seeded schedules are :func:`load_schedule` and :func:`soak_schedule`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .processes import EmulatorProcess
from .turns import CallLog, FaultRecord

__all__ = [
    "KINDS",
    "Fault",
    "FaultyEmulator",
    "inject_all",
    "load_schedule",
    "main",
    "soak_schedule",
    "tag_of",
]

KINDS = ("drop", "close:1000", "close:1001", "close:1006", "close:1011", "expire")
"""A socket vanishing (no close frame), a close with each code, the service's expiry."""


def tag_of(index: int) -> str:
    return f"call-{index:03d}"


@dataclass(frozen=True)
class Fault:
    at: float
    """Seconds from the start of the run (simulated seconds in the soak)."""
    call: int
    kind: str


def load_schedule(seed: int, calls: int, seconds: float, per_call: int = 1) -> list[Fault]:
    """``per_call`` faults for each call, at seeded moments in the first 10-60 % of the run.

    Each kind is given to about the same number of calls (shuffled, then dealt), so all
    six are exercised in one run; the rest of the run shows whether the call came back.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    kinds = [KINDS[i % len(KINDS)] for i in range(calls * per_call)]
    rng.shuffle(kinds)
    faults = [
        Fault(round(rng.uniform(0.1, 0.6) * seconds, 3), call, kinds.pop())
        for call in range(calls)
        for _ in range(per_call)
    ]
    return sorted(faults, key=lambda f: f.at)


def soak_schedule(seed: int, sim_seconds: float, gap: tuple[float, float]) -> list[Fault]:
    """Faults on call 0 every ``gap`` (min, max) simulated seconds, kinds drawn at random.

    The last one falls at least one minimum gap before the end, so the call is seen
    answering after it. A soak too short for that still gets one, half-way through.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    faults: list[Fault] = []
    at = rng.uniform(*gap)
    while at < sim_seconds - gap[0]:
        faults.append(Fault(round(at, 3), 0, rng.choice(KINDS)))
        at += rng.uniform(*gap)
    return faults or [Fault(round(sim_seconds / 2, 3), 0, rng.choice(KINDS))]


class FaultyEmulator(EmulatorProcess):
    """The emulator in its own process, with a stdin line to order faults through."""

    module = "benchmarks.faults"

    def command(self) -> list[str]:
        return super().command() + (["--warm-replies"] if self.speed > 1 else [])

    def __init__(self, speed: float, chunk_ms: int = 100) -> None:
        super().__init__(speed, chunk_ms)
        self._seq = 0
        self._acks: dict[int, asyncio.Future[tuple[str, int]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FaultyEmulator:
        await super().__aenter__()
        self._reader = asyncio.get_running_loop().create_task(self._read_acks())
        return self

    async def _read_acks(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            parts = raw.decode().split()
            if len(parts) == 4 and parts[0] == "fault":
                future = self._acks.pop(int(parts[1]), None)
                if future is not None and not future.done():
                    future.set_result((parts[2], int(parts[3])))

    async def inject(self, tag: str, kind: str) -> tuple[str, int]:
        """Order one fault; returns (outcome, connection index) once it was carried out."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        self._seq += 1
        future = asyncio.get_running_loop().create_future()
        self._acks[self._seq] = future
        self.proc.stdin.write(f"{self._seq} {tag} {kind}\n".encode())
        await self.proc.stdin.drain()
        return await asyncio.wait_for(future, 10)

    async def stop(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await super().stop()


async def inject_all(
    emulator: FaultyEmulator, faults: Sequence[Fault], logs: list[CallLog], scale: float = 1.0
) -> None:
    """Order each fault at its moment (``at`` is simulated seconds at ``scale``)."""
    start = time.monotonic()
    for fault in faults:
        await asyncio.sleep(max(0.0, start + fault.at / scale - time.monotonic()))
        log = logs[fault.call]
        ordered = time.monotonic()
        outcome, connection = await emulator.inject(log.tag, fault.kind)
        log.faults.append(FaultRecord(fault.kind, ordered, time.monotonic(), outcome, connection))


# -- the emulator process's side ---------------------------------------------------------


def _owner(connection: Any) -> str:
    """The tag in the instructions of the connection's first ``session.update``, or ''."""
    for event in connection.events("session.update"):
        text = str((event.get("session") or {}).get("instructions") or "")
        start = text.rfind("[call-")
        end = text.find("]", start)
        return text[start + 1 : end] if 0 <= start < end else ""
    return ""


async def carry_out(emulator: Any, owners: dict[int, str], tag: str, kind: str) -> tuple[str, int]:
    """Do ``kind`` to the newest connection of ``tag``; (outcome, its index or -1)."""
    for connection in reversed(emulator.connections):
        if connection.index not in owners:
            owner = _owner(connection)
            if not owner:
                continue  # not configured yet: its owner is unknown
            owners[connection.index] = owner
        if owners[connection.index] != tag:
            continue
        if kind == "kill":
            emulator.faults.reject_auth(403)
            kind = "drop"
        try:
            if kind == "drop":
                await connection.drop()
            elif kind == "expire":
                await connection.expire()
            else:
                await connection.close(int(kind.partition(":")[2]))
        except ConnectionError:
            return "closed", connection.index
        return "ok", connection.index
    return "none", -1


async def _warm_replies() -> None:
    from videosdk_plugins_azure.emulator import synthesize

    for tenths in range(100):
        await synthesize(
            f"You said: ({tenths / 10:.1f} seconds of speech)", 24000, engine="synthetic"
        )


async def learn_owners(emulator: Any, owners: dict[int, str]) -> None:
    """Note each new connection's owner as soon as its first ``session.update`` is in.

    The emulator's records are bounded (a long call's oldest events are dropped), so
    the owner is read while the configuring update is still there, not when a
    fault is ordered minutes later.
    """

    async def learn(connection: Any) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError):
            await connection.wait_for("session.update", timeout=60)
            if owner := _owner(connection):
                owners[connection.index] = owner

    pending: set[asyncio.Task[None]] = set()
    count = 0
    while True:
        count += 1
        try:
            connection = await emulator.wait_for_connection(count, timeout=86_400)
        except LookupError:
            continue  # closed and forgotten already: nothing left to fault
        task = asyncio.ensure_future(learn(connection))
        pending.add(task)
        task.add_done_callback(pending.discard)


async def _serve(args: Any, warm: bool) -> None:
    import signal

    from videosdk_plugins_azure.emulator.__main__ import build_emulator

    emulator = build_emulator(args)
    if warm:
        await _warm_replies()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    orders = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(orders), sys.stdin)
    owners: dict[int, str] = {}

    async def obey() -> None:
        async for raw in orders:
            seq, tag, kind = raw.decode().split()
            outcome, index = await carry_out(emulator, owners, tag, kind)
            print(f"fault {seq} {outcome} {index}", flush=True)
        stop.set()  # the load process is gone

    async with emulator:
        print(f"ready {emulator.endpoint}", flush=True)
        workers = [loop.create_task(obey()), loop.create_task(learn_owners(emulator, owners))]
        await stop.wait()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    import logging

    from videosdk_plugins_azure.emulator.__main__ import parser

    argv = list(sys.argv[1:] if argv is None else argv)
    warm = "--warm-replies" in argv
    args = parser().parse_args([a for a in argv if a != "--warm-replies"])
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    asyncio.run(_serve(args, warm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
