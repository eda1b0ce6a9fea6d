"""--watch's way to the page: start an lbaws watch if none serves, find the one that does, refuse a port
held by something else, and never show a second reports folder on the same port."""
import os
import signal
import socket
import time

import pytest

from watch import launch


def test_a_watch_is_started_once_then_found(tmp_path):
    port = launch.free_port()
    address, pid = launch.ensure(port, tmp_path)
    try:
        assert address == f"http://127.0.0.1:{port}/" and pid
        assert os.getsid(pid) == pid  # a session of its own: the run's Ctrl-C leaves the page up
        assert launch.ensure(port, tmp_path) == (address, None)
        with pytest.raises(launch.WatchError, match="shows .* not "):
            launch.ensure(port, tmp_path / "other")
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while launch.ping(port) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert launch.ping(port) is None


def test_a_port_held_by_something_else_is_refused(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(launch.WatchError, match=f"port {port} is already in use on 127.0.0.1"):
            launch.ensure(port, tmp_path)
