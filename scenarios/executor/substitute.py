"""Putting a reader's own server file into a scenario's trials, in place of the lab's stage.

A trial takes the file when its stage is the file's and it needs no switch that only the lab's server
has; the other trials of the scenario stay the lab's, so the same judge decides.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lbaws import stages
from scenarios.judging import whole_tree
from scenarios.vocabulary.spec import OwnServer, Scenario

# What Python 2 code of the text's part 1 and 2 listings trips over in Python 3, with the port.
PYTHON2_SIGNS = (
    (re.compile(r"^\s*print\s+[^\s=(]", re.M), "print statements: print(...) is a function"),
    (re.compile(r"^\s*(import\s+StringIO|from\s+StringIO\s+import|import\s+cStringIO)", re.M),
     "StringIO: use io.BytesIO for the request bytes (io.StringIO for text)"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:", re.M), "`except E, e:`: write `except E as e:`"),
    (re.compile(r"\.iteritems\(\)"), ".iteritems(): use .items()"),
)


class CheckError(ValueError):
    """A reader's file the lab cannot run: one line saying why."""


@dataclass(frozen=True)
class Substitution:
    scenario: Scenario
    yours: tuple = ()  # trial keys that run the reader's file
    kept: dict = field(default_factory=dict)  # trial key -> why it keeps the lab's stage


def stage_for(path: Path, named: str | None = None) -> stages.Stage:
    """The stage a file plays: --stage, else its name as the stage table's aliases (webserver3d.py)."""
    if named:
        stage = stages.find(named)
        if stage is None:
            raise CheckError(f"unknown stage {named!r}; valid stages: {stages.names()}")
        return stage
    stage = stages.find(path.name)
    if stage is None:
        # A reader's variants keep the text's name at the end: my_webserver3g.py, old-webserver2.py.
        ending = re.search(r"(webserver\w\w?)$", path.stem)
        stage = stages.find(ending.group(1)) if ending else None
    if stage is None:
        raise CheckError(f"cannot tell the stage of {path.name} from its name; give --stage "
                         f"(one of {stages.names()}) or name it as the text does (webserver3g.py)")
    return stage


def python2_signs(source: str) -> list:
    return [port for pattern, port in PYTHON2_SIGNS if pattern.search(source)]


def read_server_file(path: Path) -> str:
    """The file's source, refused in one line when it is missing or does not compile as Python 3."""
    if not path.is_file():
        raise CheckError(f"{path}: no such file")
    try:
        source = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        compile(source, str(path), "exec")
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        signs = python2_signs(source)
        if signs or "Missing parentheses in call to 'print'" in str(exc.msg):
            ports = signs or ["print statements: print(...) is a function"]
            raise CheckError(f"{where}: this is Python 2 code (as the text's part 1 and 2 listings are); "
                             f"port it to Python 3: {'; '.join(ports)}") from None
        raise CheckError(f"{where}: does not compile under Python 3: {exc.msg}") from None
    return source


def substitute(scenario: Scenario, path: Path | None, stage: stages.Stage | None, only: str | None = None,
               own: OwnServer | None = None) -> Substitution:
    """The scenario with the file (or the reader's `own` server) in every trial of `stage` that can take
    it (or in the trial `only`)."""
    trials, yours, kept = [], [], {}
    for trial in scenario.trials:
        wanted = trial.key == only if only else stages.find(trial.server.stage) is stage
        if not wanted:
            trials.append(trial)
            continue
        switches = trial.server.lab_only_switches
        if switches:
            kept[trial.key] = f"it needs {' and '.join(switches)}, which only the lab's server has"
            trials.append(trial)
            continue
        server = (dataclasses.replace(trial.server, own=own) if own is not None
                  else dataclasses.replace(trial.server, file=str(path.resolve())))
        trials.append(dataclasses.replace(trial, server=server))
        yours.append(trial.key)
    replaced = dataclasses.replace(scenario, trials=tuple(trials))
    if yours and whole_tree.applies(stage):
        replaced = dataclasses.replace(replaced, judge=whole_tree.guarded(scenario.judge, tuple(yours), stage.name))
    return Substitution(replaced, tuple(yours), kept)


def own_server(folder: Path | None, command: str | None, image: str | None, engine=None) -> OwnServer:
    """A reader's server in any language, refused in one line when the folder or the image is not there."""
    if image:
        import docker.errors

        from scenarios.executor.containers import connect

        try:
            found = (engine or connect()).images.get(image)
        except docker.errors.ImageNotFound:
            raise CheckError(f"no image {image!r} on this engine: build it first (docker build -t {image} .); "
                             f"the lab pulls nothing") from None
        return OwnServer(label=f"image {image}", digest=found.id.split(":", 1)[-1], image=image)
    if folder is None or not folder.is_dir():
        raise CheckError(f"--command runs in your folder: give it as DIR, not {folder}")
    if not command.strip():
        raise CheckError("--command is empty")
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return OwnServer(label=f"{folder.resolve().name}/ ({command})", digest=digest.hexdigest(), command=command,
                     folder=str(folder.resolve()))
