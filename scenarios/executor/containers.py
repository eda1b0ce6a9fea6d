"""Containers of one scenario run: a network of its own, labels carrying the run id, unique names.

Two runs never collide: every name ends in the run id, and cleanup removes by the run's label only.
"""
from __future__ import annotations

import random
import shlex
import shutil
import threading
from pathlib import Path

import docker
import docker.errors
import docker.types

from lab import interrupts, inventory, lockdown, priority, runs
from lab.inventory import PROJECT, PROJECT_LABEL, ROLE_LABEL, RUN_LABEL, SCENARIO_LABEL, STAGE_LABEL
from scenarios.vocabulary.spec import LimitsFrom, ServerSpec, Sigterm

PORT = 8888
SERVER_FILES = "/srv/lbaws-check"  # where a reader's server file is mounted, read-only


_PID_LINE = "lbaws-exec-pid"


class _StopWatch(threading.Thread):
    """Polls `stop_when` while a client command runs, and sends that command SIGTERM once it holds."""

    def __init__(self, containers, pid: dict, stop_when, poll: float = 0.5):
        super().__init__(daemon=True, name="lbaws-stop-watch")
        self.containers, self.pid, self.stop_when, self.poll = containers, pid, stop_when, poll
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.poll):
            if self.stop_when():
                if not self.done.is_set():
                    self.containers.signal_client(self.pid["pid"])
                return


def connect() -> docker.DockerClient:
    """The engine, or inventory.EngineMissing; no build runs through this one, so it waits less."""
    return inventory.connect(timeout=120)


_GIVEN: set = set()  # the UIDs this process handed out: runs side by side in it never share one
_GIVING = threading.Lock()


def server_uid() -> int:
    # RLIMIT_NPROC counts every process of a UID on the host kernel: a UID of its own per run keeps
    # concurrent runs and other containers out of the count (and root would ignore the limit).
    with _GIVING:
        uid = 20000 + random.randrange(0, 40000)
        while uid in _GIVEN:
            uid = 20000 + random.randrange(0, 40000)
        _GIVEN.add(uid)
        return uid


def server_argv(spec: ServerSpec, sleep: float | None, file_target: str = "") -> list:
    """The server's command: the lab's stage, or a reader's file mounted at `file_target`."""
    if spec.file:
        # As the text runs it: `python webserver3d.py`, `python webserver2.py flaskapp:app`.
        return ["python3", file_target, *([spec.app] if spec.app else [])]
    command = ["lbaws", "serve", spec.stage, *([spec.app] if spec.app else []), "--port", str(PORT)]
    if sleep is not None:
        command += ["--sleep", str(sleep)]
    if spec.backlog is not None:
        command += ["--backlog", str(spec.backlog)]
    if spec.worker_timeout is not None:
        command += ["--worker-timeout", f"{spec.worker_timeout:g}"]
    if spec.python2_signals:
        command.append("--python2-signals")
    if spec.sigterm is Sigterm.DEFAULT:
        command.append("--no-sigterm-handler")
    return command


def pid1_argv(spec: ServerSpec, command: list, limits_from: LimitsFrom) -> list:
    """The server's command as its container runs it: a shell-form CMD is `/bin/sh -c "COMMAND"`, and the
    shell stays PID 1 with the server as its child. With the limits from the entrypoint, the wrapper comes
    first and execs the rest, so PID 1 is still what the trial states."""
    if command is None:  # a reader's image runs its own command, which there is nothing to wrap around
        return None
    command = ["/bin/sh", "-c", shlex.join(command)] if spec.shell_form else command
    return spec.limits.entrypoint(command) if limits_from is LimitsFrom.ENTRYPOINT else command


class RunContainers:
    """What a run asks of the engine: its network, client and servers, execs, and cleanup by its label.

    The catalog never sees it; the runner and its actions hold the Docker SDK's container handles it
    returns (docs/kubernetes.md says what a Kubernetes backend in its place would need)."""

    def __init__(self, engine: docker.DockerClient, scenario: str, run_id: str, keep: bool = False,
                 limits_from: LimitsFrom = LimitsFrom.ENGINE):
        self.engine = engine
        self.limits_from = limits_from
        self.scenario = scenario
        self.run_id = run_id
        self.labels = {PROJECT_LABEL: PROJECT, RUN_LABEL: run_id, SCENARIO_LABEL: scenario,
                       **runs.labels(keep)}
        self.network = None
        self.client = None

    def name(self, role: str) -> str:
        return f"lbaws-scn-{self.run_id}-{role}"

    def start_network(self):
        with interrupts.held():
            self.network = self.engine.networks.create(self.name("net"), driver="bridge", labels=self.labels)
        return self.network

    def start_client(self):
        with interrupts.held():
            self.client = self.engine.containers.run(
                inventory.CLIENT_IMAGE,
                command=["sleep", "infinity"],
                name=self.name("client"),
                detach=True,
                labels={**self.labels, ROLE_LABEL: "client"},
                network=self.network.name,
                init=True,  # reaps the curl and netcat processes exec'd into it
                pids_limit=4096,
                mem_limit="1g",
                # 1000 held connections need more than the default; stay under hosts whose engine cannot raise
                # its own hard limit (no CAP_SYS_RESOURCE, e.g. 20000 here).
                ulimits=[docker.types.Ulimit(name="nofile", soft=16384, hard=16384)],
                user=str(inventory.CLIENT_UID),
                **lockdown.container_options(),
                **priority.container_options(),
            )
        return self.client

    def files_folder(self) -> Path:
        return runs.files_folder(self.run_id)

    def mount_server_file(self, source: str) -> tuple:
        """A world-readable copy of a reader's file, mounted read-only: it works whatever UID the
        server runs as and whatever the host file's mode, and once root filesystems are read-only."""
        folder = self.files_folder()
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        copy = folder / Path(source).name
        if not copy.exists():
            shutil.copyfile(source, copy)
            copy.chmod(0o644)
        target = f"{SERVER_FILES}/{copy.name}"
        return target, docker.types.Mount(target=target, source=str(copy), type="bind", read_only=True)

    def mount_server_folder(self, source: str) -> tuple:
        """A world-readable copy of a reader's folder (executables stay executable), mounted read-only."""
        folder = self.files_folder()
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        copy = folder / (Path(source).resolve().name or "server")
        if not copy.exists():
            shutil.copytree(source, copy, symlinks=False)
            for path in [copy, *copy.rglob("*")]:
                mode = path.stat().st_mode
                path.chmod(0o755 if path.is_dir() or mode & 0o111 else 0o644)
        target = f"{SERVER_FILES}/{copy.name}"
        return target, docker.types.Mount(target=target, source=str(copy), type="bind", read_only=True)

    def server_command(self, spec: ServerSpec, sleep: float | None) -> tuple:
        """The command that starts the server, and what it needs mounted."""
        if spec.own is not None and spec.own.image:
            return None, []  # the image's own command
        if spec.own is not None:
            target, mount = self.mount_server_folder(spec.own.folder)
            # exec: the reader's server is PID 1 itself, as an exec-form CMD would make it.
            return ["/bin/sh", "-c", f"cd {shlex.quote(target)} && exec {spec.own.command}"], [mount]
        if spec.file:
            target, mount = self.mount_server_file(spec.file)
            return server_argv(spec, sleep, target), [mount]
        return server_argv(spec, sleep), []

    def pid1_command(self, spec: ServerSpec, sleep: float | None) -> tuple:
        """server_command as the container runs it (pid1_argv)."""
        command, mounts = self.server_command(spec, sleep)
        return pid1_argv(spec, command, self.limits_from), mounts

    def ulimits(self, spec: ServerSpec):
        """The engine's ulimits for the server; none when its entrypoint lowers them (the engine's
        defaults are then the hard ceiling it lowers from)."""
        if self.limits_from is LimitsFrom.ENTRYPOINT:
            return None
        limits = spec.limits
        return [docker.types.Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
                docker.types.Ulimit(name="nproc", soft=limits.nproc, hard=limits.nproc)]

    def start_server(self, spec: ServerSpec, alias: str, uid: int, sleep: float | None):
        command, mounts = self.pid1_command(spec, sleep)
        limits = spec.limits
        with interrupts.held():
            container = self.engine.containers.create(
                spec.own.image if spec.own is not None and spec.own.image else inventory.image(spec.image),
                command=command,
                name=self.name(alias),
                # The text's server names itself with getfqdn(); Django must accept that name as a Host.
                hostname=alias,
                # Root on purpose (pids-cgroup) is still root without any capability (the lockdown below).
                user="0" if spec.root else str(uid),
                init=spec.init or None,
                working_dir=None if spec.own is not None else inventory.APP_DIR,
                detach=True,
                labels={**self.labels, ROLE_LABEL: "server", STAGE_LABEL: spec.stage},
                # The text's webserver2.py imports the app module by name, from the apps folder.
                environment={"PYTHONUNBUFFERED": "1", "LBAWS_ALLOWED_HOSTS": alias, "PYTHONPATH": inventory.APP_DIR},
                mounts=mounts,
                ulimits=self.ulimits(spec),
                pids_limit=limits.pids_limit,
                mem_limit=limits.memory,
                **lockdown.container_options(spec.cap_add),
                **priority.container_options(),
                network=self.network.name,
                networking_config={
                    self.network.name: self.engine.api.create_endpoint_config(aliases=[alias])
                },
            )
        container.start()
        return container

    def exec_client(self, command: list, timeout: float, on_err_line=None, stop_when=None) -> tuple:
        """Run a command in the client container, bounded by coreutils `timeout` inside it. With
        `on_err_line`, its stderr is streamed and each whole line handed over as it arrives. With
        `stop_when`, a callable polled while it runs, the command gets SIGTERM once that returns True."""
        bounded = ["timeout", "-k", "2", str(max(1, round(timeout))), *command]
        if on_err_line is None and stop_when is None:
            result = self.client.exec_run(bounded, demux=True)
            out, err = result.output
            return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")
        if stop_when is not None:
            # The shell names its PID first and becomes `timeout`, which passes a SIGTERM on to the command.
            bounded = ["sh", "-c", f'echo "{_PID_LINE} $$" >&2; exec "$@"', "sh", *bounded]
        api = self.client.client.api
        exec_id = api.exec_create(self.client.id, bounded, stdout=True, stderr=True)["Id"]
        out, err, pending = [], [], b""
        pid = {}
        watch = _StopWatch(self, pid, stop_when) if stop_when is not None else None
        try:
            for out_chunk, err_chunk in api.exec_start(exec_id, stream=True, demux=True):
                if out_chunk:
                    out.append(out_chunk)
                if err_chunk:
                    *lines, pending = (pending + err_chunk).split(b"\n")
                    for line in lines:
                        text = line.decode(errors="replace")
                        if watch is not None and "pid" not in pid and text.startswith(_PID_LINE):
                            pid["pid"] = text.split()[-1]
                            watch.start()
                            continue
                        err.append(line + b"\n")
                        if on_err_line is not None:
                            on_err_line(text)
        finally:
            if watch is not None:
                watch.done.set()
        if pending:
            err.append(pending)
            if on_err_line is not None:
                on_err_line(pending.decode(errors="replace"))
        return (api.exec_inspect(exec_id)["ExitCode"], b"".join(out).decode(errors="replace"),
                b"".join(err).decode(errors="replace"))

    def signal_client(self, pid: str, signal_name: str = "TERM") -> None:
        """Send a signal to one process of the client container (by its PID there)."""
        self.client.exec_run(["kill", f"-{signal_name}", pid])

    def exec_root(self, container, command: list) -> tuple:
        return self.exec_as(container, "root", command)

    def exec_as(self, container, user: str, command: list) -> tuple:
        result = container.exec_run(command, user=str(user), demux=True)
        out, err = result.output
        return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")

    def cleanup(self) -> list:
        """Remove everything labelled with this run id, and its copies of readers' files."""
        return runs.remove_run(self.engine, self.run_id)
