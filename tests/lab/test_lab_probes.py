"""testinfra probes in each server container, run as root so they never count against the
server UID's RLIMIT_NPROC."""
import time

import pytest
import testinfra

from lab.inventory import SERVER_UID
from labhelp import NOFILE, NPROC, STAGE, TEXTS, UIDS, read_limits

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


@pytest.fixture(params=list(TEXTS))
def server(request, lab):
    container = lab.container_id(f"server-{request.param}")
    return request.param, testinfra.get_host(f"docker://root@{container}")


def serve_process(host):
    """The server: PID 1 of its container, started from the compose command."""
    process = host.process.get(pid=1)
    assert f"/opt/venv/bin/lbaws serve {STAGE} " in process.args
    return process


def test_server_runs_as_its_own_services_uid(server):
    name, host = server
    process = serve_process(host)
    assert (process.ruid, process.euid) == (UIDS[name], UIDS[name])
    assert host.user("lbaws").uid == SERVER_UID


def test_limits_in_force_are_the_configured_ones(server):
    _, host = server
    limits = read_limits(host.file(f"/proc/{serve_process(host).pid}/limits").content_string)
    assert limits == {"nofile": (NOFILE, NOFILE), "nproc": (NPROC, NPROC)}


def test_server_listens_on_8888(server):
    _, host = server
    assert host.socket("tcp://0.0.0.0:8888").is_listening


def test_no_zombie_at_rest(server, lab):
    name, host = server
    for _ in range(3):  # a few forks, each reaped by 3h's SIGCHLD handler
        assert lab.exec("client", "curl", "-sS", "--max-time", "10",
                        f"http://server-{name}:8888/hello").returncode == 0
    deadline = time.monotonic() + 5
    while True:
        states = host.check_output("ps -A -o stat=,pid=,ppid=,args=").splitlines()
        zombies = [line for line in states if line.lstrip().startswith("Z")]
        if not zombies or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert zombies == []
