"""lbaws-client against a real socket server on 127.0.0.1 that counts what arrives."""

import socket
import threading
import time

import pytest

from clienthelp import run_client, wait_for

pytestmark = pytest.mark.timeout(40)


def test_sends_client3s_request_with_bare_newlines(loopback):
    server = loopback("answer")
    code, summary, _ = run_client("--url", server.url, "--read", "--json")
    assert code == 0
    assert server.requests == [b"GET /hello HTTP/1.1\nHost: 127.0.0.1:%d\n\n" % server.port]
    assert summary["responses"] == 1 and summary["status_counts"] == {"200": 1}


def test_max_clients_alone_opens_one_connection_per_client(loopback):
    server = loopback("answer")
    code, summary, _ = run_client("--url", server.url, "--max-clients=7", "--json")  # the text's spelling
    assert code == 0
    assert summary["clients"] == summary["clients_started"] == 7
    assert summary["connections_attempted"] == summary["connected"] == 7
    assert server.accepted == 7
    # client3.py does not read; neither does ours unless asked.
    assert summary["responses"] == 0 and summary["first_response_s"] is None


def test_max_conns_3_max_clients_4_opens_12_and_holds_them_together(loopback):
    server = loopback("silent")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 4, "--max-conns", 3,
                                  "--hold", 1, "--json")
    assert code == 0
    assert server.accepted == 12
    assert summary["connections_attempted"] == summary["connected"] == 12
    assert summary["max_concurrent_open"] == 12
    assert server.max_open == 12


def test_50_clients_reading_get_50_responses(loopback):
    server = loopback("answer")
    code, summary, err = run_client("--url", server.url, "--max-clients", 50, "--read", "--json")
    assert code == 0, err
    assert summary["responses"] == 50 and summary["status_counts"] == {"200": 50}
    assert summary["unended"] == 0
    assert 0 < summary["first_response_s"] <= summary["elapsed_s"]


def test_closed_port_counts_every_connection_refused():
    # Bound but not listening: the kernel answers every SYN with an RST.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        url = "http://127.0.0.1:%d/hello" % closed.getsockname()[1]
        code, summary, _ = run_client("--url", url, "--max-clients", 5, "--max-conns", 2, "--json")
    finally:
        closed.close()
    assert code == 0
    assert summary["connections_attempted"] == summary["refused"] == 10
    assert summary["connected"] == 0
    assert summary["failures"] == {"connect:ECONNREFUSED": 10}


def test_server_that_never_answers_counts_read_timeouts(loopback):
    server = loopback("silent")
    start = time.monotonic()
    code, summary, _ = run_client("--url", server.url, "--max-clients", 6, "--read",
                                  "--read-timeout", 0.5, "--json")
    assert time.monotonic() - start < 10
    assert code == 0
    assert summary["connected"] == 6
    assert summary["timed_out"] == 6 and summary["failures"] == {"read:ETIMEDOUT": 6}
    assert summary["responses"] == 0


def test_full_backlog_makes_connects_time_out():
    # Never accepts, backlog 1: Linux drops the SYNs of a full accept queue. The clients connect 0.1 s
    # apart: two SYNs at the same moment on two cores both find the queue not yet full, and both connect.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        url = "http://127.0.0.1:%d/hello" % listener.getsockname()[1]
        code, summary, _ = run_client("--url", url, "--max-clients", 6, "--hold", 1, "--rate", 10,
                                      "--connect-timeout", 0.5, "--json")
    finally:
        listener.close()
    assert code == 0
    # Linux queues backlog + 1 connections; the other SYNs go unanswered.
    assert summary["connected"] in (1, 2)
    assert summary["timed_out"] >= 4
    assert summary["connected"] + summary["timed_out"] == summary["connections_attempted"] == 6


def test_connection_reset_is_counted(loopback):
    server = loopback("reset")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 5, "--read", "--json")
    assert code == 0
    assert server.accepted == 5
    assert summary["reset"] == 5 and summary["responses"] == 0


def test_response_that_never_ends_is_counted_unended(loopback):
    """3d's hang as the client sees it: 200 arrives, the close never does."""
    server = loopback("answer-open")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 4, "--read",
                                  "--read-timeout", 0.5, "--json")
    assert code == 0
    assert summary["status_counts"] == {"200": 4}
    assert summary["unended"] == 4 and summary["timed_out"] == 0


def test_hold_keeps_connections_open_for_the_hold_time(loopback):
    server = loopback("silent")
    started = time.monotonic()
    code, summary, _ = run_client("--url", server.url, "--max-clients", 10, "--hold", 1.5, "--json")
    assert code == 0
    assert server.max_open == 10
    assert len(server.open_spans) == 10
    # From before the client started, not from the server's accept(), which a busy machine may delay: no
    # close can be seen sooner than it happens, and each comes a full hold after its connect.
    closes = [closed - started for _, closed in server.open_spans]
    assert min(closes) >= 1.5 and max(closes) < 7.5  # measured at 1.5 s: the bound is 5 times it
    assert summary["max_concurrent_open"] == 10


def test_hold_zero_closes_at_once(loopback):
    server = loopback("silent")
    code, _, _ = run_client("--url", server.url, "--max-clients", 5, "--json")
    assert code == 0
    assert wait_for(lambda: len(server.open_spans) == 5, 2)
    assert max(closed - accepted for accepted, closed in server.open_spans) < 0.5


def test_rate_spreads_the_connections(loopback):
    server = loopback("answer")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 4, "--max-conns", 3,
                                  "--rate", 20, "--json")
    assert code == 0 and server.accepted == 12
    # 12 connections at 20/s: the last starts 11/20 s after the first.
    times = sorted(server.accept_times)
    # Measured at 0.55 s and gaps of 0.05 s: the upper bounds are 5 times those.
    assert 0.45 <= times[-1] - times[0] < 2.75
    assert 0.5 <= summary["last_connected_s"] < 2.75
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 0.25


def test_requests_shares_a_total_over_the_clients_and_closes_each_once_answered(loopback):
    server = loopback("answer")
    code, summary, err = run_client("--url", server.url, "--max-clients", 7, "--requests", 50, "--json")
    assert code == 0, err
    assert server.accepted == 50, "50 in all, not 7 x 8"
    assert summary["connections_attempted"] == summary["responses"] == 50
    assert summary["status_counts"] == {"200": 50} and summary["unended"] == 0
    # Each client sends its next request only after closing the last: never more than 7 at once.
    assert summary["max_concurrent_open"] <= 7 and server.max_open <= 7


def test_requests_counts_every_failure_exactly():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        url = "http://127.0.0.1:%d/hello" % closed.getsockname()[1]
        code, summary, _ = run_client("--url", url, "--max-clients", 3, "--requests", 10, "--json")
    finally:
        closed.close()
    assert code == 0
    assert summary["connections_attempted"] == summary["refused"] == 10
    assert summary["responses"] == 0


@pytest.mark.parametrize("extra", [["--max-conns", "2"], ["--hold", "1"], ["--pattern", "text"]])
def test_requests_refuses_the_options_of_held_connections(extra):
    code, _, err = run_client("--requests", 10, *extra)
    assert code == 2 and "--requests closes each connection once answered" in err


def test_a_patient_client_tries_again_until_the_backlog_has_room():
    # Backlog 1, nothing accepted for 2 s: most SYNs are dropped, each connect() times out after 0.5 s, and
    # with --connect-patience the client tries again on a new socket until the server accepts them all.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = "http://127.0.0.1:%d/hello" % listener.getsockname()[1]
    accepted = []

    def accept_later():
        time.sleep(2)
        listener.settimeout(20)
        while len(accepted) < 6:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    server = threading.Thread(target=accept_later, daemon=True)
    server.start()
    try:
        code, summary, _ = run_client("--url", url, "--max-clients", 6, "--hold", 0.5, "--rate", 10,
                                      "--connect-timeout", 0.5, "--connect-patience", 20, "--json")
    finally:
        server.join(25)
        for conn in accepted:
            conn.close()
        listener.close()
    assert code == 0
    assert summary["connected"] == summary["connections_attempted"] == 6
    assert summary["timed_out"] == 0 and summary["failures"] == {}
    assert len(accepted) == 6
    # The ones dropped at first waited for the server's 2 s, and no longer than the patience.
    assert 2 <= summary["elapsed_s"] < 20, summary["elapsed_s"]


def test_a_patient_client_learns_at_once_when_the_server_is_gone():
    # Patience keeps retrying a timed-out connect, not a refused one: a closed port fails at once.
    closed = socket.socket()  # bound, not listening: the kernel answers every SYN with an RST
    closed.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/hello" % closed.getsockname()[1]
    try:
        code, summary, _ = run_client("--url", url, "--max-clients", 3, "--connect-timeout", 0.5,
                                      "--connect-patience", 30, "--json")
    finally:
        closed.close()
    assert code == 0
    assert summary["refused"] == 3 and summary["elapsed_s"] < 10, summary
