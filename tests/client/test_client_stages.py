"""lbaws-client against the tutorial's servers (`lbaws serve`), on loopback."""

import pathlib

import pytest

from clienthelp import StageServer, run_client

pytestmark = pytest.mark.timeout(60)

APPS = pathlib.Path(__file__).resolve().parents[2] / "apps"


@pytest.fixture
def stage(tmp_path):
    servers = []

    def start(name, *args, cwd=None):
        server = StageServer(name, *args, cwd=cwd, log_path=tmp_path / ("%s.log" % len(servers)))
        servers.append(server.__enter__())
        return server

    yield start
    for server in servers:
        server.__exit__()


def test_3g_answers_50_clients(stage):
    server = stage("3g")
    code, summary, err = run_client("--url", server.url, "--max-clients", 50, "--read", "--json")
    assert code == 0, err
    assert summary["connected"] == 50
    assert summary["status_counts"] == {"200": 50} and summary["unended"] == 0


def test_the_texts_128_clients_against_3g(stage):
    server = stage("3g")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 128, "--json")
    assert code == 0
    assert summary["connections_attempted"] == summary["connected"] == 128
    assert summary["refused"] == summary["errors"] == 0


def test_3d_answers_but_never_ends_the_response(stage):
    """The curl hang of the text: the parent keeps the socket, so no EOF comes."""
    server = stage("3d")
    code, summary, _ = run_client("--url", server.url, "--max-clients", 3, "--read",
                                  "--read-timeout", 1, "--json")
    assert code == 0
    assert summary["status_counts"] == {"200": 3}
    assert summary["unended"] == 3


def test_3b_serves_one_client_at_a_time(stage):
    server = stage("3b", "--sleep", 1)
    code, summary, _ = run_client("--url", server.url, "--max-clients", 3, "--read", "--json")
    assert code == 0
    assert summary["status_counts"] == {"200": 3}
    # 3b sleeps a second before it closes each connection: the first
    # response comes at once, the third client waits for two sleeps.
    assert summary["first_response_s"] < 0.9
    assert 2.9 < summary["elapsed_s"] < 15  # measured at 3.0-3.1 s


def test_3h_serves_the_wsgi_app_to_the_bare_newline_request(stage):
    server = stage("3h", "wsgiapp:app", cwd=APPS)
    code, summary, err = run_client("--url", server.url, "--max-clients", 10, "--max-conns", 2,
                                    "--read", "--json")
    assert code == 0, err
    assert summary["status_counts"] == {"200": 20}


def test_refused_once_the_server_is_gone(stage):
    server = stage("3g")
    url = server.url
    server.__exit__()
    code, summary, _ = run_client("--url", url, "--max-clients", 4, "--json")
    assert code == 0
    assert summary["refused"] == 4 and summary["connected"] == 0


def test_keep_alive_reuses_one_connection_per_client_against_prefork(stage):
    server = stage("prefork", "wsgiapp:app", cwd=APPS)
    code, summary, err = run_client("--url", server.url, "--max-clients", 4, "--pattern", "keep-alive",
                                    "--hold", 2, "--rate", 100, "--json")
    assert code == 0, err
    assert summary["connected"] == 4 and summary["reconnects"] == 0
    assert summary["status_counts"] == {"200": summary["responses"]} and summary["responses"] >= 100
    # --rate 100 over 2 s: paced, not as fast as possible.
    assert summary["responses"] <= 2 * 100 + 8
    assert sum(summary["per_second"]["responses"]) == summary["responses"]
    assert sum(summary["per_second"]["failed"]) == 0 and summary["errors"] == 0


def test_keep_alive_counts_a_reconnect_for_each_connection_the_server_closed_while_idle(stage):
    # prefork drops a connection idle for 0.5 s; each client sends every 2 s, so each needs a new one.
    server = stage("prefork", "wsgiapp:app", "--timeout", "0.5", cwd=APPS)
    code, summary, err = run_client("--url", server.url, "--max-clients", 2, "--pattern", "keep-alive",
                                    "--hold", 3, "--rate", 1, "--json")
    assert code == 0, err
    assert summary["responses"] == 4 and summary["status_counts"] == {"200": 4}
    assert summary["reconnects"] == 2 and summary["connected"] == 4
    assert sum(summary["per_second"]["reconnects"]) == 2 and summary["errors"] == 0
