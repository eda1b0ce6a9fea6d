"""A session of experiments and its one owner: each experiment's runner from its first sample line, its
report and its verdict line, run side by side up to `jobs` at a time. A slot no waiting experiment needs
is lent to a running one for another of its trials (`borrow`), so a long experiment's trials spread out
at the end of a session instead of running one after another beside idle slots. Experiments that flood
a server take at most `floods_at_once` of the slots, and are lent none.

Two experiments never share a report folder at once (a repeat of one waits for the last to end). The
reports are written here, one at a time (matplotlib's pyplot is not thread-safe). Ctrl-C or SIGTERM
stops every experiment: the runners are told to start nothing more, their runs' containers and
networks are removed, and the interrupt goes on to the command.
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from lab import runs
from lab.interrupts import uninterrupted
from scenarios.vocabulary import spec
from scenarios.executor import preflight, runner
from scenarios.reports import report
from scenarios.executor.progress import Progress
from scenarios.executor.runner import Options, RunResult
from scenarios.vocabulary.verdict import SCENARIO_WORDS, Verdict, Words

STOP_GRACE = 60.0  # seconds the runners may take to land once stopped, after their containers are gone


def default_jobs() -> int:
    """Experiments side by side: two per core, since an experiment mostly waits (for a server to listen,
    for a limit, for the text's sleeps) rather than computes. Floods are fewer (`floods_at_once`)."""
    return 2 * (os.cpu_count() or 1)


def floods_at_once(jobs: int) -> int:
    """How many of the `jobs` may flood a server at once: one more than the cores, as many as were measured
    to reproduce every time beside two CPU hogs (docs/scenarios.md); the other slots take the rest."""
    return min(jobs, (os.cpu_count() or 1) + 1)


@dataclass(frozen=True)
class Experiment:
    """One scenario to run, where its report goes, and in whose words its verdict is said."""

    scenario: object  # spec.Scenario
    options: Options
    words: Words = SCENARIO_WORDS
    tag: object = None  # what the caller knows it by (a check's file and substitution, a repeat's number)
    log: Path | None = None  # the runner's progress goes there instead of the terminal (a class's files)
    # result -> (label, text) pairs its report.md says in place of the scenario's lessons (a check's diagnosis)
    told: object = None

    @property
    def folder(self) -> Path:
        return Path(self.options.reports) / self.scenario.name


@dataclass
class Outcome:
    """What one experiment came to: its result and report folder, or why this engine cannot run it."""

    experiment: Experiment
    result: RunResult | None = None
    folder: Path | None = None
    cannot: tuple = ()

    @property
    def verdict(self) -> Verdict:
        return Verdict.CANNOT if self.result is None else self.result.verdict.verdict

    @property
    def seconds(self) -> float:
        return 0.0 if self.result is None else self.result.duration_s


class Failed(Exception):
    """A fault of the harness outside any run (the runner could not even begin), carried to the owner."""


def last_seconds(folder: Path) -> float:
    """How long the last run in folder took, from its report; 0 when there is none."""
    try:
        return float(json.loads((folder / "report.json").read_text()).get("duration_s") or 0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def longest_first(experiments: list) -> list:
    """By each one's last run, so the last to start is a short one; with no last run (a fresh reports
    folder), the one with the most containers to start first, then the one whose actions wait longest."""
    return sorted(experiments, reverse=True, key=lambda experiment: (
        last_seconds(experiment.folder), containers(experiment.scenario),
        waits(experiment.scenario, experiment.options.scale)))


def containers(scenario) -> int:
    """How many server containers the scenario starts, one after another or lent side by side."""
    return sum(trial.repeat * (1 if trial.neighbour is None else 2) for trial in scenario.trials)


def waits(scenario, scale: float) -> float:
    """The seconds its trials' actions say they take whatever the server does: pauses, steady loads, holds."""
    return sum(trial.repeat * sum(spec.seconds(action.seconds, scale) for action in trial.actions
                                  if isinstance(action, (spec.Pause, spec.SteadyLoad, spec.Hold)))
               for trial in scenario.trials)


class Session:
    """Runs experiments, `jobs` at a time, and owns their reports; `wall_s` is the whole's time."""

    def __init__(self, engine, facts, out, jobs: int = 1):
        self.engine = engine
        self.facts = facts
        self.jobs = max(1, jobs)
        self.progress = Progress(out)
        self.stop = threading.Event()
        self.started_runs: list = []  # the run ids begun, swept once more after a stop
        self.floods = floods_at_once(self.jobs)
        self.running: set = set()  # the report folders of the experiments running
        self.flooding: set = set()  # those of them that flood (spec.Scenario.floods)
        self.lent = 0  # slots lent to running experiments for trials side by side
        self.waiting = 0  # experiments that could start now: each comes before a lent slot
        self.lending = threading.Lock()
        self.wall_s = 0.0

    def say(self, text: str) -> None:
        """A block of lines on the terminal, never cut by a runner's progress line."""
        self.progress.say(text)

    def run(self, experiments, done=None) -> list:
        """Every experiment, and those `done(outcome)` returns after each; the outcomes in the order they
        ended. Reports are written before `done` sees an outcome."""
        began = time.monotonic()
        pending = list(experiments)
        if self.jobs > 1:
            pending = longest_first(pending)
        try:
            if self.jobs == 1:
                return self.one_by_one(pending, done)
            return self.side_by_side(pending, done)
        finally:
            self.wall_s = round(time.monotonic() - began, 1)

    def one_by_one(self, pending: list, done) -> list:
        outcomes = []
        while pending:
            experiment = pending.pop(0)
            outcome = self.cannot(experiment) or self.finish(experiment, self.execute(experiment, self.progress))
            outcomes.append(outcome)
            pending += list(done(outcome) or ()) if done else []
        return outcomes

    def side_by_side(self, pending: list, done) -> list:
        outcomes, ended, threads = [], queue.Queue(), []

        def close(outcome: Outcome) -> None:
            outcomes.append(outcome)
            pending.extend(done(outcome) or () if done else ())

        try:
            while pending or self.running:
                self.note_waiting(pending)
                for experiment in list(pending):
                    if not self.idle():
                        break
                    if experiment.folder in self.running or not self.may_start(experiment):
                        continue
                    pending.remove(experiment)
                    cannot = self.cannot(experiment)
                    if cannot is not None:  # never started: said at once
                        close(cannot)
                        continue
                    with self.lending:
                        self.running.add(experiment.folder)
                        if experiment.scenario.floods:
                            self.flooding.add(experiment.folder)
                    self.note_waiting(pending)
                    thread = threading.Thread(target=self.work, args=(experiment, ended), daemon=True)
                    threads.append(thread)
                    thread.start()
                try:
                    experiment, finished = ended.get(timeout=0.2)
                except queue.Empty:
                    continue
                with self.lending:
                    self.running.discard(experiment.folder)
                    self.flooding.discard(experiment.folder)
                if isinstance(finished, BaseException):
                    raise Failed(f"{experiment.scenario.name}: {type(finished).__name__}: {finished}") from finished
                close(self.finish(experiment, finished))
            return outcomes
        except BaseException:
            self.halt(threads)
            raise

    def idle(self) -> bool:
        """A slot neither an experiment nor a trial lent to one holds."""
        with self.lending:
            return len(self.running) + self.lent < self.jobs

    def may_start(self, experiment: Experiment) -> bool:
        """False for a flood while `floods` of them run: it waits, the rest go on."""
        with self.lending:
            return not experiment.scenario.floods or len(self.flooding) < self.floods

    def note_waiting(self, pending: list) -> None:
        waiting = [experiment for experiment in pending if experiment.folder not in self.running]
        startable = sum(1 for experiment in waiting if self.may_start(experiment))
        with self.lending:
            self.waiting = startable

    def borrow(self) -> bool:
        """A slot for one more trial of a running experiment, when no experiment waits for it."""
        with self.lending:
            if self.stop.is_set() or len(self.running) + self.lent + self.waiting >= self.jobs:
                return False
            self.lent += 1
            return True

    def give_back(self) -> None:
        with self.lending:
            self.lent -= 1

    def work(self, experiment: Experiment, ended: queue.Queue) -> None:
        try:
            view = self.progress.alongside(experiment.log)
            try:
                result = self.execute(experiment, view, lend=True)
            finally:
                view.close()
            ended.put((experiment, result))
        except BaseException as exc:  # carried to the owner, which stops the rest
            ended.put((experiment, exc))

    def execute(self, experiment: Experiment, progress: Progress, lend: bool = False) -> RunResult:
        if self.stop.is_set():
            raise KeyboardInterrupt
        started = runner.ScenarioRunner(experiment.scenario, experiment.options, progress, engine=self.engine,
                                        stop=self.stop, slots=self if lend else None)
        self.started_runs.append(started.run_id)
        return started.run()

    def cannot(self, experiment: Experiment) -> Outcome | None:
        reasons = preflight.blockers(experiment.scenario, self.facts) if self.facts is not None else []
        return Outcome(experiment, cannot=tuple(reasons)) if reasons else None

    def finish(self, experiment: Experiment, result: RunResult) -> Outcome:
        told = experiment.told(result) if experiment.told is not None else None
        return Outcome(experiment, result, report.write(result, experiment.words, told))

    def halt(self, threads: list) -> None:
        """Stop every runner: nothing new starts, what runs loses its containers, then each lands."""
        self.stop.set()
        with uninterrupted():
            self.sweep()
            deadline = time.monotonic() + STOP_GRACE
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            self.sweep()  # what a runner started between the first sweep and its stop

    def sweep(self) -> None:
        for run_id in list(self.started_runs):
            try:
                runs.remove_run(self.engine, run_id)
            except docker.errors.APIError:
                pass  # removed meanwhile by its own runner
