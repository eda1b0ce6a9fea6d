"""Bad input: one line on stderr, nothing on stdout, exit code 2, no connection made.
Closed output pipes: one line at most, never a traceback."""

import json
import os
import subprocess

import pytest

from clienthelp import client_cmd, run_client, wait_for

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("args", [
    ["--max-clients", "0"],
    ["--max-clients", "2001"],
    ["--max-clients", "many"],
    ["--max-conns", "0"],
    ["--max-conns", "1025"],
    ["--max-clients", "100", "--max-conns", "201"],   # 20100 connections: over the cap
    ["--hold", "-1"],
    ["--rate", "nan"],
    ["--deadline", "0"],
    ["--connect-timeout", "0"],
    ["--read-timeout", "-2"],
    ["--url", "ftp://localhost/hello"],
    ["--url", "http:///hello"],
    ["--url", "http://localhost:99999/hello"],
    ["--url", "http://no-such-host.invalid/hello"],
    ["--no-such-option"],
    ["--pattern", "client4"],
    ["--pattern", "repository", "--max-conns", "2"],   # its os._exit(0) ends the loop after one
    ["--pattern", "repository", "--hold", "1"],
    ["--pattern", "keep-alive"],                       # how long to keep the connection: --hold
    ["--pattern", "keep-alive", "--hold", "1", "--max-conns", "2"],
], ids=lambda args: " ".join(args))
def test_bad_input_is_one_line_and_exit_2(args):
    code, _, err = run_client(*args, "--json")
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lbaws-client: error: ")


def test_help_exits_0():
    code, _, err = run_client("--help")
    assert code == 0 and err == ""


def test_json_is_one_line_on_stdout_and_progress_goes_to_stderr(loopback):
    server = loopback("answer")
    code, summary, err = run_client("--url", server.url, "--max-clients", 3, "--read", "--json")
    assert code == 0 and summary["responses"] == 3
    lines = err.splitlines()
    assert lines[0] == "lbaws-client: 3 clients x 1 connections to %s" % server.url
    assert "connected 3," in lines[-1] and "responses 3" in lines[-1]


def test_without_json_the_summary_is_text():
    proc = subprocess.run(client_cmd("--url", "http://127.0.0.1:1/hello", "--max-clients", 2, "--quiet"),
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0 and proc.stderr == ""
    assert "refused:               2" in proc.stdout.splitlines()
    assert "failures[connect:ECONNREFUSED]: 2" in proc.stdout.splitlines()


def _run_into_closed_pipe(stream, *args):
    """Run the client with `stream` ("stdout" or "stderr") writing into a pipe nobody reads."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        other = "stderr" if stream == "stdout" else "stdout"
        proc = subprocess.run(client_cmd(*args), timeout=20, text=True,
                              **{stream: write_end, other: subprocess.PIPE})
    finally:
        os.close(write_end)
    return proc.returncode, getattr(proc, other)


def test_closed_stdout_is_one_line_and_exit_141(loopback):
    server = loopback("answer")
    code, err = _run_into_closed_pipe("stdout", "--url", server.url, "--max-clients", 2, "--json")
    assert code == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.splitlines()[-1] == "lbaws-client: stdout closed, summary not written"
    assert wait_for(lambda: len(server.requests) == 2, 5)


def test_closed_stderr_still_writes_the_summary(loopback):
    server = loopback("answer")
    code, out = _run_into_closed_pipe("stderr", "--url", server.url, "--max-clients", 2, "--read", "--json")
    assert code == 0
    assert json.loads(out)["responses"] == 2
