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
# docker-py now and then reads an exec's output out of step with its 8-byte frame headers (its issue #3160,
# seen here once in some 4,000 probes of a busy machine): "ValueError: 32 is not a valid stream", a byte
# of the output taken for a header. The command had run; a probe only reads state, so it runs again.
READS = 3
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
        for read in range(READS):
            try:
                out, err, rc = self.exec(cmd)
                break
            except ValueError:  # the output read out of step (READS, above)
                if read == READS - 1:
                    raise
            except docker.errors.APIError as exc:  # the container stopped or went: what `docker exec` says, rc 1
                out, err, rc = b"", f"Error response from daemon: {exc.explanation or exc}".encode(), 1
                break
        return self.result(rc if rc is not None else 1, self.encode(cmd), out or b"", err or b"")

    def exec(self, cmd: str) -> tuple:
        exec_id = api().exec_create(self.name, ["/bin/sh", "-c", cmd], user=self.user or "")["Id"]
        out, err = api().exec_start(exec_id, demux=True)
        return out, err, api().exec_inspect(exec_id)["ExitCode"]


def host(spec: str) -> testinfra.host.Host:
    """A testinfra host for "user@container" (or "container"), as `testinfra.get_host("docker://...")`."""
    return testinfra.host.Host(EngineBackend(spec))
