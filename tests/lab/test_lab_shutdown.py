"""`docker compose stop` and `down` with the server's own SIGTERM handling: a response in flight finishes,
the server exits by itself (not 137, the kill), well inside compose.yaml's 3 s stop grace period.

The engine's own events are the proof that no SIGKILL came: `docker stop` sends SIGTERM, and only when
the grace period runs out a second kill event with signal 9; the die event carries the exit code.
Durations are reported, and bounded generously: compose itself takes a second or more on a busy machine.
"""
import json
import re
import subprocess
import threading
import time
import urllib.request

import pytest

from lab import inventory

pytestmark = [pytest.mark.container, pytest.mark.timeout(300)]

GRACE_S = 3.0  # compose.yaml's stop_grace_period for the servers


@pytest.fixture
def measured(request):
    """Figures written to the terminal as measured, so a run shows the shutdown times."""
    class Figures(dict):
        def __setitem__(self, key, value):
            writer = request.config.pluginmanager.getplugin("terminalreporter")
            if writer:
                writer.write_line(f"\n{key}: {value}")
            super().__setitem__(key, value)
    return Figures()


def engine_events(container_ids, since, kind):
    """The engine's `kind` events (die, kill) of these containers since `since`: their attributes."""
    until = str(int(time.time()) + 1)
    filters = [arg for cid in container_ids for arg in ("--filter", f"container={cid}")]
    out = subprocess.run(["docker", "events", "--since", since, "--until", until, "--filter", f"event={kind}",
                          *filters, "--format", "{{json .Actor.Attributes}}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _grace_in_compose():
    from lab.compose import COMPOSE_FILE
    return float(re.search(r"stop_grace_period: (\d+)s", COMPOSE_FILE.read_text()).group(1))


def test_the_grace_period_here_is_compose_yamls():
    assert _grace_in_compose() == GRACE_S


def test_stop_lets_the_response_in_flight_finish_then_the_server_exits_by_itself(compose_project, measured):
    project = compose_project("server-flask", LBAWS_IMAGE_TAG=inventory.TAG)
    url = f"http://127.0.0.1:{project.ports['flask']}/slow?seconds=1.5"
    got = {}

    def request():
        with urllib.request.urlopen(url, timeout=30) as response:
            got["status"], got["body"] = response.status, response.read()
        got["ended"] = time.monotonic()

    flight = threading.Thread(target=request)
    flight.start()
    deadline = time.monotonic() + 20
    while "GET /slow" not in project.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    since = str(int(time.time()) - 1)
    cid = project.container_id("server-flask")
    started = time.monotonic()
    project.run("stop", "server-flask")  # no --timeout: the grace period of compose.yaml
    stopped = time.monotonic()
    flight.join(30)
    assert got.get("status") == 200 and got["body"].startswith(b"Hello world from Flask!"), got
    state = project.run("ps", "--all", "--format", "{{.State}} {{.ExitCode}}", "server-flask").stdout.split()
    assert state == ["exited", "0"], "exited by itself, not SIGKILLed (137) at the end of the grace period"
    assert [event["signal"] for event in engine_events([cid], since, "kill")] == ["15"]
    assert stopped - started < GRACE_S + 2
    assert "Every response finished" in project.logs()
    measured["compose stop, 1.5 s response in flight"] = (
        f"stop took {stopped - started:.2f} s (grace {GRACE_S:g} s), returning "
        f"{stopped - got['ended']:.2f} s after the response ended; SIGTERM only, exit status 0")


def test_down_never_waits_for_the_kill(compose_project, measured):
    project = compose_project("server-flask", "server-wsgi", LBAWS_IMAGE_TAG=inventory.TAG)
    ids = [project.container_id(service) for service in ("server-flask", "server-wsgi")]
    since = str(int(time.time()) - 1)
    started = time.monotonic()
    project.run("down")  # no --timeout: the grace period of compose.yaml
    took = time.monotonic() - started
    assert sorted(event["signal"] for event in engine_events(ids, since, "kill")) == ["15", "15"], \
        "only SIGTERM: no server waited for the kill"
    assert [event["exitCode"] for event in engine_events(ids, since, "die")] == ["0", "0"]
    assert took < GRACE_S + 2, f"down took {took:.2f} s"
    assert project.run("ps", "--all", "--quiet").stdout.strip() == ""
    measured["compose down, two servers"] = f"{took:.2f} s (grace {GRACE_S:g} s)"
