"""The limits come from the environment, and SIGTERM stops a server at once."""
import time

import pytest
import testinfra

from labhelp import read_limits

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


def test_changing_lbaws_nofile_changes_the_limit_inside(compose_project):
    project = compose_project("server-wsgi", LBAWS_NOFILE=2222, LBAWS_NPROC=444)
    host = testinfra.get_host(f"docker://root@{project.container_id('server-wsgi')}")
    limits = read_limits(host.file("/proc/1/limits").content_string)
    assert limits == {"nofile": (2222, 2222), "nproc": (444, 444)}


def test_stop_is_immediate_because_the_server_handles_sigterm(compose_project):
    project = compose_project("server-flask")
    started = time.monotonic()
    # A server that ignored SIGTERM would be killed only after these 20 s.
    project.run("stop", "--timeout", "20", "server-flask")
    assert time.monotonic() - started < 5
    state = project.run("ps", "--all", "--format", "{{.State}} {{.ExitCode}}", "server-flask").stdout.split()
    assert state[0] == "exited"
    assert state[1] != "137", "the server was SIGKILLed: it did not stop on SIGTERM"
