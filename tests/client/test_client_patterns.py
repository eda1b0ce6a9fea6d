"""--pattern: the lab's client, the text's listing of client3.py, and the repository's copy, on loopback."""

import socket

import pytest

from clienthelp import run_client, wait_for

pytestmark = pytest.mark.timeout(40)


@pytest.mark.parametrize("pattern,extra,connections", [
    ("lab", ["--max-conns", 3, "--hold", 1], 12),
    ("text", ["--max-conns", 3, "--hold", 1], 12),
    ("repository", [], 4),   # one connection per client, whatever the text's loop says
])
def test_each_pattern_opens_its_connections(loopback, pattern, extra, connections):
    server = loopback("silent")
    code, summary, err = run_client("--url", server.url, "--max-clients", 4, "--pattern", pattern,
                                    *extra, "--json")
    assert code == 0, err
    assert summary["pattern"] == pattern
    assert summary["connections_attempted"] == summary["connected"] == connections
    assert wait_for(lambda: server.accepted == connections, 2)
    assert len(server.requests) == connections
    assert summary["clients_stopped"] == summary["children_failed"] == 0


def test_lab_and_text_hold_every_connection_together(loopback):
    for pattern in ("lab", "text"):
        server = loopback("silent")
        code, summary, _ = run_client("--url", server.url, "--max-clients", 4, "--max-conns", 3,
                                      "--hold", 1, "--pattern", pattern, "--json")
        assert code == 0
        assert server.max_open == summary["max_concurrent_open"] == 12


def test_repository_children_close_at_once_where_the_lab_holds(loopback):
    held, at_once = loopback("silent"), loopback("silent")
    code, _, _ = run_client("--url", held.url, "--max-clients", 5, "--hold", 3, "--json")
    assert code == 0
    code, summary, err = run_client("--url", at_once.url, "--max-clients", 5, "--pattern", "repository",
                                    "--json")
    assert code == 0, err
    assert err.splitlines()[0].endswith("(pattern repository)")
    for server in (held, at_once):
        assert wait_for(lambda: server.open_now == 0 and len(server.open_spans) == 5, 10)
    assert min(closed - accepted for accepted, closed in held.open_spans) >= 2.9
    # The server reads the request and then the close right behind it: the child sent and exited
    # (measured in milliseconds; the bounds are half the lab's hold of 3 s).
    assert max(closed - accepted for accepted, closed in at_once.open_spans) < 1.5
    assert len(at_once.requests) == 5
    assert summary["elapsed_s"] < 1.5


def _closed_port_url():
    """A port bound but not listening: the kernel answers every SYN with an RST (ECONNREFUSED)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    return closed, "http://127.0.0.1:%d/hello" % closed.getsockname()[1]


def test_text_children_stop_at_their_first_refused_connect():
    closed, url = _closed_port_url()
    try:
        code, text, _ = run_client("--url", url, "--max-clients", 3, "--max-conns", 5,
                                   "--pattern", "text", "--json")
        lab_code, lab, _ = run_client("--url", url, "--max-clients", 3, "--max-conns", 5, "--json")
    finally:
        closed.close()
    # The text's child dies of the ConnectionRefusedError: one attempt each, and not a crash of ours.
    assert code == 0
    assert text["connections_attempted"] == text["refused"] == 3
    assert text["clients_stopped"] == 3 and text["children_failed"] == 0
    assert lab_code == 0
    assert lab["connections_attempted"] == lab["refused"] == 15 and lab["clients_stopped"] == 0


def test_a_lab_client_whose_every_connect_failed_does_not_wait_out_its_hold():
    closed, url = _closed_port_url()
    try:
        code, refused, err = run_client("--url", url, "--max-clients", 3, "--hold", 20, "--json")
    finally:
        closed.close()
    assert code == 0, err
    assert refused["refused"] == 3 and refused["connected"] == 0
    # Three refused connects take milliseconds; holding nothing for 20 s would take 20.
    assert refused["elapsed_s"] < 10, refused["elapsed_s"]


def test_a_text_client_opens_in_turn_until_the_server_is_gone(loopback):
    # The listener closes after its 4th accept, as 3d's does when it dies: connection 5 is refused. It
    # starts 0.25 s after the 4th, so even a busy machine has closed the listener by then (at 20 a second
    # the 5th raced the close and landed in the queue).
    results = {}
    for pattern in ("text", "lab"):
        server = loopback("silent", close_after=4)
        code, summary, err = run_client("--url", server.url, "--max-conns", 10, "--rate", 4,
                                        "--pattern", pattern, "--json")
        assert code == 0, err
        assert server.accepted == 4
        results[pattern] = summary
    text, lab = results["text"], results["lab"]
    assert (text["connected"], text["refused"], text["connections_attempted"]) == (4, 1, 5)
    assert text["clients_stopped"] == 1
    assert (lab["connected"], lab["refused"], lab["connections_attempted"]) == (4, 6, 10)
    assert lab["clients_stopped"] == 0


@pytest.mark.parametrize("mode", ["answer", "reset"])
def test_a_lab_client_leaves_once_the_server_closed_every_connection_it_held(loopback, mode):
    # "answer" closes after its response, as 3g's child does; "reset" is what a dead server's sockets send.
    server = loopback(mode)
    code, summary, err = run_client("--url", server.url, "--max-clients", 4, "--max-conns", 2, "--hold", 30,
                                    "--json")
    assert code == 0, err
    # A reset may beat the request's send: every connection was tried, whatever each one's tally says.
    assert summary["connections_attempted"] == 8 and wait_for(lambda: server.accepted == 8, 5)
    # Measured: 0.005 s; holding connections the server had closed would take the whole 30.
    assert summary["elapsed_s"] < 15, summary["elapsed_s"]


def test_a_lab_client_holds_what_the_server_keeps_open_even_when_it_answered(loopback):
    # "answer-open" answers and keeps the socket, as 3d's parent keeps its copy: there is something to hold.
    server = loopback("answer-open")
    code, summary, err = run_client("--url", server.url, "--max-clients", 3, "--hold", 2, "--read", "--json")
    assert code == 0, err
    assert summary["responses"] == 3
    assert summary["elapsed_s"] >= 2
    assert wait_for(lambda: server.open_now == 0 and len(server.open_spans) == 3, 10)
    assert min(closed - accepted for accepted, closed in server.open_spans) >= 1.9
