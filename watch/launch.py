"""Starting and finding the page's server: `lbaws watch` runs `lbaws serve prefork` with the page's app
as its child, so the master and its workers are the process tree of `lbaws watch`."""
from __future__ import annotations

import errno
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"  # the page is for this machine; nothing else reaches it
DEFAULT_PORT = 8765
WORKERS = 2
APP = "watch.app:app"
READY_TIMEOUT = 15.0


class WatchError(Exception):
    """Why the page cannot be served: one line for the terminal."""


def url(port: int, path: str = "/") -> str:
    return f"http://{HOST}:{port}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def check_port(port: int) -> None:
    """WatchError when something already listens on the port (asked before a server is started)."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise WatchError(f"port {port} is already in use on {HOST}; choose another with --port N") from None
            raise WatchError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None


def ping(port: int, timeout: float = 1.0) -> dict | None:
    """What an lbaws watch on the port says of itself; None when nothing, or something else, answers."""
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        connection.request("GET", "/api/ping")
        response = connection.getresponse()
        data = json.loads(response.read()) if response.status == 200 else None
        connection.close()
    except (OSError, ValueError, http.client.HTTPException):
        return None
    return data if isinstance(data, dict) and data.get("lbaws-watch") else None


def serve_command(port: int, workers: int = WORKERS) -> list:
    """`lbaws serve prefork watch.app:app`, by the lbaws beside this Python (the venv's), else -m lbaws."""
    lbaws = Path(sys.executable).parent / "lbaws"
    program = [str(lbaws)] if lbaws.exists() else [sys.executable, "-m", "lbaws"]
    return program + ["serve", "prefork", APP, "--host", HOST, "--port", str(port), "--workers", str(workers),
                      "--quiet"]


def start_server(port: int, reports: Path, workers: int = WORKERS, **popen) -> subprocess.Popen:
    """The pre-fork server of the page, listening once this returns; WatchError when it does not."""
    env = dict(os.environ, LBAWS_WATCH_REPORTS=str(reports.resolve()))
    # A file, not a pipe: a pipe nobody reads would stop the server once its log filled it.
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(serve_command(port, workers), env=env, stderr=log, **popen)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log.seek(0)
                lines = log.read().strip().splitlines()
                raise WatchError(f"the page's server exited ({server.returncode}): "
                                 f"{lines[-1] if lines else 'no output'}")
            if ping(port, timeout=0.5):
                return server
            time.sleep(0.1)
    except BaseException:
        # Ctrl-C or SIGTERM while it starts (a --watch may ask it before we do): no master left behind.
        stop(server)
        raise
    stop(server)
    raise WatchError(f"the page's server did not answer on {url(port)} within {READY_TIMEOUT:g}s")


def stop(server: subprocess.Popen, grace: float = 5.0) -> int:
    """SIGTERM to the master, which stops its workers; SIGKILL if it has not gone within `grace`."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


def ensure(port: int, reports: Path) -> tuple:
    """(the page's URL, the PID of an `lbaws watch` started now or None if one already served).

    Started in a session of its own, so the run's Ctrl-C does not stop the page the class watches; it
    stays until stopped with kill PID."""
    known = ping(port)
    if known is not None:
        if Path(known.get("reports", "")) != reports.resolve():
            raise WatchError(f"the lbaws watch on port {port} shows {known.get('reports')}, not {reports.resolve()}; "
                             f"give --watch-port N for another")
        return url(port), None
    check_port(port)
    reports.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "lbaws"), "watch", "--port", str(port), "--reports", str(reports)]
    watcher = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if watcher.poll() is not None:
            raise WatchError(f"lbaws watch --port {port} exited ({watcher.returncode}) before it served")
        if ping(port, timeout=0.5):
            return url(port), watcher.pid
        time.sleep(0.1)
    watcher.terminate()
    raise WatchError(f"lbaws watch did not answer on {url(port)} within {READY_TIMEOUT:g}s")
