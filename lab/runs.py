"""Runs and their labels: a run's id, the labels that tie its objects to it and to who runs it, its
folder of file copies, and the sweep of what a dead runner left behind.

Every run (a scenario's, a check's, a bench's) labels its objects with who runs it (host, boot, PID and
the PID's start time), and the next run removes those whose runner is gone before it starts.

A runner killed with SIGKILL runs no cleanup; its containers would live on, holding a server's limits
and its UID. Only a runner on this host can be checked, so objects labelled from another host, or
kept on purpose with --keep, or made without the label, are never touched.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from lab import inventory, paths
from lab.inventory import KEPT_LABEL, PROJECT_LABEL, RUN_LABEL, RUNNER_LABEL


def new_run_id(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


def files_folder(run_id: str) -> Path:
    """Where a run keeps the copies of readers' files that its containers mount."""
    return paths.CACHE / "runs" / run_id


def remove_labelled(engine, label: str) -> list:
    """Remove every container and network that carries `label` (KEY=VALUE); the names removed."""
    removed = []
    for container in engine.containers.list(all=True, filters={"label": label}):
        try:
            container.remove(force=True)
            removed.append(container.name)
        except docker.errors.NotFound:
            pass
    for network in engine.networks.list(filters={"label": label}):
        try:
            network.remove()
            removed.append(network.name)
        except docker.errors.NotFound:
            pass
    return removed


def remove_run(engine, run_id: str) -> list:
    """Remove one run's containers, network and file copies; the names removed."""
    removed = remove_labelled(engine, inventory.label_filter(RUN_LABEL, run_id))
    folder = files_folder(run_id)
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(str(folder))
    return removed


def removal_command(run_id: str) -> str:
    """The shell line that removes one run's containers and network, for a run kept with --keep."""
    label = inventory.label_filter(RUN_LABEL, run_id)
    return (f"docker ps -aq --filter label={label} | xargs -r docker rm -f; "
            f"docker network ls -q --filter label={label} | xargs -r docker network rm; "
            f"rm -rf {files_folder(run_id)}")


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def _started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None when there is no such process.

    With the PID it names one process for the life of the boot: a PID reused by another process
    has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat[stat.rindex(")") + 2:].split()[19]


@dataclass(frozen=True)
class Runner:
    host: str
    boot: str
    pid: int
    started: str

    @classmethod
    def this(cls) -> "Runner":
        # LBAWS_RUNNER_HOST: a name of its own for a few runs of one machine, which the others then leave
        # alone as another host's (the test suite's killed runner, swept by its own next run only).
        host = os.environ.get("LBAWS_RUNNER_HOST") or socket.gethostname()
        return cls(host, _boot_id(), os.getpid(), _started(os.getpid()) or "?")

    @classmethod
    def parse(cls, label: str) -> "Runner | None":
        try:
            host, boot, pid, started = label.rsplit("/", 3)
            return cls(host, boot, int(pid), started)
        except ValueError:
            return None

    @property
    def label(self) -> str:
        return f"{self.host}/{self.boot}/{self.pid}/{self.started}"

    def gone(self) -> bool:
        """True only when this host can tell: the same machine, and that process no longer runs.

        A runner from an earlier boot is gone too; one from another host is never judged.
        """
        here = Runner.this()
        if self.host != here.host:
            return False
        if self.boot != here.boot:
            return True
        return _started(self.pid) != self.started


def labels(keep: bool) -> dict:
    """The labels that tie a run's objects to this runner (and, with --keep, keep them from sweeps)."""
    return {RUNNER_LABEL: Runner.this().label, **({KEPT_LABEL: "true"} if keep else {})}


def orphaned_runs(engine) -> dict:
    """run id -> the Runner that made it, for every run whose runner is gone and which was not kept."""
    # The low-level listings carry the labels: no inspect per object, which a run finishing meanwhile
    # would turn into NotFound.
    selection = {"label": [PROJECT_LABEL, RUNNER_LABEL]}
    found = [c.get("Labels") or {} for c in engine.api.containers(all=True, filters=selection)]
    found += [n.get("Labels") or {} for n in engine.api.networks(filters=selection)]
    runs = {}
    for labels_of in found:
        runner = Runner.parse(labels_of.get(RUNNER_LABEL, ""))
        run_id = labels_of.get(RUN_LABEL)
        if run_id and runner and KEPT_LABEL not in labels_of and runner.gone():
            runs[run_id] = runner
    return runs


def remove_orphans(engine, say=inventory.quiet) -> dict:
    """Remove the objects (and file copies) of every run whose runner is gone; run id -> names removed."""
    removed = {}
    try:
        orphans = orphaned_runs(engine)
    except docker.errors.APIError as exc:  # a sweep must never stop the run that does it
        say(f"could not look for what earlier runs left behind: {exc}")
        return removed
    for run_id, runner in orphans.items():
        try:
            names = remove_run(engine, run_id)
        except docker.errors.APIError as exc:
            say(f"could not remove the leftovers of run {run_id}: {exc}")
            continue
        removed[run_id] = names
        say(f"removed what run {run_id} left behind (its runner, PID {runner.pid} on {runner.host}, is gone): "
            f"{', '.join(names)}")
    return removed
