"""A container's pids cgroup read from outside: once it is full, docker exec cannot start a probe inside.

The host's cgroup files come first (cgroup v1's pids hierarchy or v2's unified one, wherever
/proc/self/mountinfo says they are mounted); where the engine runs in a VM (Docker Desktop) or they
are not readable, the engine's stats API (`pids_stats`) says the same with less detail.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

UNIFIED = ""  # the key of cgroup v2's single hierarchy, as /proc/PID/cgroup writes it ("0::/path")


@dataclass(frozen=True)
class PidsReading:
    t: float
    current: int
    limit: int | None  # None: no limit ("max")
    refused: int | None = None  # forks the cgroup refused so far (pids.events "max"); None: unknown

    def as_dict(self) -> dict:
        return asdict(self)


def parse_proc_cgroup(text: str) -> dict:
    """/proc/PID/cgroup -> {controller: path}; cgroup v2's line ("0::/path") under UNIFIED."""
    found = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        controllers = parts[1].split(",") if parts[1] else [UNIFIED]
        for controller in controllers:
            found[controller] = parts[2]
    return found


def parse_mountinfo(text: str) -> dict:
    """/proc/self/mountinfo -> {"pids": (mount point, root) of v1's pids hierarchy, UNIFIED: v2's}."""
    found = {}
    for line in text.splitlines():
        head, sep, tail = line.partition(" - ")
        fields, after = head.split(), tail.split()
        if not sep or len(fields) < 5 or len(after) < 3:
            continue
        root, point = fields[3], fields[4]
        fstype, options = after[0], after[2].split(",")
        if fstype == "cgroup2":
            found.setdefault(UNIFIED, (point, root))
        elif fstype == "cgroup" and "pids" in options:
            found.setdefault("pids", (point, root))
    return found


def pids_dir(proc_cgroup: str, mountinfo: str) -> Path | None:
    """The folder holding a process's pids.current and pids.max, on cgroup v1 or v2; None when unmounted.

    v1 wins where both are mounted (a hybrid host): there the pids controller is only in v1.
    """
    paths, mounts = parse_proc_cgroup(proc_cgroup), parse_mountinfo(mountinfo)
    for controller in ("pids", UNIFIED):
        if controller in paths and controller in mounts:
            point, root = mounts[controller]
            path = paths[controller]
            if root != "/" and path.startswith(root):
                path = path[len(root):]
            return Path(point) / path.lstrip("/")
    return None


def parse_limit(text: str) -> int | None:
    """pids.max: a number, or "max" for none."""
    text = text.strip()
    return None if text == "max" else int(text)


def parse_events(text: str) -> int | None:
    """pids.events ("max 3"): how many forks the limit refused."""
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "max" and value.strip().isdigit():
            return int(value)
    return None


def read_dir(folder: Path, t: float) -> PidsReading:
    """One reading of the files; OSError when the cgroup is gone (its container ended)."""
    events = folder / "pids.events"
    return PidsReading(t=round(t, 3), current=int((folder / "pids.current").read_text()),
                       limit=parse_limit((folder / "pids.max").read_text()),
                       refused=parse_events(events.read_text()) if events.exists() else None)


# Above this, the stats API's limit means "none": the engine reports the kernel's maximum there.
_NO_LIMIT = 1 << 62


def from_stats(stats: dict, t: float) -> PidsReading | None:
    """The stats API's pids_stats ({"current": N, "limit": L}); None when it has no count (not running)."""
    pids = stats.get("pids_stats") or {}
    if "current" not in pids:
        return None
    limit = pids.get("limit")
    return PidsReading(t=round(t, 3), current=int(pids["current"]),
                       limit=int(limit) if limit and int(limit) < _NO_LIMIT else None)


def locate(container) -> Path | None:
    """The container's pids folder on this host, if it is readable here."""
    try:
        host_pid = container.attrs["State"]["Pid"]
        folder = pids_dir(Path(f"/proc/{host_pid}/cgroup").read_text(), Path("/proc/self/mountinfo").read_text())
    except (OSError, KeyError):
        return None
    return folder if folder is not None and (folder / "pids.current").exists() else None


class PidsWatch:
    """Reads a container's pids cgroup every `period` on a thread, until the container ends or `bound`."""

    def __init__(self, container, t0: float, period: float = 0.05, bound: float = 600.0):
        self.container = container
        self.t0 = t0
        self.period = period
        self.bound = bound
        self.readings: list = []
        self.fault = ""  # why the watch stopped early, when it was not the container ending
        self.folder = locate(container)
        self.source = f"host cgroup files ({self.folder})" if self.folder else "the engine's stats API"
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="pids-watch", daemon=True)

    def start(self) -> PidsWatch:
        self.thread.start()
        return self

    def read(self) -> PidsReading | None:
        """One reading; None once the container has ended. Any other failure is raised."""
        now = time.monotonic() - self.t0
        if self.folder is not None:
            try:
                return read_dir(self.folder, now)
            except OSError:
                if not self.folder.exists():  # the engine removes the cgroup when the container ends
                    return None
                raise
        try:
            return from_stats(self.container.stats(stream=False, one_shot=True), now)
        except Exception:
            # The engine's answer for a container that is gone varies by version: ask it plainly.
            if not self._running():
                return None
            raise

    def _running(self) -> bool:
        try:
            self.container.reload()
        except Exception:
            return False
        return self.container.status not in ("exited", "dead", "removing")

    def _loop(self) -> None:
        deadline = time.monotonic() + self.bound
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            try:
                reading = self.read()
            except Exception as exc:  # recorded: the run ends in ERROR, never in a silently shorter watch
                self.fault = (f"reading the pids cgroup from {self.source} failed at "
                              f"{time.monotonic() - self.t0:.2f}s: {type(exc).__name__}: {exc}")
                return
            if reading is None:
                return
            self.readings.append(reading)
            self.stop_event.wait(self.period)

    def stop(self) -> list:
        self.stop_event.set()
        self.thread.join(timeout=10)
        return list(self.readings)
