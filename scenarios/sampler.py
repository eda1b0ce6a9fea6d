"""Samples the server container on a background thread at a fixed period, for a bounded time."""
from __future__ import annotations

import threading
import time

from scenarios.probe import Probe, Sample


class Sampler:
    def __init__(self, probe: Probe, server_pid: int, t0: float, period: float = 0.25,
                 bound: float = 600.0, on_sample=None):
        self.probe = probe
        self.server_pid = server_pid
        self.t0 = t0
        self.period = period
        self.bound = bound
        self.on_sample = on_sample
        self.samples: list = []
        self.fault = ""  # why sampling stopped early, when it was not the server ending
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sampler", daemon=True)

    def start(self) -> "Sampler":
        self.thread.start()
        return self

    def _loop(self) -> None:
        deadline = time.monotonic() + self.bound
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                sample = self.take()
            except Exception as exc:  # recorded: the run ends in ERROR, never in a silently shorter watch
                self.fault = f"the sampler's probe failed at {started - self.t0:.2f}s: {type(exc).__name__}: {exc}"
                return
            if not sample.alive:
                return  # the server is gone (its container exits with it); the last samples stay
            self.stop_event.wait(max(0.0, self.period - (time.monotonic() - started)))

    def take(self) -> Sample:
        """One sample now; also used by actions that need a fresh look between periodic ones."""
        sample = self.probe.sample(self.server_pid, self.t0)
        with self.lock:
            self.samples.append(sample)
        if self.on_sample:
            self.on_sample(sample)
        return sample

    def latest(self) -> Sample | None:
        with self.lock:
            return self.samples[-1] if self.samples else None

    def alive(self) -> bool:
        latest = self.latest()
        return latest is None or latest.alive

    def stop(self) -> list:
        self.stop_event.set()
        self.thread.join(timeout=10)
        with self.lock:
            return sorted(self.samples, key=lambda s: s.t)
