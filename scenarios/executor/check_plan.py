"""What `lbaws check` runs for one reader's server: its stage, each scenario with a trial of that stage
with the server put in, and the "starts" experiment asked before them. Validated here, once per file."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from lbaws import stages
from scenarios import catalog
from scenarios.judging import diagnosis, profile as server_profile
from scenarios.reports import check_summary
from scenarios.catalog.starts import START_TIMEOUT, starts_scenario
from scenarios.executor.runner import Options
from scenarios.executor.session import Experiment
from scenarios.vocabulary.spec import OwnServer, Scaled
from scenarios.executor.substitute import CheckError, Substitution, read_server_file, stage_for, substitute
from scenarios.vocabulary.verdict import check_words


def describe(sub: Substitution) -> str:
    parts = [f"your file runs in trial{'s' if len(sub.yours) > 1 else ''} {', '.join(sub.yours)}"
             if sub.yours else "your file runs in no trial"]
    parts += [f"trial {key} keeps the lab's stage: {why}" for key, why in sub.kept.items()]
    others = [t.key for t in sub.scenario.trials if t.key not in sub.yours and t.key not in sub.kept]
    if others:
        parts.append(f"the lab's own {', '.join(others)} run{'s' if len(others) == 1 else ''} beside it")
    return "; ".join(parts)


def own_sleeps(sub: Substitution) -> float:
    """Seconds of the text's sleeps that the reader's file sleeps unscaled in this scenario."""
    total = 0.0
    for trial in sub.scenario.trials:
        if trial.key in sub.yours and isinstance(trial.server.sleep, Scaled):
            total += trial.server.sleep.resolve(1.0)
    return total


def substitutions(path: Path | None, stage: stages.Stage, own: OwnServer | None = None) -> list:
    """Each scenario with a trial of the stage, with the file (or the reader's own server) put in."""
    return [substitute(scenario, path, stage, own=own) for scenario in catalog.all_scenarios().values()
            if any(stages.find(trial.server.stage) is stage for trial in scenario.trials)]


@dataclass
class FilePlan:
    """One reader's server and the experiments that judge it; `rows` fill in as they end."""

    label: str  # as the reader named it: the path, or their own server's label
    name: str  # short, for tables: the file's name
    path: Path | None
    own: OwnServer | None
    stage: stages.Stage
    subs: list  # every Substitution of the stage's scenarios
    runnable: list  # those in which the server runs, and this engine can reproduce
    sha256: str
    reports: Path
    log: Path | None = None  # a class's files each keep their runs' progress in a log of their own
    blocked: dict = field(default_factory=dict)  # scenario name -> why this engine cannot reproduce it
    rows: list = field(default_factory=list)
    seconds: float = 0.0
    summary: dict | None = None  # its summary.json once its last experiment ended (check_summary.write_file)
    pending: int = 1  # its experiments not yet ended: "starts", then the stage's own once it started
    profile: object = None  # scenarios.judging.profile's measure of the server, from its "starts" experiment

    @property
    def words(self):
        return check_words(self.stage.name)

    def tag(self, sub: Substitution, index: int) -> dict:
        # A class's files share one session: its timing names each experiment's file too.
        return {"plan": self, "sub": sub, "index": index, "label": self.name if self.log else None}

    def first(self) -> Experiment:
        """The "starts" experiment: the server alone, before any of its stage's."""
        sub = self.runnable[0]
        first = next(t.server for t in sub.scenario.trials if t.key in sub.yours)
        starts = Substitution(starts_scenario(self.path, first), ("starts",))
        options = Options(scale=1.0, reports=self.reports, ready_timeout=START_TIMEOUT)
        return Experiment(starts.scenario, options, self.words, tag=self.tag(starts, 0), log=self.log,
                          told=lambda result: diagnosis.told(result, starts.yours, server_profile.of_result(result)))

    def rest(self) -> list:
        options = Options(scale=1.0, reports=self.reports)
        return [Experiment(sub.scenario, options, self.words, tag=self.tag(sub, index + 1), log=self.log,
                           told=self.told(sub)) for index, sub in enumerate(self.runnable)]

    def landed(self, outcome) -> list:
        """Record one of its experiments that ended; the experiments it leads to: after "starts", the stage's
        own, when the server started or differs only in its profile. The last one writes the summary."""
        index = outcome.experiment.tag["index"]
        if index == 0:
            self.profile = server_profile.of_result(outcome.result)
        self.rows.append((index, check_summary.row_of(outcome)))
        self.seconds += outcome.seconds
        goes_on = outcome.result.verdict.reproduced or (
            self.profile is not None and server_profile.differs(self.profile, self.stage.name)[0])
        more = self.rest() if index == 0 and goes_on else []
        self.pending += len(more) - 1
        if not self.pending:
            self.summary = check_summary.write_file(self)
        return more

    def told(self, sub: Substitution):
        """What its report.md says of an experiment: the terminal's diagnosis, with the profile measured by then."""
        return lambda result: diagnosis.told(result, sub.yours, self.profile)

    @property
    def not_run(self) -> dict:
        return {sub.scenario.name: describe(sub) for sub in self.subs if not sub.yours}


def plan_file(path: Path | None, stage_name: str | None, only: list, reports: Path,
              own: OwnServer | None = None) -> FilePlan:
    """The plan for one file (or the reader's own server); CheckError in one line when it cannot run."""
    if own is None:
        read_server_file(path)
    stage = stage_for(path, stage_name)
    subs = substitutions(path, stage, own)
    unknown = sorted(set(only) - {sub.scenario.name for sub in subs})
    if unknown:
        raise CheckError(f"{', '.join(unknown)}: no trial of stage {stage.name} there; the experiments of "
                         f"stage {stage.name}: {', '.join(sub.scenario.name for sub in subs) or 'none'}")
    subs = [sub for sub in subs if not only or sub.scenario.name in only]
    runnable = [sub for sub in subs if sub.yours]
    if not runnable:
        why = "; ".join(f"{sub.scenario.name}: {describe(sub)}" for sub in subs)
        staged = sorted({t.server.stage for s in catalog.all_scenarios().values() for t in s.trials})
        raise CheckError(f"no experiment of the lab can run a stage-{stage.name} file"
                         f"{f' ({why})' if why else ''}; the stages with experiments are {', '.join(staged)}")
    sha256 = own.digest if own else hashlib.sha256(path.read_bytes()).hexdigest()
    return FilePlan(label=own.label if own else str(path), name=own.label if own else path.name, path=path, own=own,
                    stage=stage, subs=subs, runnable=runnable, sha256=sha256, reports=reports)


def leave_out(plan: FilePlan, blocked: dict) -> None:
    """Take out the experiments this engine cannot reproduce (name -> reasons), remembering why."""
    plan.blocked = {name: reasons for name, reasons in blocked.items()
                    if any(sub.scenario.name == name for sub in plan.runnable)}
    plan.runnable = [sub for sub in plan.runnable if sub.scenario.name not in blocked]
