"""The one runner: fresh containers per trial, limits applied, actions played, server sampled, judged."""
from __future__ import annotations

import hashlib
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from lab import inventory, lockdown, runs
from lab.interrupts import uninterrupted
from scenarios.vocabulary import spec
from scenarios.judging import phrases
from scenarios.executor import actions
from scenarios.reports import past_runs
from scenarios.executor.cgroups import PidsWatch
from scenarios.executor.containers import PORT, RunContainers, connect, server_uid
from scenarios.executor.probe import Probe
from scenarios.executor.progress import Progress
from scenarios.vocabulary.record import Observations, TrialRecord
from scenarios.vocabulary.results import LoadResult, MissingResult
from scenarios.executor.sampler import Sampler
from scenarios.reports.samples_file import NAME as SAMPLES, SamplesFile, load_fields, sample_fields
from scenarios.vocabulary.verdict import Judgment

READY_TIMEOUT = 60.0
LEND_POLL = 0.25  # seconds between a run's looks for a slot the session could lend it
# The count each watch's chart climbs into its limit with: samples.ndjson's field, the limit's name.
CLIMBS = {spec.Watch.NOFILE: ("fds", "nofile"), spec.Watch.NPROC: ("processes", "nproc"),
          spec.Watch.PIDS: ("pids", "pids_limit"), spec.Watch.NOTHING: ("fds", None)}


def judge(scenario: spec.Scenario, observations: Observations) -> Judgment:
    """The scenario's judgment; a reading the experiment never produced is named, any other error raised."""
    try:
        return scenario.judge(observations)
    except MissingResult as missing:
        return unjudged(observations, missing)


def unjudged(observations: Observations, missing: MissingResult) -> Judgment:
    """A reading the judge needs never came: say which, and what every trial did record. Missing from the
    reader's trial, their server did not show the behaviour (DIFFERS); from the lab's own beside it, ERROR."""
    records = [runs[-1] for runs in observations.trials.values() if runs]
    said = str(missing)
    lacking = next((record for record in records
                    if said.startswith(f"{record.key}:") or said.startswith(f"trial {record.key} ")), None)
    told = [phrases.recorded(record) for record in phrases.yours_first(*records)]
    observed = (f"the judge lacks a reading ({missing}). What was recorded: " + "; ".join(told) + "."
                if told else f"the judge lacks a reading ({missing}); no trial recorded anything.")
    checking = any(record.server_file for record in records)
    if checking and (lacking is None or not lacking.server_file):
        return Judgment.error(f"the lab's own trial beside your server gave no reading, so this run says "
                              f"nothing about your server: {observed}")
    return Judgment.of(False, observed)


@dataclass
class Options:
    scale: float = 1.0
    keep: bool = False
    repeat: int | None = None  # overrides a repeatable trial's repeat count
    period: float = 0.25
    reports: Path = Path("reports")
    trial_bound: float = 600.0  # no trial samples longer than this, whatever happens
    ready_timeout: float = READY_TIMEOUT  # how long a server may take to listen
    engine: dict = field(default_factory=dict)  # the preflight's facts (scenarios.executor.preflight), for the report
    limits: spec.LimitsFrom = spec.LimitsFrom.ENGINE  # who sets nofile and nproc: the engine or the entrypoint


@dataclass
class Running:
    """One server container while its trial runs, and what watches it."""

    server: object  # the docker container
    record: TrialRecord
    alias: str
    label: str
    t0: float
    probe: Probe
    sampler: Sampler | None = None
    pids: PidsWatch | None = None

    @property
    def ready(self) -> bool:
        return self.record.started


@dataclass
class RunResult:
    scenario: spec.Scenario
    run_id: str
    verdict: Judgment
    observations: Observations
    started: float
    duration_s: float
    options: Options
    error: str = ""
    client: dict = field(default_factory=dict)  # the client container's confinement (lab.lockdown)


class Stopped(Exception):
    """The session this run belongs to was stopped (Ctrl-C): nothing more starts."""


class ScenarioRunner:
    def __init__(self, scenario: spec.Scenario, options: Options, progress: Progress, engine=None, stop=None,
                 slots=None):
        self.scenario = scenario
        self.stop = stop  # a threading.Event set when the runs beside this one are stopped
        self.slots = slots  # the session's idle slots, lent for trials side by side (borrow(), give_back())
        self.options = options
        self.progress = progress
        self.engine = engine or connect()
        self.run_id = runs.new_run_id(scenario.name)
        self.containers = RunContainers(self.engine, scenario.name, self.run_id, keep=options.keep,
                                        limits_from=options.limits)
        self.samples: SamplesFile | None = None

    def open_samples(self, started_wall: float) -> SamplesFile:
        """samples.ndjson in the run's report folder, begun afresh with what the run is about; the last run's
        files there are kept under past/."""
        scenario = self.scenario
        past_runs.set_aside(Path(self.options.reports) / scenario.name)
        samples = SamplesFile(Path(self.options.reports) / scenario.name / SAMPLES)
        samples.write("run", scenario=scenario.name, run_id=self.run_id, section=scenario.section,
                      summary=scenario.summary, prediction=scenario.prediction, why=scenario.why,
                      started=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_wall)),
                      trials=[{"key": t.key, "title": t.title, "stage": t.server.stage, "watch": t.watch.value,
                               "limits": t.server.limits.as_dict(), "repeat": self.repeats(t)}
                              for t in scenario.trials])
        return samples

    def run(self) -> RunResult:
        started_wall, started = time.time(), time.monotonic()
        observations = Observations(planned=tuple(trial.key for trial in self.scenario.trials))
        error, client_confinement = "", {}
        self.samples = self.open_samples(started_wall)
        self.progress.prefix = f"[{self.scenario.name}] "
        runs.remove_orphans(self.engine, self.progress.say)
        self.progress.say(f"run {self.run_id}: containers and network labelled "
                          f"{inventory.label_filter(inventory.RUN_LABEL, self.run_id)}, "
                          f"sleep scale {self.options.scale:g}")
        try:
            self.containers.start_network()
            client = self.containers.start_client()
            client_confinement = lockdown.confinement(client.attrs)
            planned = [(trial, index, self.repeats(trial)) for trial in self.scenario.trials
                       for index in range(self.repeats(trial))]
            for record in self.run_trials(planned):
                observations.add(record)
        except Exception as exc:  # a fault of the harness or engine: reported as such, then cleaned up below
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        finally:
            if not self.options.keep:
                with uninterrupted():
                    self.containers.cleanup()
            self.progress.done()
            self.progress.prefix = ""
            self.samples.write("event", trial=None, t=None, text=f"run ended after {time.monotonic() - started:.1f}s"
                               + (f": {error.splitlines()[0]}" if error else ""))
            self.samples.close()
        verdict, error = self.conclude_run(observations, error)
        return RunResult(self.scenario, self.run_id, verdict, observations, started_wall,
                         round(time.monotonic() - started, 2), self.options, error, client_confinement)

    def run_trials(self, planned: list) -> list:
        """Every planned trial's record, in the planned order. One runs at a time, and more beside it while
        the session lends slots no other experiment is using (the tail of `--all`, a check's last files),
        except a flood's."""
        records, lock, helpers, faults = [None] * len(planned), threading.Lock(), [], []
        # A flood's trials share the run's one client container, whose memory bound is one load's: two of
        # its loads at once (1000 and 128 clients held open by a 3d in 3g's place) met the OOM killer.
        lending = self.slots is not None and not self.scenario.floods
        todo = list(enumerate(planned))

        def claim():
            with lock:
                return todo.pop(0) if todo and not faults else None

        def work(lent: bool, item=None) -> None:
            try:
                while (item := item or claim()) is not None:
                    position, (trial, index, repeat) = item
                    lend()
                    self.check_stop()
                    records[position] = self.run_trial(trial, index, repeat)
                    item = None
            except BaseException as exc:  # carried to the runner's own thread, which stops the rest
                with lock:
                    faults.append(exc)
            finally:
                if lent:
                    self.slots.give_back()

        def lend() -> None:
            """A helper for each slot lent, each with the next trial claimed for it."""
            while lending and todo and self.slots.borrow():
                item = claim()
                if item is None:
                    self.slots.give_back()
                    return
                helper = threading.Thread(target=work, args=(True, item), daemon=True)
                helpers.append(helper)
                helper.start()

        # A slot may come free while a trial runs (an experiment beside this one ended): look again every
        # little while, not only when a trial begins, or a long trial keeps an idle slot idle to its end.
        finished = threading.Event()

        def keep_lending() -> None:
            while not finished.wait(LEND_POLL):
                lend()

        lender = threading.Thread(target=keep_lending, daemon=True)
        if lending:
            lender.start()
        work(False)
        finished.set()
        if lending:
            lender.join()
        joined = 0
        while joined < len(helpers):  # a helper may have started another before this one's last claim
            helpers[joined].join()
            joined += 1
        if faults:
            raise faults[0]
        return records

    def check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise Stopped("stopped with the runs beside it")

    def conclude_run(self, observations: Observations, error: str) -> tuple:
        """(the judgment, the error text for the report): a fault of the harness is ERROR, never a verdict
        on the server."""
        if error:
            return Judgment.error(f"the run itself failed: {error.splitlines()[0]}"), error
        faults = observations.faults()
        if faults:
            return Judgment.error(f"a probe of the harness failed, so the watch is incomplete: "
                                  f"{'; '.join(faults)}"), "\n".join(faults)
        try:
            judgment = self.judge(observations)
            known = {lesson.key for lesson in self.scenario.lessons}
            unknown = [key for key in judgment.lessons if key not in known]
            if unknown:
                raise KeyError(f"the judge named lessons {unknown} that scenario {self.scenario.name} does not "
                               f"list; it lists {sorted(known)}")
            return judgment, ""
        except Exception as exc:  # a judge's bug says nothing about the server
            return (Judgment.error(f"the judge failed: {type(exc).__name__}: {exc}"),
                    f"the judge failed:\n{traceback.format_exc()}")

    def repeats(self, trial: spec.Trial) -> int:
        if self.scenario.repeatable and self.options.repeat:
            return self.options.repeat
        return trial.repeat

    def judge(self, observations: Observations) -> Judgment:
        return judge(self.scenario, observations)

    def run_trial(self, trial: spec.Trial, index: int, repeat: int) -> TrialRecord:
        server_spec = trial.server
        sleep = spec.seconds(server_spec.sleep, self.options.scale) if server_spec.sleep is not None else None
        alias = f"server-{trial.key}" + (f"-{index + 1}" if repeat > 1 else "")
        uid = server_uid()
        record = self.new_record(trial.key, server_spec, uid, sleep, trial.action_keys)
        label = trial.key + (f" {index + 1}/{repeat}" if repeat > 1 else "")
        running = neighbour = None
        t0 = time.monotonic()
        try:
            if trial.neighbour is not None:
                # Started first, and both before any load: a UID already at its nproc cannot even start
                # a container's first process (execve fails after setuid).
                neighbour = self.start_neighbour(trial, alias, uid, label, record)
            running = self.launch(server_spec, record, alias, uid, sleep, trial.watch, label, trial.fd_count,
                                  key=trial.key)
            if neighbour is not None and neighbour.ready:
                self.play(neighbour, trial.neighbour.actions)
            if running.ready:
                self.play(running, trial.actions)
                self.conclude(running)
            if neighbour is not None and neighbour.ready:
                self.conclude(neighbour)
        finally:
            with uninterrupted():
                for each in (running, neighbour):
                    if each is not None:
                        self.land(each)
            record.duration_s = round(time.monotonic() - t0, 3)
        return record

    def new_record(self, key: str, server_spec: spec.ServerSpec, uid: int, sleep, planned: tuple) -> TrialRecord:
        record = TrialRecord(key=key, stage=server_spec.stage, app=server_spec.app,
                             image=inventory.image(server_spec.image),
                             limits={**server_spec.limits.as_dict(), "set_by": self.options.limits.value},
                             uid=0 if server_spec.root else uid, sleep=sleep,
                             python2_signals=server_spec.python2_signals, planned=planned)
        if server_spec.own is not None:
            record.server_file, record.server_sha256 = server_spec.own.label, server_spec.own.digest
        elif server_spec.file:
            record.server_file = server_spec.file
            record.server_sha256 = hashlib.sha256(Path(server_spec.file).read_bytes()).hexdigest()
        return record

    def start_neighbour(self, trial: spec.Trial, alias: str, uid: int, label: str, record: TrialRecord) -> Running:
        neighbour = trial.neighbour
        own = uid
        while own == uid and not neighbour.same_uid:
            own = server_uid()
        sleep = None if neighbour.server.sleep is None else spec.seconds(neighbour.server.sleep, self.options.scale)
        record.neighbour = self.new_record(f"{trial.key}/{neighbour.role}", neighbour.server, own, sleep,
                                           tuple(action.key for action in neighbour.actions))
        return self.launch(neighbour.server, record.neighbour, f"{alias}-{neighbour.role}", own, sleep,
                           spec.Watch.NOTHING, f"{label} {neighbour.role}", trial.fd_count)

    def launch(self, server_spec: spec.ServerSpec, record: TrialRecord, alias: str, uid: int, sleep,
               watch: spec.Watch, label: str, fd_count: spec.FdCount = spec.FdCount.LISTING,
               key: str | None = None) -> Running:
        """Start one server container and wait until it listens; its sampler runs from then on."""
        yours = server_spec.own.label if server_spec.own is not None else \
            Path(server_spec.file).name if server_spec.file else ""
        what = f"your {yours} in stage {server_spec.stage}'s place" if yours else f"stage {server_spec.stage}"
        pid1 = " under /bin/sh -c" if server_spec.shell_form else " under docker-init" if server_spec.init else ""
        self.progress.say(f"{label}: {what}{' ' + server_spec.app if server_spec.app else ''}{pid1} "
                          f"as UID {record.uid}, nofile={server_spec.limits.nofile} "
                          f"nproc={server_spec.limits.nproc} (set by the {self.options.limits.value})"
                          f"{f', sleep {sleep:g}s' if sleep is not None and not yours else ''}"
                          f"{', --python2-signals' if server_spec.python2_signals else ''}")
        t0 = time.monotonic()
        self.check_stop()
        server = self.containers.start_server(server_spec, alias, uid, sleep)
        record.container = server.name
        record.confinement = lockdown.confinement(server.attrs)
        probe = Probe(server.name, record.uid, kernel_count=fd_count is spec.FdCount.KERNEL)
        running = Running(server, record, alias, label, t0, probe)
        if watch is spec.Watch.PIDS:
            server.reload()  # the host PID of its first process, which locates its cgroup
            running.pids = PidsWatch(server, t0).start()
            record.pids_source = running.pids.source
        record.server_pid = self.wait_ready(server, running.probe)
        record.ready_s = round(time.monotonic() - t0, 3)
        if record.server_pid is None:
            record.error = f"the server never listened on port {PORT}"
            return running
        record.started = True
        record.baseline = running.probe.snapshot(record.server_pid)
        counter, limit = CLIMBS[watch]
        self.write_sample("trial", trial=label, key=key or record.key, stage=record.stage, watch=watch.value,
                          counter=counter, limit_name=limit, limit=record.limits.get(limit) if limit else None,
                          limits=record.limits, in_force=record.baseline.limits, ready_s=record.ready_s)
        running.sampler = Sampler(running.probe, record.server_pid, t0, self.options.period, self.options.trial_bound,
                                  on_sample=lambda sample: self.on_sample(running, sample)).start()
        return running

    def write_sample(self, kind: str, **fields) -> None:
        if self.samples is not None:
            self.samples.write(kind, **fields)

    def on_sample(self, running: Running, sample) -> None:
        self.progress.counters(running.label, sample)
        pids = running.pids.readings[-1] if running.pids is not None and running.pids.readings else None
        self.write_sample("sample", trial=running.label, **sample_fields(sample, pids))

    def play(self, running: Running, trial_actions: tuple) -> None:
        ctx = actions.TrialContext(self.containers, running.server, running.alias, running.sampler,
                                   self.options.scale, self.progress.say,
                                   on_tally=lambda key, tallies: self.write_sample(
                                       "load", trial=running.label, key=key, so_far=True,
                                       t=round(time.monotonic() - running.t0, 3), **tallies))
        for action in trial_actions:
            running.record.results[action.key] = actions.execute(action, ctx)
            self.write_load(running, action.key)
        for key, result in ctx.collect_background().items():
            running.record.results[key] = result
            self.write_load(running, key)

    def write_load(self, running: Running, key: str) -> None:
        result = running.record.results.get(key)
        if isinstance(result, LoadResult):
            self.write_sample("load", trial=running.label, key=key, t=round(time.monotonic() - running.t0, 3),
                              **load_fields(result.summary))

    def conclude(self, running: Running) -> None:
        """The final snapshot, when the server still lives."""
        running.server.reload()
        if running.server.status not in ("exited", "dead"):
            running.sampler.next()
            running.record.final = running.probe.snapshot(running.record.server_pid)

    def land(self, running: Running) -> None:
        """Stop watching, keep the logs and exit status, remove the container (unless kept)."""
        record = running.record
        if running.sampler is not None:
            # A container that stays (--keep) must not go on running the watch's loop.
            record.samples = running.sampler.stop(end_stream=self.options.keep)
            record.faults += [running.sampler.fault] if running.sampler.fault else []
        if running.pids is not None:
            record.pids = running.pids.stop()
            record.faults += [running.pids.fault] if running.pids.fault else []
        self.progress.done()
        self.finish(running.server, record)
        record.duration_s = round(time.monotonic() - running.t0, 3)
        if record.died:
            gone = [s.t for s in record.samples if not s.alive]
            self.write_sample("event", trial=running.label, t=gone[0] if gone else record.duration_s,
                              text=f"server exited ({record.exit_code}): {record.error_line() or 'no traceback'}",
                              exit_code=record.exit_code)
        self.write_sample("event", trial=running.label, t=record.duration_s, text="trial ended", end=True)

    def wait_ready(self, server, probe: Probe) -> int | None:
        deadline = time.monotonic() + self.options.ready_timeout
        pid = probe.await_listening(PORT, self.options.ready_timeout)
        if pid is not None:
            return pid
        # The container stopped, or the exec could not wait in it: look from outside, once a tenth.
        while time.monotonic() < deadline:
            server.reload()
            if server.status in ("exited", "dead"):
                return None
            if probe.listening(PORT):
                return probe.find_server()
            time.sleep(0.1)
        return None

    def finish(self, server, record: TrialRecord) -> None:
        server.reload()
        if server.status in ("exited", "dead"):
            record.exit_code = server.attrs["State"]["ExitCode"]
        record.logs = server.logs(stdout=True, stderr=True).decode(errors="replace")
        if record.died:
            # Only a server that died is asked why (TrialRecord.error_line), so only its stderr is fetched.
            record.errors = server.logs(stdout=False, stderr=True).decode(errors="replace")
            self.progress.say(f"{record.key}: the server exited with status {record.exit_code}: "
                              f"{record.error_line() or '(no traceback)'}")
        if not self.options.keep:
            server.remove(force=True)
