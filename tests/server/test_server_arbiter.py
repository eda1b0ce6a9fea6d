"""The prefork master's guarantees, against real processes and sockets: what gunicorn's arbiter survives
(a failed fork(), a worker stuck in the app, SIGHUP, --max-requests, a signal right after a fork, an
accept() error of one client), and one worker woken per new connection."""

import errno
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from srvnet import children, raw_exchange, read_all, status_of, wait_until, zombies
from srvproc import join_cgroup, run_lbaws
from test_server_prefork import GET, _serving, _workers

pytestmark = pytest.mark.timeout(90)

SEAMS = str(Path(__file__).resolve().parent / "seams")


def _hello(port):
    return status_of(raw_exchange(port, GET % b"hello", timeout=5, until=b"application!\n"))


def _echo_pid(port, path="/e"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())["pid"]
    finally:
        conn.close()


CGROUPS = Path("/sys/fs/cgroup")


def _pids_parent():
    """Where a pids cgroup of our own can be made: cgroup v1's pids hierarchy, or v2's root with the pids
    controller handed down to its children; None when neither is writable here."""
    v1 = CGROUPS / "pids"
    if (v1 / "cgroup.procs").exists():
        return v1 if os.access(v1, os.W_OK) else None
    control = CGROUPS / "cgroup.subtree_control"
    if not (CGROUPS / "cgroup.controllers").exists() or "pids" not in (CGROUPS / "cgroup.controllers").read_text():
        return None
    try:
        if "pids" not in control.read_text().split():
            control.write_text("+pids")
    except OSError:
        return None
    return CGROUPS


@pytest.fixture
def pids_limit():
    """pids_limit(n) -> a pids cgroup folder allowing n processes (the limit a container's --pids-limit
    sets); whatever is left in it is killed and the folder removed at teardown."""
    parent = _pids_parent()
    if parent is None:
        pytest.fail(f"no writable pids cgroup under {CGROUPS}: this test needs one of its own (run as root)")
    made = []

    def make(count):
        folder = parent / f"lbaws-test-{os.getpid()}-{len(made)}"
        folder.mkdir()
        made.append(folder)
        (folder / "pids.max").write_text(str(count))
        return str(folder)

    yield make
    for folder in made:
        for pid in (folder / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert wait_until(lambda: not (folder / "cgroup.procs").read_text().strip(), deadline=10)
        folder.rmdir()


def test_a_failed_fork_when_replacing_a_worker_is_logged_once_retried_and_the_others_serve(serve, pids_limit,
                                                                                           measured):
    cgroup = pids_limit(3)  # the master and its 2 workers
    server = serve("prefork", "wsgiapp:app", "--workers", "2", cgroup=cgroup)
    victim, survivor = _serving(server, 2)
    # Another process takes the slot the victim frees: moving in is not held to pids.max, forking is.
    holder = subprocess.Popen(["sleep", "60"], preexec_fn=lambda: join_cgroup(cgroup))
    try:
        os.kill(victim, signal.SIGKILL)
        assert server.wait_for_log(r"fork\(\) of a worker failed: \[Errno 11\]", deadline=10), server.log()
        served = [_hello(server.port) for _ in range(10)]
        time.sleep(2.5)  # several back-off rounds
        assert _workers(server) == [survivor], children(server.pid)
        failures = len(re.findall(r"fork\(\) of a worker failed", server.log()))
    finally:
        holder.kill()
        holder.wait()
    assert served == [200] * 10
    assert failures == 1, server.log()
    assert server.wait_for_log(r"fork\(\) of a worker works again after \d+ failures", deadline=10), server.log()
    assert wait_until(lambda: len(_workers(server)) == 2, deadline=10), children(server.pid)
    assert server.alive() and wait_until(lambda: not zombies(server.pid), deadline=10), children(server.pid)
    measured["prefork fork() EAGAIN under pids.max 3"] = "logged once, 10/10 served by the survivor, replaced after"


def test_a_worker_stuck_in_the_app_is_killed_after_the_worker_timeout_while_the_others_serve(serve, measured):
    server = serve("prefork", "wsgiapp:app", "--workers", "2", "--worker-timeout", "2", "--timeout", "30")
    before = _serving(server, 2)
    stuck = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        stuck.sendall(GET % b"slow?seconds=25")
        started = time.monotonic()
        time.sleep(0.3)
        served = [_hello(server.port) for _ in range(5)]
        assert server.wait_for_log(r"Worker (\d+) gave no sign of life for 2\.0s", deadline=10), server.log()
        killed_after = time.monotonic() - started
        hung = int(re.search(r"Worker (\d+) gave no sign of life", server.log()).group(1))
        assert read_all(stuck, timeout=5) == b"", "the stuck request dies with its worker"
    finally:
        stuck.close()
    assert hung in before
    assert wait_until(lambda: len(_workers(server)) == 2 and hung not in _workers(server), deadline=10), \
        children(server.pid)
    assert re.search(rf"Worker {hung} was killed by SIGKILL; starting another", server.log())
    assert served == [200] * 5 and _hello(server.port) == 200
    assert 1.5 < killed_after < 6, killed_after
    measured["prefork --worker-timeout 2, /slow?seconds=25"] = f"worker killed after {killed_after:.1f}s, 5/5 served"


def test_sighup_starts_new_workers_drains_the_old_and_the_master_lives(serve, measured):
    server = serve("prefork", "wsgiapp:app", "--workers", "2")
    old = _serving(server, 2)
    got = {}

    def client():
        got["response"] = raw_exchange(server.port, GET % b"slow?seconds=1.5", timeout=10, until=b"application!\n")

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.4)
    os.kill(server.pid, signal.SIGHUP)
    assert wait_until(lambda: (lambda now: len(now) == 2 and not set(now) & set(old))(_workers(server)),
                      deadline=15), (old, children(server.pid))
    thread.join(10)
    new = _workers(server)
    assert status_of(got["response"]) == 200, "the request in flight on an old worker finished"
    # An old worker that has just left may wait a moment for the master's reaping; none stays a zombie.
    assert server.alive() and wait_until(lambda: not zombies(server.pid), deadline=10), children(server.pid)
    assert server.wait_for_log(r"Reload: 2 new worker\(s\) serve", deadline=1), server.log()
    assert _hello(server.port) == 200
    measured["prefork SIGHUP"] = f"workers {old} -> {sorted(new)}, 1.5 s request in flight answered"


def test_max_requests_retires_a_worker_and_loses_no_request(serve, measured):
    server = serve("prefork", "echoapp:app", "--workers", "1", "--max-requests", "5")
    _serving(server, 1)
    pids = [_echo_pid(server.port, f"/r/{i}") for i in range(20)]
    runs = [len(list(group)) for group in _runs(pids)]
    assert runs == [5, 5, 5, 5], pids
    # On one keep-alive connection to the fresh worker, the fifth answer says close.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        heads = []
        for _ in range(5):
            sock.sendall(GET % b"ka")
            heads.append(read_all(sock, timeout=5, until=b"\n}\n"))
    assert [b"Connection: keep-alive" in head for head in heads] == [True, True, True, True, False]
    assert b"Connection: close" in heads[-1]
    # The worker that sent that close retires at once; the master reaps it when its SIGCHLD comes.
    assert wait_until(lambda: not zombies(server.pid), deadline=10), children(server.pid)
    measured["prefork --max-requests 5, 20 requests"] = f"runs per worker {runs}"


def test_max_requests_jitter_spreads_the_retirements(serve):
    server = serve("prefork", "echoapp:app", "--workers", "1", "--max-requests", "3", "--max-requests-jitter", "3")
    _serving(server, 1)
    pids = [_echo_pid(server.port) for _ in range(60)]
    runs = [len(list(group)) for group in _runs(pids)][:-1]  # the last worker is still serving
    assert all(3 <= run <= 6 for run in runs), runs
    assert len(set(runs)) > 1, f"every worker retired after the same count: {runs}"


def _runs(pids):
    """The runs of one pid after another: each a worker's requests before it retired."""
    return (group for _, group in itertools.groupby(pids))


def _wakeups(pid):
    fields = dict(line.split(":\t") for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":\t" in line)
    return int(fields["voluntary_ctxt_switches"])


def test_one_worker_wakes_for_each_new_connection_not_every_worker(serve, measured):
    server = serve("prefork", "echoapp:app", "--workers", "3")
    workers = _serving(server, 3)
    time.sleep(0.5)
    before = {pid: _wakeups(pid) for pid in workers}
    count = 300
    started = time.monotonic()
    taken = [_echo_pid(server.port) for _ in range(count)]
    took = time.monotonic() - started
    woken = {pid: _wakeups(pid) - before[pid] for pid in workers}
    # Each worker also wakes by itself every SWEEP_EVERY (0.2 s); past that, a worker woken for a connection
    # it does not take is the thundering herd.
    sweeps = took / 0.2 + 5
    for pid in workers:
        spare = woken[pid] - 2 * taken.count(pid) - sweeps
        assert spare < count / 3, (woken, {p: taken.count(p) for p in workers}, took)
    measured["prefork 3 workers, 300 connections one after another"] = (
        f"wake-ups {sorted(woken.values())}, connections {sorted(taken.count(p) for p in workers)}")


def test_kept_connections_opened_one_after_another_spread_over_the_workers(serve):
    # On a quiet machine the first waiting worker would take them all: then one worker stuck in the app
    # would stall every client.
    server = serve("prefork", "echoapp:app", "--workers", "2")
    workers = _serving(server, 2)
    time.sleep(0.5)
    kept = []
    try:
        for _ in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", "/e")
            response = conn.getresponse()
            assert response.status == 200
            kept.append((conn, json.loads(response.read())["pid"]))
        held = sorted([pid for _, pid in kept].count(worker) for worker in workers)
        assert held == [4, 4], held
    finally:
        for conn, _ in kept:
            conn.close()


def test_a_sigterm_right_after_the_fork_is_kept_by_the_new_worker(serve):
    env = {"PYTHONPATH": SEAMS, "LBAWS_SEAM_FORK_PAUSE": "1.0"}
    server = serve("prefork", "wsgiapp:app", "--workers", "1", env=env)
    assert server.wait_for_log(r"seam: child (\d+) paused after fork", deadline=10), server.log()
    first = int(re.search(r"seam: child (\d+) paused", server.log()).group(1))
    os.kill(first, signal.SIGTERM)  # before the child has its own handlers: held, not lost
    assert server.wait_for_log(rf"Worker {first} exited with 0; starting another", deadline=15), server.log()
    assert server.wait_for_log(r"Worker \d+ serving", count=2, deadline=15), server.log()
    assert _hello(server.port) == 200 and first not in _workers(server)


@pytest.mark.parametrize("name", ["EPROTO", "ECONNABORTED", "ENETUNREACH"])
def test_an_accept_error_of_one_client_does_not_cost_the_worker(serve, name):
    env = {"PYTHONPATH": SEAMS, "LBAWS_SEAM_ACCEPT_ERRNO": name}
    server = serve("prefork", "wsgiapp:app", "--workers", "1", env=env)
    (worker,) = _serving(server, 1)
    assert [_hello(server.port) for _ in range(3)] == [200] * 3
    assert server.wait_for_log(rf"Worker {worker}: accept\(\) failed for one client: \[Errno {_errno(name)}\]",
                               deadline=2), server.log()
    assert _workers(server) == [worker] and "crashed" not in server.log()


def _errno(name):
    return getattr(errno, name)


@pytest.mark.parametrize("option", [["--worker-timeout", "5"], ["--max-requests", "10"],
                                    ["--max-requests-jitter", "2"]])
def test_prefork_options_are_refused_by_other_stages_in_one_line(option):
    result = run_lbaws("serve", "3h", "wsgiapp:app", *option, "--port", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"lbaws: {option[0]} is for a pre-forked stage (prefork); "
                                     "stage 3h has no workers")
