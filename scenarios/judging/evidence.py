"""What a diagnosis reads of one experiment: the reader's trial, its numbers, and the server's profile.

Gathered once (gather) so each rule of scenarios/catalog/diagnoses.py is a small test of plain fields,
and so tests can state recorded observations as an Evidence directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from scenarios.vocabulary.results import CurlsResult, LoadResult, MissingResult

# Descriptors the main process gains before they count as its own keeping (16: the profile's held connections).
HELD_MANY = 16
# The text's lessons about children: they cannot apply to a server that forks none.
ABOUT_CHILDREN = {"keeps-copy", "never-waits", "reaps-one", "waits"}


@dataclass
class Evidence:
    scenario: str = ""
    stage: str = ""
    died: bool = False
    exit_code: Optional[int] = None
    last_words: str = ""
    sent: Optional[int] = None  # requests (connections) the clients made
    answered: Optional[int] = None  # responses they got
    processes_before: Optional[int] = None  # the server's tree at the start of the experiment
    processes_peak: Optional[int] = None
    processes_after: Optional[int] = None  # at the end (or the last look before it died)
    fds_peak: Optional[int] = None  # the server's main process (the parent of a forking server): the probes count its /proc/PID/fd
    nofile: Optional[int] = None
    fds_before: Optional[int] = None  # the main process's first sampled count
    children_peak: Optional[int] = None  # its live children at most, as the same samples counted them
    zombies_after: Optional[int] = None
    judge_lessons: tuple = ()  # the keys the experiment's judge named
    scenario_lessons: tuple = ()  # every lesson key the experiment can name
    model: str = ""  # the profile's (scenarios.judging.profile)
    forks: Optional[bool] = None  # None: the profile did not see
    sigchld: str = ""
    answers_text_request: Optional[bool] = None
    answers_crlf: Optional[bool] = None
    differs: bool = True

    @property
    def words(self) -> str:
        return self.last_words.lower()

    @property
    def grew(self) -> Optional[int]:
        """Processes the tree gained over the experiment and kept; None when it was not read."""
        if self.processes_before is None or self.processes_after is None:
            return None
        return self.processes_after - self.processes_before

    @property
    def fds_grew(self) -> Optional[int]:
        """Descriptors the main process gained over the experiment, by its samples; None when unread."""
        if self.fds_peak is None or self.fds_before is None:
            return None
        return self.fds_peak - self.fds_before

    @property
    def parent_held(self) -> bool:
        """The main process's own count climbed with the connections (samples come a period apart, so
        the last one before a death sees less than the limit it hit: the climb is the evidence)."""
        return self.fds_grew is not None and self.fds_grew >= HELD_MANY

    @property
    def held_elsewhere(self) -> bool:
        """The main process's count stayed near where it began while it had children: not the parent's."""
        return self.fds_grew is not None and not self.parent_held and bool(self.children_peak)

    def held_by(self, ran_out: bool = False) -> str:
        """Which process held the descriptors, from the main process's samples against its children; ""
        unread. The probes count only the main process's descriptors (the parent of a forking server)."""
        if self.fds_peak is None:
            return ""
        limit = f" of nofile {self.nofile}" if self.nofile else ""
        children = (f"at most {self.children_peak} live child{'ren' if self.children_peak != 1 else ''}"
                    if self.children_peak else "no live child")
        if self.parent_held:
            return (f"the descriptors were held by the parent, your server's main process: its own count climbed "
                    f"from {self.fds_before} to {self.fds_peak} (the highest sampled{'; nofile ' + str(self.nofile) if self.nofile else ''}) "
                    f"with {children} beside it")
        if ran_out and self.held_elsewhere:
            return (f"the descriptors were not the parent's: your server's main process held at most "
                    f"{self.fds_peak}{limit} (it began with {self.fds_before}), beside {children}, each with "
                    f"a nofile of its own")
        return f"your server's main process held at most {self.fds_peak} descriptors{limit}, with {children} beside it"

    def seen(self) -> str:
        """What was seen, in one sentence, for when no rule fits."""
        parts = []
        if self.died:
            parts.append(f"your server exited (status {self.exit_code})"
                         + (f" with the last words {self.last_words!r}" if self.last_words else " saying nothing"))
        if self.sent is not None and self.answered is not None:
            parts.append(f"it answered {self.answered} of {self.sent} requests")
        if self.processes_peak is not None:
            parts.append(f"its container held up to {self.processes_peak} processes"
                         + (f", {self.processes_after} at the end" if self.processes_after is not None else ""))
        if self.fds_peak is not None:
            parts.append(self.held_by(ran_out=self.died and "too many open files" in self.words))
        return "; ".join(parts) or "nothing beyond the verdict's own observation"


@dataclass(frozen=True)
class Rule:
    """One diagnosis: when `fits` finds its evidence (a sentence saying it), the lesson of the text it
    belongs to and that lesson's fix. A rule with no fix says why the text's fix does not apply."""

    key: str
    lesson: str
    fits: Callable  # Evidence -> str ("" when it does not fit)
    fix: str = ""


def gather(result, yours: tuple, profile=None) -> Evidence:
    """The evidence of one RunResult about the reader's trials (`yours`), with the server's profile."""
    verdict = result.verdict
    e = Evidence(scenario=result.scenario.name, differs=not verdict.reproduced,
                 judge_lessons=tuple(verdict.lessons),
                 scenario_lessons=tuple(lesson.key for lesson in result.scenario.lessons))
    if profile is not None:
        e.model, e.forks, e.sigchld = profile.model, (profile.forks if profile.model else None), profile.sigchld
        e.answers_text_request, e.answers_crlf = profile.answers_text_request, profile.answers_crlf
    for key in yours:
        try:
            record = result.observations[key]
        except (MissingResult, KeyError):
            continue
        e.stage = record.stage
        e.died, e.exit_code = e.died or record.died, record.exit_code if record.died else e.exit_code
        if record.died:
            from scenarios.judging.profile import last_words

            e.last_words = last_words(record)
        e.nofile = record.limits.get("nofile")
        counted = [s.procs for s in record.samples if s.procs is not None]
        if counted:
            e.processes_before, e.processes_peak, e.processes_after = counted[0], max(counted), counted[-1]
        if record.final is not None and record.final.tree is not None:
            e.processes_after = record.final.tree.processes
            e.zombies_after = record.final.tree.zombies
        e.fds_peak = record.peak("fds") or None
        e.children_peak = max((sample.live for sample in record.samples), default=None)
        e.fds_before = next((sample.fds for sample in record.samples if sample.fds is not None), None)
        for value in record.results.values():
            if isinstance(value, LoadResult) and value.summary is not None:
                e.sent = (e.sent or 0) + value.count("connected")
                e.answered = (e.answered or 0) + value.count("responses")
            elif isinstance(value, CurlsResult):
                e.sent = (e.sent or 0) + len(value.curls)
                e.answered = (e.answered or 0) + sum(1 for c in value.curls if c.status is not None)
    return e
