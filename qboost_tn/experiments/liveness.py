"""Whether a run folder that says "running" is still running: its process, host and heartbeat.

A run killed outright (SIGKILL, a crash, a lost machine) cannot write its last status, so ``metrics.json``
stays at ``"running"``. While it runs, a run keeps ``run.lock`` in its folder - its process id, host and the
process's start time - and touches it every :data:`HEARTBEAT_SECONDS`; it removes the file when it ends. A
reader trusts "running" only when that process is alive (same host; a reused process id has another start
time) or, from another host, when the heartbeat is fresh; otherwise the run was killed.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

LOCK = "run.lock"
HEARTBEAT_SECONDS = 30.0
# A heartbeat older than this (seen from another host) means the run is gone.
STALE_SECONDS = 4 * HEARTBEAT_SECONDS


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int, start: int | None) -> bool:
    if pid <= 0:  # 0 and negative ids name process groups, not a process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    except (OSError, ValueError, OverflowError):
        return False
    now = _start_time(pid)
    return start is None or now is None or now == start


class Heartbeat:
    """Keeps ``run.lock`` in ``folder`` while a run runs; :meth:`stop` removes it."""

    def __init__(self, folder):
        self.path = Path(folder) / LOCK
        self.identity = {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _start_time(os.getpid())}
        self._stop = threading.Event()
        self._thread = None

    def start(self) -> "Heartbeat":
        from .._io import write_json

        write_json(self.path, self.identity)
        self._thread = threading.Thread(target=self._beat, name="qboost-tn heartbeat", daemon=True)
        self._thread.start()
        return self

    def _beat(self):
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                os.utime(self.path)
            except OSError:  # the folder went away: nothing left to vouch for
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.path.unlink()
        except OSError:
            pass


def run_status(folder, run: dict) -> tuple[str, str]:
    """``(status, why)`` of a run folder's ``run`` record: ``"killed"`` for a "running" run that is gone."""
    status = str(run.get("status", "unknown"))
    if status != "running":
        return status, ""
    lock = Path(folder) / LOCK
    try:
        info = json.loads(lock.read_text(encoding="utf-8"))
        beat = lock.stat().st_mtime
        pid, host = int(info["pid"]), str(info["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return "killed", f"its process left no {LOCK} (last update {run.get('updated', 'unknown')})"
    if host == socket.gethostname():
        if _alive(pid, info.get("process_start")):
            return "running", f"process {pid} is alive"
        return "killed", f"process {pid} on {host} is gone (last update {run.get('updated', 'unknown')})"
    age = time.time() - beat
    if age > STALE_SECONDS:
        return "killed", f"no heartbeat from process {pid} on {host} for {age:.0f} s"
    return "running", f"process {pid} on {host} beat {age:.0f} s ago"


__all__ = ["HEARTBEAT_SECONDS", "Heartbeat", "LOCK", "STALE_SECONDS", "run_status"]
