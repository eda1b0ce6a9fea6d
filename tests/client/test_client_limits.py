"""Running out of descriptors or processes is counted, not a crash (the lab's experiments do that)."""

import json
import resource
import subprocess
import sys

import pytest

from clienthelp import client_cmd

pytestmark = pytest.mark.timeout(30)


def test_a_client_out_of_descriptors_counts_emfile(loopback):
    server = loopback("silent")

    def few_fds():
        resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))

    proc = subprocess.run(client_cmd("--url", server.url, "--max-conns", 40, "--json", "--quiet"),
                          capture_output=True, text=True, timeout=20, preexec_fn=few_fds)
    summary = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert summary["connections_attempted"] == 40
    assert 5 < summary["connected"] < 24
    assert summary["errors"] == 40 - summary["connected"]
    assert summary["failures"] == {"socket:EMFILE": summary["errors"]}
    assert server.accepted == summary["connected"]


# The fork() of the client process fails after three clients, as it does
# when RLIMIT_NPROC runs out (which root, running these tests, ignores).
FORK_FAILS_AFTER_3 = """
import errno, os, sys
real_fork, forks = os.fork, []
def fork():
    if os.getpid() == parent and len(forks) >= 3:
        raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
    forks.append(1)
    return real_fork()
parent = os.getpid()
os.fork = fork
from lbaws.client.command import main
sys.exit(main(sys.argv[1:]))
"""


def test_fork_failure_stops_forking_and_exits_1(loopback):
    server = loopback("silent")
    proc = subprocess.Popen([sys.executable, "-c", FORK_FAILS_AFTER_3, "--url", server.url,
                             "--max-clients", "20", "--hold", "1", "--json", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    summary = json.loads(out)
    assert proc.returncode == 1, err
    assert summary["fork_error"] == "EAGAIN"
    assert summary["clients_started"] == summary["connected"] == server.accepted == 3
