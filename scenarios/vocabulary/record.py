"""What a run saw, trial by trial: the material judges read and reports write."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from scenarios.executor.cgroups import PidsReading
from scenarios.executor.probe import Sample
from scenarios.vocabulary.results import (CurlResult, CurlsResult, KillResult, LoadResult, Missing, MissingResult,
                                          NetcatResult, ServerCodeResult, SnapshotResult, StopResult, TcpCounters)


# The last line of a traceback: "OSError: [Errno 24] Too many open files", "InterruptedError: ...".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")


@dataclass
class TrialRecord:
    key: str
    stage: str
    app: str | None
    image: str
    limits: dict
    uid: int | None = None
    container: str = ""
    confinement: dict = field(default_factory=dict)  # what the engine says it runs under (lab.lockdown)
    sleep: float | None = None
    python2_signals: bool = False
    server_file: str = ""  # a reader's own server file ran in this trial, not the lab's stage
    server_sha256: str = ""
    server_pid: int | None = None
    started: bool = False
    ready_s: float | None = None
    duration_s: float = 0.0
    planned: tuple = ()  # the keys of the trial's actions, in order
    samples: list = field(default_factory=list)  # Sample, in time order
    results: dict = field(default_factory=dict)  # action key -> its result (scenarios.vocabulary.results), or Missing
    baseline: SnapshotResult | None = None  # once ready
    final: SnapshotResult | None = None  # at the end, if the server still lives
    exit_code: int | None = None  # None: still running at the end
    logs: str = ""
    # stderr alone: a program in C buffers its stdout to a pipe and flushes it at exit, after the error
    # it wrote to stderr, so the merged log's last line is a count, not why it died.
    errors: str = ""
    error: str = ""
    pids: list = field(default_factory=list)  # PidsReading of the container's pids cgroup (Watch.PIDS)
    pids_source: str = ""  # where they were read: the host's cgroup files or the engine's stats API
    neighbour: TrialRecord | None = None  # the second server container of the trial, if it has one
    faults: list = field(default_factory=list)  # what failed in the harness's own probes: the run is ERROR

    # Small readings the judges share; each says what it means in the text's terms.

    @property
    def died(self) -> bool:
        return self.exit_code is not None

    @property
    def baseline_fds(self) -> int | None:
        return self.baseline.fd_count if self.baseline else None

    @property
    def final_fds(self) -> int | None:
        return self.final.fd_count if self.final else None

    def kept_sockets(self) -> int | None:
        """Sockets the server held at the end beyond those it started with: client connections whose
        descriptor it never closed. None when either listing is missing."""
        start = self.baseline.sockets if self.baseline else None
        end = self.final.sockets if self.final else None
        return None if start is None or end is None else end - start

    def tcp_since_baseline(self) -> TcpCounters | None:
        """The server's TCP counters from the baseline to the final snapshot, or to the last one an action
        took when the server died first (its network namespace goes with it); None when none read them."""
        if not (self.baseline and self.baseline.tcp):
            return None
        later = [self.final] + [r for r in reversed(list(self.results.values())) if isinstance(r, SnapshotResult)]
        for snapshot in later:
            if snapshot is not None and snapshot.tcp is not None:
                return snapshot.tcp.since(self.baseline.tcp)
        return None

    @property
    def reached_accept(self) -> int | None:
        """Connections whose handshake completed into the server's accept queue, so accept() got them."""
        tcp = self.tcp_since_baseline()
        return tcp.passive_opens if tcp else None

    @property
    def listen_overflows(self) -> int | None:
        """Handshakes the kernel dropped because the listen() backlog was full."""
        tcp = self.tcp_since_baseline()
        return tcp.listen_overflows if tcp else None

    @property
    def listen_drops(self) -> int | None:
        """Connections the listener dropped for any reason, the overflows included."""
        tcp = self.tcp_since_baseline()
        return tcp.listen_drops if tcp else None

    def pids_peak(self) -> PidsReading:
        """The highest count of the container's pids cgroup read from outside it."""
        if not self.pids:
            raise MissingResult(f"{self.key}: the pids cgroup was never read ({self.pids_source or 'no watch'})")
        return max(self.pids, key=lambda r: (r.current, r.t))

    def pids_refused(self) -> int | None:
        """Forks the pids cgroup refused by the last reading (None where the engine does not say)."""
        return self.pids[-1].refused if self.pids else None

    def peak(self, what: str) -> int:
        """The highest sampled "fds", "live" or "zombies"."""
        return max((getattr(s, what) or 0 for s in self.samples), default=0)

    def last_alive(self) -> Sample:
        """The last sample that saw the server alive: what it left behind."""
        for sample in reversed(self.samples):
            if sample.alive:
                return sample
        raise MissingResult(f"{self.key}: no sample saw the server alive ({self._why_missing()})")

    def _why_missing(self) -> str:
        if self.error:
            return self.error
        if not self.started:
            return "the server never started"
        if self.died:
            return f"the server had exited with status {self.exit_code}: {self.error_line() or 'no traceback'}"
        return "the action did not run"

    def result(self, key: str, kind: type):
        """The result an action of this trial stored under `key`, checked to be a `kind`."""
        if key not in self.planned:
            # Not the experiment going wrong: the judge asks for something the trial never does.
            raise KeyError(f"trial {self.key} has no action with key {key!r}; its actions: {self.planned}")
        value = self.results.get(key)
        if value is None:
            raise MissingResult(f"{self.key}: no {key!r} result: {self._why_missing()}")
        if isinstance(value, Missing):
            raise MissingResult(f"{self.key}: no {key!r} result: {value.reason}")
        if not isinstance(value, kind):
            raise TypeError(f"{self.key}: the {key!r} result is a {type(value).__name__}, not a {kind.__name__}")
        return value

    def curls(self, key: str = "curl") -> CurlsResult:
        return self.result(key, CurlsResult)

    def curl(self, key: str = "curl") -> CurlResult:
        """The first (often the only) curl of a Curl action."""
        curls = self.curls(key)
        try:
            return curls.first()
        except MissingResult as missing:
            raise MissingResult(f"{self.key}: {key}: {missing}") from None

    def load(self, key: str = "load") -> LoadResult:
        return self.result(key, LoadResult)

    def netcat(self, key: str = "netcat") -> NetcatResult:
        return self.result(key, NetcatResult)

    def snapshot(self, key: str) -> SnapshotResult:
        return self.result(key, SnapshotResult)

    def kill(self, key: str = "kill") -> KillResult:
        return self.result(key, KillResult)

    def server_code(self, key: str = "code") -> ServerCodeResult:
        return self.result(key, ServerCodeResult)

    def stop(self, key: str = "stop") -> StopResult:
        return self.result(key, StopResult)

    def partner(self) -> TrialRecord:
        """The trial's second server (Trial.neighbour)."""
        if self.neighbour is None:
            raise MissingResult(f"{self.key}: its neighbour server never ran: {self._why_missing()}")
        return self.neighbour

    def log_lines(self, text: str) -> int:
        """How many lines of the server's log contain `text`."""
        return sum(1 for line in self.logs.splitlines() if text in line)

    def traceback(self) -> str:
        """The server's last traceback, without the lines its children wrote into the middle of it."""
        lines = self.logs.splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
        if not starts:
            return ""
        kept = [lines[starts[-1]]]
        for line in lines[starts[-1] + 1:]:
            if line.startswith(" "):
                kept.append(line)
            elif EXCEPTION_LINE.match(line):
                kept.append(line)
                break
        return "\n".join(kept)

    def error_line(self) -> str:
        """The exception a Python server died of; for a server in another language that died, the last
        line it wrote to stderr, else to stdout ("accept: [Errno 24] Too many open files")."""
        lines = self.traceback().splitlines()
        if lines:
            return lines[-1]
        if self.died and (self.server_file and not self.server_file.endswith(".py")):
            written = [line for line in (self.errors or self.logs).splitlines() if line.strip()]
            return written[-1].strip() if written else ""
        return ""

    def out_of_descriptors(self) -> bool:
        """Whether it died of EMFILE, in whatever words its language has: Python's "[Errno 24] Too many
        open files", C's perror "accept: Too many open files", Go's "too many open files", "EMFILE"."""
        line = self.error_line()
        return "too many open files" in line.lower() or "EMFILE" in line

    def died_in(self, call: str) -> bool:
        """Whether the server's fatal error came from `call` ("accept", "fork"), whatever its language."""
        return call in self.traceback() or call in self.error_line()

    def counts_printed(self) -> list:
        """The integers 3d prints after each fork: len(clients), as in the text's screenshots."""
        return [int(line) for line in self.logs.splitlines() if re.fullmatch(r"\s*\d+\s*", line)]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["results"] = {key: dict(asdict(value), kind=type(value).__name__) for key, value in self.results.items()}
        out["logs_tail"] = "\n".join(self.logs.splitlines()[-60:])
        out["errors_tail"] = "\n".join(self.errors.splitlines()[-20:])
        del out["logs"], out["errors"]
        out["neighbour"] = self.neighbour.as_dict() if self.neighbour else None
        return out


@dataclass
class Observations:
    """All trials of one scenario run; a repeated trial keeps every repetition."""

    trials: dict = field(default_factory=dict)  # key -> [TrialRecord, ...]
    planned: tuple = ()  # the scenario's trial keys; empty: whatever was added

    def add(self, record: TrialRecord) -> None:
        self.trials.setdefault(record.key, []).append(record)

    def faults(self) -> list:
        """Every probe failure of every trial, neighbours included, as "TRIAL: what failed"."""
        found = []
        for runs in self.trials.values():
            for record in runs:
                for each in (record, record.neighbour):
                    if each is not None:
                        found += [f"{each.key}: {fault}" for fault in each.faults]
        return found

    def _check(self, key: str) -> None:
        if key not in (self.planned or tuple(self.trials)):
            raise KeyError(f"the scenario has no trial {key!r}; its trials: {self.planned or tuple(self.trials)}")

    def __getitem__(self, key: str) -> TrialRecord:
        return self.runs(key)[-1]

    def runs(self, key: str) -> list:
        """Every repetition of a trial; MissingResult when the run ended before it."""
        self._check(key)
        if not self.trials.get(key):
            raise MissingResult(f"trial {key} never ran: the run ended before it")
        return self.trials[key]
