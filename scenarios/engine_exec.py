"""testinfra's docker backend, its commands run through the engine's API rather than the docker CLI.

testinfra runs `docker exec` through a shell for each command: a shell and a CLI process on the host
beside the exec itself, a third more CPU per probe. A scenario probes a few hundred times, side by side
with others, so the probes go straight to the engine; testinfra's host (its `run`, `process`, `socket`,
`file` modules) stays what the probes are written against.
"""
from __future__ import annotations

import threading

import docker
import docker.errors
import testinfra.host
from testinfra.backend.docker import DockerBackend

POOL = 32  # connections to the engine: every sampler and runner of a session's experiments may exec at once
_api = None
_lock = threading.Lock()


def api() -> docker.APIClient:
    """One client for the process: its connection pool is shared by every probe."""
    global _api
    with _lock:
        if _api is None:
            _api = docker.from_env(max_pool_size=POOL).api
        return _api


class EngineBackend(DockerBackend):
    NAME = "docker"

    def run(self, command: str, *args: str, **kwargs) -> testinfra.backend.base.CommandResult:
        cmd = self.get_command(command, *args)
        try:
            exec_id = api().exec_create(self.name, ["/bin/sh", "-c", cmd], user=self.user or "")["Id"]
            out, err = api().exec_start(exec_id, demux=True)
            rc = api().exec_inspect(exec_id)["ExitCode"]
        except docker.errors.APIError as exc:  # the container stopped or went: what `docker exec` says, rc 1
            out, err, rc = b"", f"Error response from daemon: {exc.explanation or exc}".encode(), 1
        return self.result(rc if rc is not None else 1, self.encode(cmd), out or b"", err or b"")


def host(spec: str) -> testinfra.host.Host:
    """A testinfra host for "user@container" (or "container"), as `testinfra.get_host("docker://...")`."""
    return testinfra.host.Host(EngineBackend(spec))
