"""The lab network as `lbaws bench` uses it: a network of its own, each server in a container pinned to
one CPU, wrk in the client container pinned to the other, all with the same limits and labels.

Every object carries the run's label (as a scenario run's do), so close() and Ctrl-C remove exactly
this run's containers and network, and `lab.clean` finds them if a run was killed outright.
"""
from __future__ import annotations

import io
import os
import tarfile
import time

import docker.errors
import docker.types

from lab import inventory
from lab.build import ENGINE_ERRORS
from lab.inventory import PROJECT, PROJECT_LABEL, ROLE_LABEL, RUN_LABEL, SCENARIO_LABEL
from lab.runs import remove_labelled

from bench import servers, wrk
from bench.servers import READY_TIMEOUT_S, ServerFailed

# The same for every server: its own CPU, this much memory, room for 256 connections and their forks.
SERVER_MEMORY = "512m"
SERVER_PIDS = 1024
SERVER_NOFILE = 4096
SCRIPT_DIR = "/tmp"
CLOSE_SETTLE_S = 1.0


def cpus(engine) -> tuple[str, str]:
    """(the servers' CPU, wrk's CPU): the first two the engine has, or one shared on a single core."""
    count = engine.info().get("NCPU") or os.cpu_count() or 1
    return ("0", "1") if count >= 2 else ("0", "0")


class LabNetwork:
    where = "lab network"
    engine_errors = ENGINE_ERRORS  # what the engine raises when it fails during a run
    host = "0.0.0.0"

    def __init__(self, engine, run_id: str):
        self.engine = engine
        self.run_id = run_id
        self.labels = {PROJECT_LABEL: PROJECT, RUN_LABEL: run_id, SCENARIO_LABEL: "bench"}
        self.server_cpu, self.client_cpu = cpus(engine)
        self.network = None
        self.client = None
        self.started = {}  # (server, app) -> container

    def name(self, role: str) -> str:
        return f"lbaws-bench-{self.run_id}-{role}"

    def limits(self) -> dict:
        return {"cpuset": {"server": self.server_cpu, "wrk": self.client_cpu}, "server_memory": SERVER_MEMORY,
                "server_nofile": SERVER_NOFILE, "server_pids": SERVER_PIDS}

    def open(self) -> None:
        self.network = self.engine.networks.create(self.name("net"), driver="bridge", labels=self.labels)
        self.client = self.engine.containers.run(
            inventory.CLIENT_IMAGE, command=["sleep", "infinity"], name=self.name("wrk"), detach=True,
            labels={**self.labels, ROLE_LABEL: "client"}, network=self.network.name, init=True,
            cpuset_cpus=self.client_cpu, mem_limit="1g", pids_limit=256,
            ulimits=[docker.types.Ulimit(name="nofile", soft=16384, hard=16384)],
            # Connection: close makes wrk open tens of thousands of connections to one address a minute:
            # without reuse its ports would sit in TIME_WAIT until connect() fails.
            sysctls={"net.ipv4.tcp_tw_reuse": "1", "net.ipv4.ip_local_port_range": "1024 65000"})
        self.client.put_archive(SCRIPT_DIR, _tar(wrk.SCRIPT_NAME, wrk.SCRIPT.encode()))

    def start(self, server: servers.Server, app: str) -> None:
        alias = f"{server.name}-{app}"
        container = self.engine.containers.run(
            inventory.BENCH_IMAGE, command=server.command(servers.APPS[app]), name=self.name(alias),
            hostname=alias, detach=True, working_dir=inventory.APP_DIR,
            labels={**self.labels, ROLE_LABEL: "server"},
            environment={"PYTHONUNBUFFERED": "1", "PYTHONPATH": inventory.APP_DIR},
            cpuset_cpus=self.server_cpu, mem_limit=SERVER_MEMORY, memswap_limit=SERVER_MEMORY,
            pids_limit=SERVER_PIDS, ulimits=[docker.types.Ulimit(name="nofile", soft=SERVER_NOFILE,
                                                                 hard=SERVER_NOFILE)],
            network=self.network.name,
            networking_config={self.network.name: self.engine.api.create_endpoint_config(aliases=[alias])})
        self.started[server.name, app] = container

    def url(self, server: str, app: str) -> str:
        return f"http://{server}-{app}:{servers.PORT}{servers.PATH}"

    def ready(self, server: str, app: str, timeout: float = READY_TIMEOUT_S) -> None:
        """Return once the server answers 200 at /hello, else ServerFailed."""
        container = self.started[server, app]
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(server, app)
            _, out, _ = self._exec(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                                       self.url(server, app)], 5)
            if out.strip() == "200":
                return
            if time.monotonic() > deadline:
                raise ServerFailed(f"{server} ({app}) did not answer 200 at {servers.PATH} within {timeout:.0f} s"
                                   f" (last answer: {out.strip() or 'none'}); its output: {_tail(container)}")
            time.sleep(0.3)

    def check_alive(self, server: str, app: str) -> None:
        container = self.started[server, app]
        container.reload()
        if container.status != "running":
            code = container.attrs.get("State", {}).get("ExitCode")
            raise ServerFailed(f"{server} ({app}) exited ({code}): {_tail(container)}")

    def wrk(self, argv: list, timeout: float) -> tuple[int, str, str]:
        return self._exec(argv, timeout)

    def script(self) -> str:
        return f"{SCRIPT_DIR}/{wrk.SCRIPT_NAME}"

    def wrk_version(self) -> str:
        _, out, err = self._exec(["wrk", "--version"], 10)
        return wrk.version(out + err)

    def _exec(self, argv: list, timeout: float) -> tuple[int, str, str]:
        bounded = ["timeout", "-k", "2", str(max(1, round(timeout))), *argv]
        result = self.client.exec_run(bounded, demux=True)
        out, err = result.output
        return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")

    def close(self) -> list:
        label = inventory.label_filter(RUN_LABEL, self.run_id)
        removed = remove_labelled(self.engine, label)
        # A create that Ctrl-C cut short on our side may still complete on the engine's: look once more.
        time.sleep(CLOSE_SETTLE_S)
        return removed + remove_labelled(self.engine, label)


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tail(container, lines: int = 6) -> str:
    try:
        text = container.logs(tail=lines).decode(errors="replace")
    except docker.errors.APIError:
        return "(its logs are gone)"
    return " | ".join(line.strip() for line in text.splitlines() if line.strip()) or "(it printed nothing)"
