"""What `lbaws bench` measures: the servers (one row each, lbaws's and its peers'), the apps, the
connection modes, the connection counts and the CPU counts."""
from __future__ import annotations

from dataclasses import dataclass

# Every multi-process server gets the same number of workers, so the designs compare, not the counts.
WORKERS = 2
THREADS = 4  # gunicorn gthread's threads per worker; waitress and cheroot keep their own defaults
PORT = 8888
PATH = "/hello"
READY_TIMEOUT_S = 30.0  # how long a server may take to answer its first request
# gunicorn's workers touch a heartbeat file in --worker-tmp-dir; its docs advise a tmpfs, not the container's
# overlay filesystem. /dev/shm is one in every container and on the host.
WORKER_TMP_DIR = "/dev/shm"

LBAWS, PURE_PYTHON, NATIVE = "lbaws", "pure Python", "native"  # Server.kind
ANCHOR = "granian"  # the native server every figure is also compared with, in the same run


class ServerFailed(RuntimeError):
    """A server that did not start or stopped answering, as one line with its own last words."""


@dataclass(frozen=True)
class Server:
    name: str
    summary: str
    argv: tuple  # {app}, {host}, {port}, {workers} and {threads} are filled in
    kind: str = PURE_PYTHON

    def command(self, app: str, port: int = PORT, host: str = "0.0.0.0") -> list[str]:
        return [part.format(app=app, host=host, port=port, workers=WORKERS, threads=THREADS, tmp=WORKER_TMP_DIR)
                for part in self.argv]


_GUNICORN = ("gunicorn", "--workers", "{workers}", "--worker-tmp-dir", "{tmp}", "--bind", "{host}:{port}")
SERVERS = (
    Server("lbaws-prefork", f"lbaws's pre-fork stage, {WORKERS} workers, keep-alive",
           ("lbaws", "serve", "prefork", "{app}", "--workers", "{workers}", "--host", "{host}", "--port", "{port}",
            "--quiet"), LBAWS),
    Server("lbaws-3h", "lbaws's stage 3h: a fork() per connection (the text's last server)",
           ("lbaws", "serve", "3h", "{app}", "--host", "{host}", "--port", "{port}", "--quiet"), LBAWS),
    Server("gunicorn-sync", f"gunicorn's sync worker, {WORKERS} workers (it closes every connection, by design)",
           (*_GUNICORN, "--worker-class", "sync", "{app}")),
    Server("gunicorn-gthread", f"gunicorn's gthread worker, {WORKERS} workers x {THREADS} threads, keep-alive",
           (*_GUNICORN, "--worker-class", "gthread", "--threads", "{threads}", "{app}")),
    Server("waitress", "waitress, one process, its default 4 threads",
           ("waitress-serve", "--listen", "{host}:{port}", "{app}")),
    Server("cheroot", "cheroot (CherryPy's server), one process, its default thread pool",
           ("cheroot", "--bind", "{host}:{port}", "{app}")),
    Server(ANCHOR, f"granian, a Rust HTTP core calling the WSGI app, {WORKERS} workers",
           (ANCHOR, "--interface", "wsgi", "--workers", "{workers}", "--host", "{host}", "--port", "{port}",
            "--no-ws", "{app}"), NATIVE),
    Server("wsgiref", "the standard library's wsgiref.simple_server, one request at a time",
           ("lbaws-bench-wsgiref", "{app}", "--host", "{host}", "--port", "{port}")),
)
SERVERS_BY_NAME = {server.name: server for server in SERVERS}

# The app's role in lab.inventory (its image carries it) -> MODULE:CALLABLE.
APPS = {"wsgi": "wsgiapp:app", "flask": "flaskapp:app"}
MODES = ("keep-alive", "close")
CONNECTIONS = (1, 32, 256)
CPUS = (1,)  # CPUs each server gets by default; --cpus 1,2 runs every server on one and on two


@dataclass(frozen=True)
class Instance:
    """One running server: a server of the table serving one app on so many CPUs."""

    server: str
    app: str
    cpus: int = 1

    @property
    def alias(self) -> str:
        return f"{self.server}-{self.app}-{self.cpus}cpu"

    def __str__(self) -> str:
        return f"{self.server} ({self.app}, {self.cpus} CPU{'s' if self.cpus > 1 else ''})"


@dataclass(frozen=True)
class Config:
    """One measured cell of the table."""

    server: str
    app: str
    mode: str
    connections: int
    cpus: int = 1

    @property
    def instance(self) -> Instance:
        return Instance(self.server, self.app, self.cpus)

    @property
    def group(self) -> tuple:
        """The cells compared with one another: same CPUs, app, mode and connections."""
        return (self.cpus, self.app, self.mode, self.connections)


def instances(servers, apps, cpus=CPUS) -> list[Instance]:
    return [Instance(server, app, count) for count in cpus for app in apps for server in servers]


def configs(servers, apps, modes, connections, cpus=CPUS) -> list[Config]:
    """Every combination, grouped as the table shows them: by CPUs, app, mode, connections, then server."""
    return [Config(server, app, mode, count, cpu_count)
            for cpu_count in cpus for app in apps for mode in modes for count in connections for server in servers]


def interleaved(cells: list[Config], rounds: int) -> list[tuple[int, Config]]:
    """(round, config) in the order they run: round 1 of every config, then round 2, ...

    A slow minute on a shared machine then lands on one round of every server, not on all rounds of one.
    """
    return [(number, cell) for number in range(1, rounds + 1) for cell in cells]
