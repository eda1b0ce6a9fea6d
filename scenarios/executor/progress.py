"""Live counters on the terminal while a scenario runs: a learner sees the count climb, not silence."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

BESIDE_EVERY = 10.0  # seconds between two counter lines of a run beside others on one terminal


class Progress:
    def __init__(self, stream=None, every: float = 2.0):
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = every  # without a terminal, one counter line this often instead of redrawing
        self.lock = threading.Lock()
        self.status_shown = False
        self.last_line = 0.0
        self.prefix = ""
        self.owned = False  # a log file of its own, closed with it

    def _clear(self):
        if self.status_shown:
            self.stream.write("\r\033[K")
            self.status_shown = False

    def say(self, message: str) -> None:
        with self.lock:
            self._clear()
            self.stream.write(f"{self.prefix}{message}\n")
            self.stream.flush()

    def counters(self, label: str, sample) -> None:
        fds = "-" if sample.fds is None else sample.fds
        state = "running" if sample.alive else "EXITED"
        line = (f"{self.prefix}{label:<14} t={sample.t:6.1f}s  open fds={fds:<5} live children={sample.live:<4} "
                f"zombies={sample.zombies:<4} server {state}")
        with self.lock:
            if self.tty:
                self.stream.write("\r\033[K" + line)
                self.status_shown = True
            elif time.monotonic() - self.last_line >= self.every or not sample.alive:
                self.stream.write(line + "\n")
                self.last_line = time.monotonic()
            self.stream.flush()

    def alongside(self, log: Path | None = None) -> "Progress":
        """A view for one of several runs side by side: into its own log file, or onto this stream under
        the same lock with counters as a line now and then (one redrawn line cannot show several runs)."""
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            view = Progress(open(log, "a", encoding="utf-8"), self.every)
            view.owned = True
            return view
        view = Progress(self.stream, BESIDE_EVERY)
        view.lock, view.tty = self.lock, False
        return view

    def close(self) -> None:
        if self.owned:
            self.stream.close()

    def done(self) -> None:
        with self.lock:
            if self.status_shown:
                self.stream.write("\n")
                self.status_shown = False
            self.stream.flush()

