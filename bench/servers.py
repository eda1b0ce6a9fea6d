"""What `lbaws bench` measures: the servers (one row each, lbaws's and its competitors'), the apps,
the connection modes and the connection counts."""
from __future__ import annotations

from dataclasses import dataclass

# Every multi-process server gets the same number of workers, so the designs compare, not the counts.
WORKERS = 2
PORT = 8888
PATH = "/hello"
BASELINE = "gunicorn"  # each server's ratio is to this one, measured in the same run
READY_TIMEOUT_S = 30.0  # how long a server may take to answer its first request


class ServerFailed(RuntimeError):
    """A server that did not start or stopped answering, as one line with its own last words."""


@dataclass(frozen=True)
class Server:
    name: str
    summary: str
    argv: tuple  # {app}, {host}, {port} and {workers} are filled in

    def command(self, app: str, port: int = PORT, host: str = "0.0.0.0") -> list[str]:
        return [part.format(app=app, host=host, port=port, workers=WORKERS) for part in self.argv]


SERVERS = (
    Server("lbaws-prefork", f"lbaws's pre-fork stage, {WORKERS} workers, keep-alive",
           ("lbaws", "serve", "prefork", "{app}", "--workers", "{workers}", "--host", "{host}", "--port", "{port}",
            "--quiet")),
    Server("lbaws-3h", "lbaws's stage 3h: a fork() per connection (the text's last server)",
           ("lbaws", "serve", "3h", "{app}", "--host", "{host}", "--port", "{port}", "--quiet")),
    Server("gunicorn", f"gunicorn's sync worker, {WORKERS} workers",
           ("gunicorn", "--workers", "{workers}", "--worker-class", "sync", "--bind", "{host}:{port}", "{app}")),
    Server("waitress", "waitress, one process, its default 4 threads",
           ("waitress-serve", "--listen", "{host}:{port}", "{app}")),
    Server("wsgiref", "the standard library's wsgiref.simple_server, one request at a time",
           ("lbaws-bench-wsgiref", "{app}", "--host", "{host}", "--port", "{port}")),
)
SERVERS_BY_NAME = {server.name: server for server in SERVERS}

# The app's role in lab.inventory (its image carries it) -> MODULE:CALLABLE.
APPS = {"wsgi": "wsgiapp:app", "flask": "flaskapp:app"}
MODES = ("keep-alive", "close")
CONNECTIONS = (1, 32, 256)


@dataclass(frozen=True)
class Config:
    """One measured cell of the table."""

    server: str
    app: str
    mode: str
    connections: int

    @property
    def key(self) -> tuple:
        return (self.app, self.mode, self.connections, self.server)


def configs(servers, apps, modes, connections) -> list[Config]:
    """Every combination, grouped as the table shows them: by app, mode, connections, then server."""
    return [Config(server, app, mode, count)
            for app in apps for mode in modes for count in connections for server in servers]


def interleaved(cells: list[Config], rounds: int) -> list[tuple[int, Config]]:
    """(round, config) in the order they run: round 1 of every config, then round 2, ...

    A slow minute on a shared machine then lands on one round of every server, not on all rounds of one.
    """
    return [(number, cell) for number in range(1, rounds + 1) for cell in cells]
