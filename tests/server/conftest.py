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

    def start(*args, python_flags=(), env=None, wait=True, cwd=APPS, max_fds=None):
        log_path = tmp_path / f"server-{len(started)}.log"
        server = ServerProcess([*args, "--host", "127.0.0.1", "--port", "0"], log_path,
                               python_flags=python_flags, env=env, cwd=cwd, max_fds=max_fds)
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


MEASURED = "lbaws-measured"


def pytest_terminal_summary(terminalreporter):
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "teardown"
             for name, value in getattr(report, "user_properties", ()) if name == MEASURED]
    if lines:
        terminalreporter.section("what the stages did (lbaws server tests)")
        for line in lines:
            terminalreporter.write_line(line)
