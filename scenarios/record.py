"""What a run saw, trial by trial: the material judges read and reports write."""
from __future__ import annotations

import re
from dataclasses import dataclass, field


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
    sleep: float | None = None
    python2_signals: bool = False
    server_pid: int | None = None
    started: bool = False
    ready_s: float | None = None
    duration_s: float = 0.0
    samples: list = field(default_factory=list)  # Sample.as_dict()
    results: dict = field(default_factory=dict)  # action key -> result dict
    baseline: dict = field(default_factory=dict)  # snapshot once ready
    final: dict = field(default_factory=dict)  # snapshot at the end, if the server still lives
    exit_code: int | None = None  # None: still running at the end
    logs: str = ""
    error: str = ""

    # Small readings the judges share; each says what it means in the text's terms.

    @property
    def died(self) -> bool:
        return self.exit_code is not None

    @property
    def baseline_fds(self) -> int | None:
        return self.baseline.get("fd_count")

    @property
    def final_fds(self) -> int | None:
        return self.final.get("fd_count")

    def peak(self, what: str) -> int:
        return max((s[what] or 0 for s in self.samples), default=0)

    def last_alive_sample(self) -> dict:
        alive = [s for s in self.samples if s["alive"]]
        return alive[-1] if alive else {}

    def last_sample(self) -> dict:
        return self.samples[-1] if self.samples else {}

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
        lines = self.traceback().splitlines()
        return lines[-1] if lines else ""

    def counts_printed(self) -> list:
        """The integers 3d prints after each fork: len(clients), as in the text's screenshots."""
        return [int(line) for line in self.logs.splitlines() if re.fullmatch(r"\s*\d+\s*", line)]

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["logs_tail"] = "\n".join(self.logs.splitlines()[-60:])
        del out["logs"]
        return out


@dataclass
class Observations:
    """All trials of one scenario run; a repeated trial keeps every repetition."""

    trials: dict = field(default_factory=dict)  # key -> [TrialRecord, ...]

    def add(self, record: TrialRecord) -> None:
        self.trials.setdefault(record.key, []).append(record)

    def __getitem__(self, key: str) -> TrialRecord:
        return self.trials[key][-1]

    def runs(self, key: str) -> list:
        return self.trials.get(key, [])
