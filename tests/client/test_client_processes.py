"""The client waits for every child it forks and stops within bounds: no zombie, no orphan."""

import json
import os
import signal
import time

import pytest

from clienthelp import BackgroundClient, children_of, still_alive, wait_for

pytestmark = pytest.mark.timeout(40)


def _running_with_children(client, count):
    assert wait_for(lambda: len(children_of(client.proc.pid)) == count, 10)
    return children_of(client.proc.pid)


def test_a_finished_run_leaves_no_child_behind(loopback):
    server = loopback("silent")
    # A hold of 5 s: the 8 children and their connections are up in 0.07 s on a quiet machine, but with a
    # hold of 1 s a busy CI run read a state other than sleeping (a child already leaving).
    with BackgroundClient("--url", server.url, "--max-clients", 8, "--hold", 5, "--json") as client:
        kids = _running_with_children(client, 8)
        assert wait_for(lambda: server.open_now == 8, 5)
        # While holding, the children are alive and not zombies: sleeping, or running for a moment.
        assert all(open("/proc/%d/stat" % pid).read().rpartition(")")[2].split()[0] in ("S", "R")
                   for pid in kids)
        code, out, _ = client.finish()
    assert code == 0
    assert json.loads(out)["connected"] == 8
    assert still_alive(kids) == []
    assert wait_for(lambda: server.open_now == 0, 2)


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 128 + 15), (signal.SIGINT, 128 + 2)])
def test_a_signal_stops_reaps_and_still_summarises(loopback, sig, code):
    server = loopback("silent")
    with BackgroundClient("--url", server.url, "--max-clients", 6, "--hold", 60, "--json") as client:
        kids = _running_with_children(client, 6)
        assert wait_for(lambda: server.open_now == 6, 5)
        start = time.monotonic()
        os.kill(client.proc.pid, sig)
        rc, out, err = client.finish(timeout=10)
    assert time.monotonic() - start < 4
    assert rc == code
    summary = json.loads(out)
    assert summary["stopped_by"] == sig.name
    assert summary["connected"] == 6 and summary["children_failed"] == 0
    assert still_alive(kids) == []
    assert wait_for(lambda: server.open_now == 0, 2)


def test_the_deadline_stops_a_long_hold(loopback):
    server = loopback("silent")
    start = time.monotonic()
    with BackgroundClient("--url", server.url, "--max-clients", 5, "--hold", 60,
                          "--deadline", 1, "--json") as client:
        kids = _running_with_children(client, 5)
        rc, out, _ = client.finish(timeout=10)
    assert 0.9 < time.monotonic() - start < 5
    assert rc == 3
    summary = json.loads(out)
    assert summary["stopped_by"] == "deadline"
    assert summary["connected"] == 5 and summary["max_concurrent_open"] == 5
    assert still_alive(kids) == []


def test_a_child_killed_from_outside_is_reaped_and_counted(loopback):
    server = loopback("silent")
    with BackgroundClient("--url", server.url, "--max-clients", 3, "--hold", 2, "--json") as client:
        kids = _running_with_children(client, 3)
        assert wait_for(lambda: server.open_now == 3, 5)
        os.kill(min(kids), signal.SIGKILL)
        rc, out, _ = client.finish()
    assert rc == 1
    summary = json.loads(out)
    assert summary["children_failed"] == 1 and summary["connected"] == 3
    assert still_alive(kids) == []


def test_children_die_with_a_killed_parent(loopback):
    """SIGKILL leaves the parent no chance to clean up; the kernel kills the children."""
    server = loopback("silent")
    with BackgroundClient("--url", server.url, "--max-clients", 4, "--hold", 60) as client:
        kids = _running_with_children(client, 4)
        client.proc.kill()
        client.proc.wait(5)
        assert wait_for(lambda: still_alive(kids) == [], 5)
    assert wait_for(lambda: server.open_now == 0, 2)


def _zombies(pid):
    found = set()
    for kid in children_of(pid):
        try:
            with open("/proc/%d/stat" % kid) as f:
                if f.read().rpartition(")")[2].split()[0] == "Z":
                    found.add(kid)
        except OSError:
            pass
    return found


def test_finished_children_are_reaped_while_the_run_goes_on(loopback):
    # At 5 connections a second the first clients are done long before the
    # last one starts: each must be reaped then, not when the client exits.
    server = loopback("answer")
    first_seen = {}
    longest = 0.0
    with BackgroundClient("--url", server.url, "--max-clients", 10, "--rate", 5, "--read",
                          "--json") as client:
        while client.proc.poll() is None:
            now = time.monotonic()
            for pid in _zombies(client.proc.pid):
                longest = max(longest, now - first_seen.setdefault(pid, now))
            time.sleep(0.02)
        rc, out, _ = client.finish()
    assert rc == 0 and json.loads(out)["responses"] == 10
    assert server.accepted == 10
    assert longest < 0.5, "a child stayed a zombie for %.2f s" % longest
