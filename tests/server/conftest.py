"""Fixtures that run `lbaws serve` as a real subprocess on a free loopback port and always kill it."""

import pytest

from srvproc import APPS, ServerProcess

MEASUREMENTS = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "container: needs the lab's Docker images and engine")
    config.addinivalue_line("markers", "scenario: runs one of the tutorial's experiments in containers")


@pytest.fixture
def serve(tmp_path):
    """serve('3d', 'flaskapp:app', '--sleep', '0') -> a listening ServerProcess, killed at teardown."""
    started = []

    def start(*args, python_flags=(), env=None, wait=True, cwd=APPS, max_fds=None, cgroup=None):
        log_path = tmp_path / f"server-{len(started)}.log"
        server = ServerProcess([*args, "--host", "127.0.0.1", "--port", "0"], log_path,
                               python_flags=python_flags, env=env, cwd=cwd, max_fds=max_fds,
                               cgroup=cgroup)
        started.append(server)
        return server.wait_listening() if wait else server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def measured():
    """A place for a test to leave the numbers it observed; they are printed after the run."""
    return MEASUREMENTS


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section("what the stages did (lbaws server tests)")
        for key, value in MEASUREMENTS.items():
            terminalreporter.write_line(f"{key}: {value}")
