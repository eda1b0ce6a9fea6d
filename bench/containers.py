"""The lab's containers as `lbaws bench` uses them: each server in a container pinned to its CPUs (the first
one, or the first two), and beside it a wrk container in the server's own network namespace, pinned to the
CPU after them, reaching it on 127.0.0.1; all with the same limits, the lab's lockdown and the run's labels.

Loopback inside the namespace, not the bridge between containers: the host tracks every bridged connection
in its own conntrack table, 120 s past its close, and close-mode rounds (tens of thousands of connections
a minute) fill it until the kernel drops SYNs and DNS queries. Every server is measured the same way.

Every object carries the run's label and its runner's (as a scenario run's do), so close() and Ctrl-C
remove exactly this run's containers and network, and the next run sweeps them if a bench was killed
outright.
"""
from __future__ import annotations

import os
import shlex
import time

import docker.errors
import docker.types

from lab import interrupts, inventory, lockdown, priority, runs
from lab.build import ENGINE_ERRORS
from lab.inventory import PROJECT, PROJECT_LABEL, ROLE_LABEL, RUN_LABEL, SCENARIO_LABEL
from lab.runs import remove_labelled

from bench import servers, wrk
from bench.servers import READY_TIMEOUT_S, ServerFailed

# The same for every server: its own CPU, this much memory, room for 256 connections and their forks.
SERVER_MEMORY = "512m"
# Docker's embedded DNS puts a NAT rule in each container's network namespace, so conntrack tracks every
# connection there too, 120 s past its close by default: one second is what a closed one needs here.
# Connection: close makes wrk open tens of thousands of connections to one address a minute: without
# reuse its ports would sit in TIME_WAIT until connect() fails. Both in the server's namespace, which
# its wrk shares.
LOOPBACK_SYSCTLS = {"net.netfilter.nf_conntrack_tcp_timeout_time_wait": "1", "net.ipv4.tcp_tw_reuse": "1",
                    "net.ipv4.ip_local_port_range": "1024 65000"}
SERVER_PIDS = 1024
SERVER_NOFILE = 4096
SCRIPT_DIR = "/tmp"  # the lockdown's tmpfs: the client's only writable place
STOP_TIMEOUT_S = 3


def cpu_sets(engine, most: int) -> tuple[dict, str]:
    """({CPU count: the cpuset of a server given that many}, wrk's cpuset): the first CPUs for the server,
    the next one for wrk; where the engine has no spare CPU, wrk shares the last one."""
    count = engine.info().get("NCPU") or os.cpu_count() or 1
    sets = {n: ",".join(str(cpu) for cpu in range(min(n, count))) for n in range(1, most + 1)}
    return sets, str(min(most, count - 1))


class LabNetwork:
    where = "lab containers, wrk in each server's network namespace"
    engine_errors = ENGINE_ERRORS  # what the engine raises when it fails during a run
    host = "0.0.0.0"

    def __init__(self, engine, run_id: str, most_cpus: int = 1):
        self.engine = engine
        self.run_id = run_id
        self.labels = {PROJECT_LABEL: PROJECT, RUN_LABEL: run_id, SCENARIO_LABEL: "bench", **runs.labels(keep=False)}
        self.server_cpus, self.client_cpu = cpu_sets(engine, most_cpus)
        self.network = None
        self.started = {}  # Instance -> its server's container
        self.clients = {}  # Instance -> the wrk container in its server's network namespace

    def name(self, role: str) -> str:
        return f"lbaws-bench-{self.run_id}-{role}"

    def limits(self) -> dict:
        return {"cpuset": {"server": self.server_cpus, "wrk": self.client_cpu}, "server_memory": SERVER_MEMORY,
                "server_nofile": SERVER_NOFILE, "server_pids": SERVER_PIDS,
                "lockdown": {"cap_drop": list(lockdown.CAP_DROP), "read_only": True, "tmpfs": dict(lockdown.TMPFS)}}

    def open(self) -> None:
        runs.remove_orphans(self.engine)  # what a bench or scenario killed outright left behind
        with interrupts.held():
            self.network = self.engine.networks.create(self.name("net"), driver="bridge", labels=self.labels)

    def start(self, server: servers.Server, instance: servers.Instance) -> None:
        alias = instance.alias
        with interrupts.held():
            container = self.engine.containers.run(
                inventory.BENCH_IMAGE, command=server.command(servers.APPS[instance.app]), name=self.name(alias),
                hostname=alias, detach=True, working_dir=inventory.APP_DIR,
                labels={**self.labels, ROLE_LABEL: "server"}, **lockdown.container_options(),
                **priority.container_options(),
                environment={"PYTHONUNBUFFERED": "1", "PYTHONPATH": inventory.APP_DIR},
                cpuset_cpus=self.server_cpus[instance.cpus], mem_limit=SERVER_MEMORY, memswap_limit=SERVER_MEMORY,
                pids_limit=SERVER_PIDS, ulimits=[docker.types.Ulimit(name="nofile", soft=SERVER_NOFILE,
                                                                     hard=SERVER_NOFILE)],
                network=self.network.name, sysctls=dict(LOOPBACK_SYSCTLS),
                networking_config={self.network.name: self.engine.api.create_endpoint_config(aliases=[alias])})
        self.started[instance] = container
        with interrupts.held():
            self.clients[instance] = self.engine.containers.run(
                inventory.CLIENT_IMAGE, command=["sleep", "infinity"], name=self.name(f"{alias}-wrk"), detach=True,
                labels={**self.labels, ROLE_LABEL: "client"}, network_mode=f"container:{container.id}", init=True,
                cpuset_cpus=self.client_cpu, mem_limit="1g", pids_limit=256, **lockdown.container_options(),
                **priority.container_options(),
                ulimits=[docker.types.Ulimit(name="nofile", soft=16384, hard=16384)])
        # The root filesystem is read-only: the script goes to the tmpfs through a shell, not put_archive.
        written = f"printf %s {shlex.quote(wrk.SCRIPT)} > {self.script()}"
        code, _, err = self._exec(instance, ["sh", "-c", written], 10)
        if code != 0:
            raise ServerFailed(f"cannot write wrk's script in {alias}'s client container: {err.strip()[-200:]}")

    def url(self, instance: servers.Instance) -> str:
        return f"http://127.0.0.1:{servers.PORT}{servers.PATH}"

    def ready(self, instance: servers.Instance, timeout: float = READY_TIMEOUT_S) -> None:
        """Return once the server answers 200 at /hello, else ServerFailed."""
        container = self.started[instance]
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(instance)
            _, out, _ = self._exec(instance, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                                       self.url(instance)], 5)
            if out.strip() == "200":
                return
            if time.monotonic() > deadline:
                raise ServerFailed(f"{instance} did not answer 200 at {servers.PATH} within {timeout:.0f} s"
                                   f" (last answer: {out.strip() or 'none'}); its output: {_tail(container)}")
            time.sleep(0.3)

    def check_alive(self, instance: servers.Instance) -> None:
        container = self.started[instance]
        container.reload()
        if container.status != "running":
            code = container.attrs.get("State", {}).get("ExitCode")
            raise ServerFailed(f"{instance} exited ({code}): {_tail(container)}")

    def curl(self, instance: servers.Instance, argv: list) -> str:
        return self._exec(instance, argv, 15)[1]

    def stop(self, instance: servers.Instance) -> str:
        """Stop the server as `docker stop` does (SIGTERM, its grace period); what it printed."""
        container = self.started[instance]
        try:
            container.stop(timeout=STOP_TIMEOUT_S)
            return container.logs(tail=20).decode(errors="replace")
        except docker.errors.APIError:
            return ""

    def wrk(self, instance: servers.Instance, argv: list, timeout: float) -> tuple[int, str, str]:
        return self._exec(instance, argv, timeout)

    def script(self) -> str:
        return f"{SCRIPT_DIR}/{wrk.SCRIPT_NAME}"

    def wrk_version(self) -> str:
        if not self.clients:
            return "unknown"
        _, out, err = self._exec(next(iter(self.clients)), ["wrk", "--version"], 10)
        return wrk.version(out + err)

    def _exec(self, instance: servers.Instance, argv: list, timeout: float) -> tuple[int, str, str]:
        bounded = ["timeout", "-k", "2", str(max(1, round(timeout))), *argv]
        result = self.clients[instance].exec_run(bounded, demux=True)
        out, err = result.output
        return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")

    def close(self) -> list:
        # No second look needed: Ctrl-C never cuts a create short (lab.interrupts.held).
        return remove_labelled(self.engine, inventory.label_filter(RUN_LABEL, self.run_id))


def _tail(container, lines: int = 6) -> str:
    try:
        text = container.logs(tail=lines).decode(errors="replace")
    except docker.errors.APIError:
        return "(its logs are gone)"
    return " | ".join(line.strip() for line in text.splitlines() if line.strip()) or "(it printed nothing)"
