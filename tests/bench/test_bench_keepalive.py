"""The kept-connection check on loopback: real servers, curl's two requests on one socket."""
import os
import signal
import subprocess
import sys

import pytest

from bench import keepalive
from benchhelp import ROOT

pytestmark = pytest.mark.timeout(60)


def _server(argv):
    return subprocess.Popen([sys.executable, "-m", "lbaws", "serve", *argv, "--host", "127.0.0.1", "--quiet"],
                            cwd=ROOT / "apps", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.mark.parametrize("stage, port, kept", [("prefork", 18931, True), ("3h", 18932, False)])
def test_the_check_tells_a_server_that_keeps_from_one_that_closes(stage, port, kept):
    server = _server([stage, "wsgiapp:app", "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}/hello"
        for _ in range(100):
            out = subprocess.run(keepalive.command(url), capture_output=True, text=True, timeout=10).stdout
            if keepalive.parse(out) is not None:
                break
            subprocess.run(["sleep", "0.1"])
        assert keepalive.parse(out) is kept, out
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the master and the workers it forked
        server.wait()


def test_parse_wants_two_answers_of_200():
    assert keepalive.parse("200 1\n200 0\n") is True
    assert keepalive.parse("200 1\n200 1\n") is False
    assert keepalive.parse("000 0\n000 0\n") is None
    assert keepalive.parse("200 1\n") is None
