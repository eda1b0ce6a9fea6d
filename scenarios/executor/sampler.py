"""Samples the server container on a background thread at a fixed period, for a bounded time."""
from __future__ import annotations

import threading
import time

from scenarios.executor.probe import END, STREAM_PID, Probe, Sample, parse_stream_sample


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
        self.arrived = threading.Condition(self.lock)
        self.process = None  # the probe's stream of samples, while it runs
        self.stream_pid = None  # its loop's PID inside the container
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sampler", daemon=True)

    def start(self) -> "Sampler":
        self.thread.start()
        return self

    def _loop(self) -> None:
        deadline = time.monotonic() + self.bound
        if self._follow_stream(deadline):
            return
        # The stream ended early (or never began): one probe per period, as long as the server lives.
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

    def _follow_stream(self, deadline: float) -> bool:
        """Read the probe's stream of samples; True when sampling is over (the server gone, or stopped)."""
        try:
            self.process = self.probe.stream(self.server_pid, self.period, int(self.bound / self.period) + 1)
        except OSError:
            return False
        block = []
        for line in self.process.stdout:
            if self.stop_event.is_set() or time.monotonic() >= deadline:
                return True
            if line.startswith(STREAM_PID) and self.stream_pid is None:
                self.stream_pid = int(line.split()[-1])
                continue
            if line.rstrip("\n") != END:
                block.append(line)
                continue
            text, block = "".join(block), []
            sample = parse_stream_sample(text, self.server_pid, time.monotonic() - self.t0)
            if sample is None:
                continue
            self._keep(sample)
            if not sample.alive:
                return True
        self.process.wait()
        return self.stop_event.is_set()

    def take(self) -> Sample:
        """One sample now; also used by actions that need a fresh look between periodic ones."""
        sample = self.probe.sample(self.server_pid, self.t0)
        self._keep(sample)
        return sample

    def next(self, timeout: float = 2.0) -> Sample:
        """The first sample taken from now on: the watch's next one, or a probe of its own when none comes."""
        with self.arrived:
            seen = len(self.samples)
            if self.thread.is_alive():
                end = time.monotonic() + timeout
                while len(self.samples) == seen and time.monotonic() < end:
                    self.arrived.wait(end - time.monotonic())
                if len(self.samples) > seen:
                    return self.samples[-1]
        return self.take()

    def _keep(self, sample: Sample) -> None:
        with self.arrived:
            self.samples.append(sample)
            self.arrived.notify_all()
        if self.on_sample:
            self.on_sample(sample)

    def latest(self) -> Sample | None:
        with self.lock:
            return self.samples[-1] if self.samples else None

    def alive(self) -> bool:
        latest = self.latest()
        return latest is None or latest.alive

    def stop(self, end_stream: bool = False) -> list:
        """Stop sampling; with `end_stream`, also the stream's loop in a container that stays."""
        self.stop_event.set()
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            if end_stream and self.stream_pid is not None:
                self.probe.end_stream(self.stream_pid)
        self.thread.join(timeout=10)
        with self.lock:
            return sorted(self.samples, key=lambda s: s.t)
