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
    assert 2.9 < summary["elapsed_s"] < 7


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
