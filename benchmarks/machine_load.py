"""Who else used the machine while a window was measured.

A loop-lag or CPU window taken while another process (a test run, a build) held a
core measures that process as much as the client. So each window reads the CPU
time of every process at its start and at its end (from ``/proc``, a few
milliseconds for a few hundred processes, outside the timed part). The benchmark's
own processes are left out: this one, its descendants (the emulator) and the
runner that started it; so are kernel threads, which mostly carry our own loopback
traffic and are reported apart. What remains is foreign load, in cores.

A process that exits inside the window is not seen (its last CPU is lost), so a
storm of short-lived processes reads low; the machine-wide busy share from
``/proc/stat`` is kept beside it as a cross-check.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Snapshot", "foreign_load", "snapshot"]

_PROC = Path("/proc")
_KTHREADD = 2


@dataclass(frozen=True)
class Process:
    """One process as ``/proc/PID/stat`` shows it."""

    name: str
    ppid: int
    cpu_s: float


@dataclass(frozen=True)
class Snapshot:
    """Every process's CPU seconds, and the machine's busy seconds, at one moment."""

    t: float
    processes: dict[int, Process]
    machine_busy_s: float
    available: bool


def _read_stat(pid: int, ticks: int) -> Process | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:  # gone between the listing and the read
        return None
    head, _, tail = text.rpartition(")")
    fields = tail.split()
    name = head.partition("(")[2]
    return Process(name, int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)


def _machine_busy(ticks: int) -> float:
    try:
        line = (_PROC / "stat").read_text().split("\n", 1)[0]
    except OSError:
        return 0.0
    values = [int(x) for x in line.split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / ticks


def snapshot() -> Snapshot:
    """The CPU seconds of every process now (empty where there is no ``/proc``)."""
    if not (_PROC / "self" / "stat").exists():
        return Snapshot(time.monotonic(), {}, 0.0, available=False)
    ticks = os.sysconf("SC_CLK_TCK")
    processes: dict[int, Process] = {}
    for entry in os.scandir(_PROC):
        if entry.name.isdigit():
            process = _read_stat(int(entry.name), ticks)
            if process is not None:
                processes[int(entry.name)] = process
    return Snapshot(time.monotonic(), processes, _machine_busy(ticks), available=True)


def _own(processes: dict[int, Process]) -> set[int]:
    """This process, its descendants and its parent (the runner)."""
    children: dict[int, list[int]] = {}
    for pid, process in processes.items():
        children.setdefault(process.ppid, []).append(pid)
    own = {os.getpid(), os.getppid()}
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in own:
                own.add(child)
                todo.append(child)
    return own


def _kernel(pid: int, process: Process) -> bool:
    return pid == _KTHREADD or process.ppid == _KTHREADD


def foreign_load(before: Snapshot, after: Snapshot, top: int = 3) -> dict[str, Any]:
    """Cores used by other processes between two snapshots, and the busiest of them."""
    elapsed = max(after.t - before.t, 1e-9)
    if not (before.available and after.available):
        return {"foreign_cpu_share": 0.0, "foreign_measured": False}
    own = _own(after.processes)
    foreign: dict[str, float] = {}
    kernel = 0.0
    for pid, process in after.processes.items():
        if pid in own:
            continue
        earlier = before.processes.get(pid)
        used = process.cpu_s - (earlier.cpu_s if earlier is not None else 0.0)
        if earlier is None and process.cpu_s > elapsed * (os.cpu_count() or 1):
            continue  # more than the window holds: not a process born inside it
        if _kernel(pid, process):
            kernel += used
        elif used > 0:
            foreign[process.name] = foreign.get(process.name, 0.0) + used
    busiest = sorted(foreign.items(), key=lambda kv: -kv[1])[:top]
    return {
        "foreign_cpu_share": round(sum(foreign.values()) / elapsed, 3),
        "foreign_top": [[name, round(used / elapsed, 3)] for name, used in busiest],
        "kernel_cpu_share": round(kernel / elapsed, 3),
        "machine_busy_share": round((after.machine_busy_s - before.machine_busy_s) / elapsed, 3),
        "foreign_measured": True,
    }
