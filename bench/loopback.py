"""Loopback as `lbaws bench --loopback` uses it: each server a host process on 127.0.0.1 pinned to its CPUs
(the first one, or the first two) with taskset, wrk a host process pinned to the CPU after them; the
servers from the project's virtualenv.

The figures of issue 10 were taken this way; the lab's containers add a network namespace each.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import servers, wrk
from bench.servers import READY_TIMEOUT_S, ServerFailed

ROOT = Path(__file__).resolve().parent.parent
APPS_DIR = ROOT / "apps"
WSGIREF = ROOT / "images" / "bench" / "lbaws-bench-wsgiref"
RUN_ENV = "LBAWS_BENCH_RUN"
HOST = "127.0.0.1"
STOP_TIMEOUT_S = 5


class LoopbackMissing(RuntimeError):
    """A tool the loopback bench needs is not on this host."""


def _cpu_sets(most: int) -> tuple[dict, str]:
    """({CPU count: the servers' CPU list}, wrk's CPU), from the CPUs this process may use; where none is
    spare, wrk shares the last one."""
    allowed = sorted(os.sched_getaffinity(0))
    sets = {n: ",".join(str(cpu) for cpu in allowed[:n]) for n in range(1, most + 1)}
    return sets, str(allowed[min(most, len(allowed) - 1)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Loopback:
    where = "loopback"
    engine_errors = ()  # host processes: no engine to fail
    host = HOST

    def __init__(self, run_id: str, wrk_path: str, bin_dir: Path, most_cpus: int = 1):
        self.run_id = run_id
        self.wrk_path = wrk_path
        self.bin_dir = bin_dir
        self.server_cpus, self.client_cpu = _cpu_sets(most_cpus)
        self.folder = None
        self.started = {}  # Instance -> (Popen, port, log path)

    @classmethod
    def checked(cls, run_id: str, most_cpus: int = 1) -> "Loopback":
        wrk_path = shutil.which("wrk")
        if wrk_path is None:
            raise LoopbackMissing("--loopback needs wrk on this host: make setup installs it (apt-get install wrk)")
        if shutil.which("curl") is None:
            raise LoopbackMissing("--loopback needs curl on this host, to ask each server whether it keeps a connection")
        if shutil.which("taskset") is None:
            raise LoopbackMissing("--loopback needs taskset (util-linux) to pin the servers and wrk to a CPU")
        bin_dir = Path(sys.executable).parent
        missing = [name for name in ("lbaws", "gunicorn", "waitress-serve", "cheroot", "granian")
                   if not (bin_dir / name).exists()]
        if missing:
            raise LoopbackMissing(f"--loopback needs {', '.join(missing)} in {bin_dir}: run make setup "
                                  f"(pip install -e ./server -e '.[apps,bench]')")
        return cls(run_id, wrk_path, bin_dir, most_cpus)

    def limits(self) -> dict:
        return {"cpuset": {"server": self.server_cpus, "wrk": self.client_cpu}, "server_memory": "host (no limit)"}

    def open(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix=f"lbaws-bench-{self.run_id}-"))
        (self.folder / wrk.SCRIPT_NAME).write_text(wrk.SCRIPT)

    def _argv(self, server: servers.Server, app: str, port: int) -> list[str]:
        first, *rest = server.command(servers.APPS[app], port, HOST)
        if first == WSGIREF.name:
            return [sys.executable, str(WSGIREF), *rest]
        return [str(self.bin_dir / first), *rest]

    def start(self, server: servers.Server, instance: servers.Instance) -> None:
        port = _free_port()
        log = self.folder / f"{instance.alias}.log"
        # RUN_ENV names the run in every process the server forks, for anyone who looks for what it left.
        env = {**os.environ, "PYTHONPATH": str(APPS_DIR), "PYTHONUNBUFFERED": "1", RUN_ENV: self.run_id}
        with open(log, "wb") as out:
            # A session of its own: close() ends the server and every worker it forked, and the
            # terminal's Ctrl-C reaches only this command, whose cleanup stops them.
            process = subprocess.Popen(["taskset", "-c", self.server_cpus[instance.cpus],
                                        *self._argv(server, instance.app, port)],
                                       cwd=APPS_DIR, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started[instance] = (process, port, log)

    def url(self, instance: servers.Instance) -> str:
        return f"http://{HOST}:{self.started[instance][1]}{servers.PATH}"

    def ready(self, instance: servers.Instance, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(instance)
            try:
                with urllib.request.urlopen(self.url(instance), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"{instance} did not answer 200 at {servers.PATH} within {timeout:.0f} s;"
                                   f" its output: {self._tail(instance)}")
            time.sleep(0.3)

    def check_alive(self, instance: servers.Instance) -> None:
        process = self.started[instance][0]
        if process.poll() is not None:
            raise ServerFailed(f"{instance} exited ({process.returncode}): {self._tail(instance)}")

    def curl(self, instance: servers.Instance, argv: list) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=15).stdout
        except subprocess.TimeoutExpired:
            return ""

    def stop(self, instance: servers.Instance) -> str:
        """SIGTERM the server's process group (SIGKILL if it lingers); what it printed."""
        process, _, log = self.started[instance]
        if process.poll() is None:
            _stop_group(process)
        return log.read_text(errors="replace")

    def _tail(self, instance: servers.Instance, lines: int = 6) -> str:
        text = self.started[instance][2].read_text(errors="replace")
        return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip()) or "(it printed nothing)"

    def script(self) -> str:
        return str(self.folder / wrk.SCRIPT_NAME)

    def wrk(self, instance: servers.Instance, argv: list, timeout: float) -> tuple[int, str, str]:
        argv = [self.wrk_path, *argv[1:]]
        try:
            result = subprocess.run(["taskset", "-c", self.client_cpu, *argv], capture_output=True, text=True,
                                    timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            return 124, exc.stdout or "", f"wrk did not end within {timeout:.0f} s"
        return result.returncode, result.stdout, result.stderr

    def wrk_version(self) -> str:
        result = subprocess.run([self.wrk_path, "--version"], capture_output=True, text=True, timeout=10)
        return wrk.version(result.stdout + result.stderr)

    def close(self) -> list:
        stopped = []
        for instance, (process, _, _) in self.started.items():
            if process.poll() is None:
                _stop_group(process)
                stopped.append(instance.alias)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        return stopped


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its workers too), SIGKILL if it lingers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()
