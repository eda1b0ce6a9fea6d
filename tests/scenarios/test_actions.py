"""The actions' own parts that need no container: the curl script and its report, the load client's
command line and summary, and Settle's waiting, each on real processes or scripted samples."""
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from scenarios.executor import actions
from scenarios.executor.probe import Sample
from scenarios.vocabulary.results import CurlResult
from scenarios.vocabulary.spec import Load, Scaled, Settle, Until

# A body that broke the old marker protocol: lines that look like its markers, and blank lines.
TRICKY = "@@2\nrc 0\nmeta 200 0.1 0.2\n\ncurl 9 0 - 200 0.1 0.2\n@@ end"


class _Tricky(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = TRICKY.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tricky_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tricky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tricky"
    finally:
        server.shutdown()
        server.server_close()


def run_curls(url, count=2, silent_s=0.0, port=0):
    if shutil.which("curl") is None or shutil.which("base64") is None:
        pytest.fail("curl and base64 are needed on the host (Debian: curl, coreutils)")
    script = actions.curls_script(count, 5, 0, url, silent_s, "127.0.0.1", port)
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("kind,waits", [(http.server.HTTPServer, True), (http.server.ThreadingHTTPServer, False)])
def test_a_silent_client_in_front_makes_curl_wait_only_for_a_server_that_serves_one_at_a_time(kind, waits):
    # HTTPServer handles one connection at a time, as the text's 3b: it reads the silent client's
    # request line until that client goes; a threading server answers curl meanwhile, as 3g's fork does.
    server = kind(("127.0.0.1", 0), _Tricky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        (curl,) = actions.parse_curls(run_curls(f"http://127.0.0.1:{port}/x", count=1, silent_s=3.0, port=port))
    finally:
        server.shutdown()
        server.server_close()
    assert curl.status == 200 and curl.body == TRICKY
    assert (curl.ttfb_s >= 1.5) is waits, curl  # the judge's own threshold: half the silence


def test_a_body_with_marker_lines_comes_back_whole_from_every_curl(tricky_url):
    curls = actions.parse_curls(run_curls(tricky_url))
    assert [c.n for c in curls] == [1, 2]
    for c in curls:
        assert (c.exit, c.status, c.body, c.content_type) == (0, 200, TRICKY, "text/plain; charset=utf-8")
        assert 0 < c.ttfb_s <= c.total_s < 5


def test_a_refused_connection_is_curl_exit_7_with_no_status_and_no_body():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (refused,) = actions.parse_curls(run_curls(f"http://127.0.0.1:{port}/", count=1))
    assert (refused.exit, refused.status, refused.body) == (7, None, "")


def test_lines_that_are_not_reports_are_ignored():
    text = "sh: noise\ncurl 2 0 aGk= 200 0.5 0.6 text/html; charset=x\ncurl x\ncurl 1 28 - 000 0 5.0\n"
    assert actions.parse_curls(text) == (
        CurlResult(n=1, exit=28, status=None, ttfb_s=0.0, total_s=5.0, body=""),
        CurlResult(n=2, exit=0, status=200, ttfb_s=0.5, total_s=0.6, body="hi", content_type="text/html; charset=x"),
    )


def test_the_load_command_carries_every_field_with_scaled_durations():
    action = Load(clients=300, conns=2, hold=Scaled(60), read=True, rate=50.0, deadline=40, connect_timeout=3)
    command = actions.load_command(action, "http://server-3d:8888/hello", scale=0.1)
    assert command == ["lbaws-client", "--max-clients", "300", "--max-conns", "2",
                       "--url", "http://server-3d:8888/hello", "--hold", "6.0", "--deadline", "40.0", "--json",
                       "--read", "--rate", "50.0", "--connect-timeout", "3"]
    plain = actions.load_command(Load(clients=5), "http://x:8888/", scale=1.0)
    assert "--read" not in plain and "--rate" not in plain and "--connect-timeout" not in plain


def test_the_summary_is_the_last_json_object_line():
    out = "\n".join(["progress 1/3", json.dumps({"connected": 1}), "[1, 2]", json.dumps({"connected": 3}), "42"])
    assert actions.parse_summary(out) == {"connected": 3}
    assert actions.parse_summary("no json here\n[1]\n") is None


class ScriptedSampler:
    """Hands out the given samples in order, then repeats the last one."""

    def __init__(self, samples):
        self.samples = list(samples)
        self.taken = 0

    def take(self):
        sample = self.samples[min(self.taken, len(self.samples) - 1)]
        self.taken += 1
        return sample

    def next(self, timeout=None):
        return self.take()

    def alive(self):
        return self.taken == 0 or self.samples[min(self.taken, len(self.samples)) - 1].alive


class ScriptedContext:
    def __init__(self, samples=(), exits_after=None):
        self.sampler = ScriptedSampler(samples or [Sample(0, True)])
        self.scale = 1.0
        self.checks = 0
        self.exits_after = exits_after

    def server_exited(self):
        self.checks += 1
        return self.exits_after is not None and self.checks > self.exits_after


def live(n):
    return Sample(t=0, alive=True, fds=5, live=n)


def test_settle_waits_until_no_child_has_lived_for_the_quiet_time():
    ctx = ScriptedContext([live(3), live(1), live(0), live(2), live(0)])
    result = actions.run_settle(Settle(until=Until.NO_LIVE_CHILDREN, quiet=0.1, timeout=5), ctx, poll=0.05)
    assert result.reached and result.until == "no-live-children"
    assert ctx.sampler.taken >= 6  # the child that came back restarted the quiet period
    assert result.waited_s < 2


def test_settle_gives_up_at_once_when_the_server_is_gone():
    ctx = ScriptedContext([live(2), Sample(t=1, alive=False)])
    started = time.monotonic()
    result = actions.run_settle(Settle(until=Until.NO_LIVE_CHILDREN, timeout=5), ctx, poll=0.05)
    assert not result.reached and time.monotonic() - started < 1


def test_settle_on_exit_polls_the_container_and_is_bounded_by_its_timeout():
    exited = actions.run_settle(Settle(until=Until.EXITED, timeout=5), ScriptedContext(exits_after=3), poll=0.02)
    assert exited.reached and exited.until == "exited"
    never = actions.run_settle(Settle(until=Until.EXITED, timeout=0.3), ScriptedContext(), poll=0.02)
    assert not never.reached and 0.3 <= never.waited_s < 1.5  # measured at 0.3 s


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(0.25)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_the_real_load_clients_progress_lines_give_rising_tallies_up_to_its_summary():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # 16 requests, 2 at a time, a quarter second each: about 2 s, so at least one progress line.
        run = subprocess.run([sys.executable, "-m", "lbaws.client", "--max-clients", "2", "--requests", "16", "--url",
                              f"http://127.0.0.1:{server.server_port}/", "--deadline", "20", "--json"],
                             capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr
    tallies = [t for t in map(actions.tallies_so_far, run.stderr.splitlines()) if t is not None]
    summary = actions.parse_summary(run.stdout)
    assert tallies, run.stderr
    assert [t["requests"] for t in tallies] == sorted(t["requests"] for t in tallies)
    assert 0 < tallies[-1]["requests"] <= summary["responses"] == 16
    assert all(t["failures"] == 0 for t in tallies)
    assert actions.tallies_so_far("load to http://x:8888/") is None


class HostClient:
    """exec_client's contract, run on this host: stderr lines handed over, SIGTERM once stop_when holds."""

    def exec_client(self, command, timeout, on_err_line=None, stop_when=None):
        process = subprocess.Popen(["timeout", str(round(timeout)), *command], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)

        def watch():
            while process.poll() is None:
                if stop_when is not None and stop_when():
                    process.terminate()
                    return
                time.sleep(0.1)

        threading.Thread(target=watch, daemon=True).start()
        for line in process.stderr:
            on_err_line and on_err_line(line.rstrip("\n"))
        return process.wait(), process.stdout.read(), ""


class Watched:
    """A sampler whose server lives, and whose snapshot notes when it was taken."""

    server_pid = 1

    def __init__(self):
        self.probe, self.taken = self, []

    def alive(self):
        return True

    def snapshot(self, pid):
        self.taken.append(time.monotonic())
        return "the tree"


def test_a_hold_lets_go_once_the_tree_is_read_not_after_its_longest(monkeypatch):
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    monkeypatch.setattr(actions, "PORT", listener.getsockname()[1])
    sampler = Watched()
    ctx = actions.TrialContext(HostClient(), None, "127.0.0.1", sampler, 1.0, lambda text: None)
    try:
        started = time.monotonic()
        held = actions.run_hold(actions.spec.Hold(clients=4, seconds=30.0), ctx)
        ended = time.monotonic()
    finally:
        listener.close()
    # All four were up (the backlog holds them) when the tree was read, and the hold ended soon after.
    assert held.connected == 4 and held.during == "the tree"
    assert len(sampler.taken) == 1 and sampler.taken[0] - started >= actions.SERVED_AFTER_UP
    assert ended - sampler.taken[0] < 5, "the hold waited out its 30 s after the tree was read"
