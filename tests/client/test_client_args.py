"""Bad input: one line on stderr, nothing on stdout, exit code 2, no connection made."""

import pytest

from clienthelp import run_client

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
], ids=lambda args: " ".join(args))
def test_bad_input_is_one_line_and_exit_2(args):
    code, _, err = run_client(*args, "--json")
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lbaws-client: error: ")


def test_help_exits_0():
    code, _, err = run_client("--help")
    assert code == 0 and err == ""
