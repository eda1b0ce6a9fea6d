"""samples.ndjson: what a run sees, one JSON object a line, written and flushed as it happens.

A page (watch/) follows a run by reading this file alone, and replays it the same way later, from the
CLI's reports, a check's or a CI artifact. Every line has "kind" and "wall" (Unix time):

    run      the scenario, its prediction and why, its trials and their limits (first line)
    trial    one server container listening: its label, the limit its chart climbs into, those in force
    sample   a trial's counters at t seconds since its container started
    event    something that happened to a trial at t ("server exited (1): OSError: [Errno 24] ...")
    load     a load client's tallies: requests answered, failures and connections so far (so_far: true,
             each second from its progress line while it runs), then its summary's when it ended
    death    the count a judge computed at the server's death (report.write, scenarios.judging.at_death)
    verdict  the run's verdict, with the prediction, what was observed and why (report.write: last line)
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

NAME = "samples.ndjson"


class SamplesFile:
    """Appends lines from any thread; a line is whole on disk before the next one starts."""

    def __init__(self, path: Path, mode: str = "w"):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.Lock()
        self.stream = path.open(mode, encoding="utf-8")

    def write(self, kind: str, **fields) -> None:
        line = json.dumps({"kind": kind, "wall": round(time.time(), 3), **fields}, default=str)
        with self.lock:
            if not self.stream.closed:
                self.stream.write(line + "\n")
                self.stream.flush()

    def close(self) -> None:
        with self.lock:
            self.stream.close()

    def __enter__(self) -> SamplesFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def sample_fields(sample, pids=None) -> dict:
    """A probe Sample (and the latest pids cgroup reading, if the trial reads it) as a line's fields."""
    fields = {"t": sample.t, "alive": sample.alive, "fds": sample.fds, "live": sample.live,
              "zombies": sample.zombies,
              # The server and its children: what RLIMIT_NPROC counts of the server's UID in its container.
              "processes": 1 + sample.live + sample.zombies if sample.alive else None}
    if pids is not None:
        fields.update(pids=pids.current, pids_limit=pids.limit)
    return fields


def load_fields(summary: dict | None) -> dict:
    """The tallies of a load client's summary: requests answered, failures, connections."""
    if not summary:
        return {"requests": None, "failures": None, "connected": None}
    return {"requests": summary.get("responses"), "connected": summary.get("connected"),
            "failures": sum((summary.get("failures") or {}).values())}
