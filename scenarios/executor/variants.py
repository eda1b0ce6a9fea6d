"""A catalog scenario as a run asks for it: every load playing another client3.py (`--client`), or a reader's
file in a trial's place (`--server TRIAL=PATH`)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from scenarios import catalog
from scenarios.vocabulary import spec
from scenarios.executor.substitute import CheckError, read_server_file, substitute


def with_client(scenario, pattern: str):
    """The scenario with every Load playing `pattern` (spec.ClientPattern's value); None when it has no Load."""
    chosen = spec.ClientPattern(pattern)
    if not any(isinstance(a, spec.Load) for trial in scenario.trials for a in trial.actions):
        return None
    trials = tuple(dataclasses.replace(trial, actions=tuple(
        dataclasses.replace(a, pattern=chosen) if isinstance(a, spec.Load) else a for a in trial.actions))
        for trial in scenario.trials)
    return dataclasses.replace(scenario, trials=trials)


def loaded_names() -> list:
    return [name for name, scenario in catalog.all_scenarios().items() if with_client(scenario, "lab")]


def with_servers(scenario, assignments: list):
    """The scenario with each TRIAL=PATH file in its trial, or a CheckError saying why not."""
    keys = [trial.key for trial in scenario.trials]
    for assignment in assignments:
        key, sep, path = assignment.partition("=")
        if not sep or not path:
            raise CheckError(f"--server takes TRIAL=PATH, not {assignment!r}")
        if key not in keys:
            raise CheckError(f"{scenario.name} has no trial {key!r}; its trials: {', '.join(keys)}")
        read_server_file(Path(path))
        sub = substitute(scenario, Path(path), stage=None, only=key)
        if key in sub.kept:
            raise CheckError(f"trial {key} keeps the lab's stage: {sub.kept[key]}")
        scenario = sub.scenario
    return scenario
