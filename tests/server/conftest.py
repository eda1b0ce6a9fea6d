"""Fixtures that run `lbaws serve` as a real subprocess on a free loopback port and always kill it."""

import pytest

from srvproc import APPS, ServerProcess

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
def measured(request):
    """A place for a test to leave the numbers it observed; they are printed after the run.

    They travel on the test's report (user_properties), so they reach the terminal from an xdist worker too.
    """
    figures = {}
    yield figures
    request.node.user_properties.extend((MEASURED, f"{key}: {value}") for key, value in figures.items())


# tests/conftest.py prints them: under xdist only the top conftest runs where the terminal is.
MEASURED = "lbaws-measured"
