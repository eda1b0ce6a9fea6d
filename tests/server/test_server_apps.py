"""Every framework app through every WSGI-capable stage, the echo app's view of the request, and PEP 3333."""

import email.utils
import json
import time
from datetime import datetime, timezone

import pytest

from srvproc import HERE, no_sleep
from srvnet import curl, get, raw_exchange, wait_until

# A hung server must fail its test, not stall the whole run.
pytestmark = pytest.mark.timeout(90)

WSGI_STAGES = ["2", "3a", "3b", "3c", "3d", "3e", "3f", "3g", "3h", "prefork"]
FORKING = {"3c", "3d", "3e", "3f", "3g", "3h", "prefork"}
# Stages whose connections outlive one response: http.client speaks HTTP/1.1, so it gets keep-alive there.
KEEP_ALIVE = {"prefork"}
APP_TEXT = {
    "flaskapp": b"Hello world from Flask!\n",
    "pyramidapp": b"Hello world from Pyramid!\n",
    "djangoapp": b"Hello world from Django!\n",
    "wsgiapp": b"Hello world from a simple WSGI application!\n",
}


def _check_server_headers(headers, stage):
    assert headers["server"].startswith("lbaws/")
    assert headers["connection"] == ("keep-alive" if stage in KEEP_ALIVE else "close")
    sent = email.utils.parsedate_to_datetime(headers["date"])
    assert abs((datetime.now(timezone.utc) - sent).total_seconds()) < 60, "Date is the real time"


@pytest.mark.parametrize("stage", WSGI_STAGES)
@pytest.mark.parametrize("app", list(APP_TEXT))
def test_framework_app_answers_through_stage(serve, app, stage):
    server = serve(stage, f"{app}:app", *no_sleep(stage))
    status, headers, body = get(server.port)
    assert status == 200
    assert body == APP_TEXT[app]
    assert headers["content-type"].startswith("text/plain")
    assert int(headers["content-length"]) == len(body)
    _check_server_headers(headers, stage)
    result = curl(server.port, "/hello", "--max-time", "10")
    assert result.returncode == 0, result.stderr
    assert result.stdout == APP_TEXT[app]


@pytest.mark.parametrize("app", list(APP_TEXT))
def test_each_apps_slow_endpoint_answers_the_same_after_its_pause(serve, app, measured):
    server = serve("3h", f"{app}:app")
    started = time.monotonic()
    status, headers, body = get(server.port, "/slow?seconds=1")
    took = time.monotonic() - started
    assert (status, body) == (200, APP_TEXT[app])
    assert headers["content-type"].startswith("text/plain")
    assert took >= 1, "the pause asked for"
    started = time.monotonic()
    assert get(server.port, "/slow?seconds=nonsense")[2] == APP_TEXT[app]
    nonsense = time.monotonic() - started
    measured[f"3h {app} /slow?seconds=1, then =nonsense"] = f"{took:.2f} s, then {nonsense:.3f} s"
    # No pause: measured at 0.01-0.05 s; 0.5 s is ten times that, and half of the default pause (1 s).
    assert nonsense < 0.5, "a bad value sleeps nothing"


def test_django_answers_the_lab_host_names_and_rejects_others(serve):
    server = serve("3h", "djangoapp:app", env={"LBAWS_ALLOWED_HOSTS": "extra.example, other.example"})
    for host in ("localhost", "127.0.0.1", "server-django", "server", "extra.example"):
        status, _, body = get(server.port, headers={"Host": f"{host}:8888"})
        assert (status, body) == (200, APP_TEXT["djangoapp"]), host
    status, _, _ = get(server.port, headers={"Host": "evil.example"})
    assert status == 400, "the Host header reaches Django as HTTP_HOST"


@pytest.mark.parametrize("stage", WSGI_STAGES)
def test_echo_app_sees_method_path_query_headers_and_body_intact(serve, stage):
    server = serve(stage, "echoapp:app", *no_sleep(stage))
    body = ("naïve café ☕ " * 5000).encode("utf-8")
    status, headers, data = get(
        server.port, "/some/p%C3%A5th?a=1&b=%20x&c=", method="POST", body=body,
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Lbaws-Test": "yes, really",
                 "Host": "server-wsgi:8888"})
    assert status == 200
    _check_server_headers(headers, stage)
    echo = json.loads(data)
    assert echo["method"] == "POST"
    # PATH_INFO holds the decoded bytes as latin-1 characters (PEP 3333); the app re-encodes if it wants.
    assert echo["path"].encode("latin-1").decode("utf-8") == "/some/påth"
    assert echo["query"] == "a=1&b=%20x&c="
    assert echo["body"].encode("utf-8") == body
    assert echo["body_length"] == len(body)
    assert echo["headers"]["X-Lbaws-Test"] == "yes, really"
    assert echo["headers"]["Host"] == "server-wsgi:8888"
    assert echo["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert echo["headers"]["Content-Length"] == str(len(body))
    assert echo["wsgi"] == {"multithread": False, "multiprocess": stage in FORKING,
                            "run_once": False, "url_scheme": "http"}
    assert echo["server"]["SERVER_PORT"] == str(server.port)
    assert (echo["pid"] != server.pid) == (stage in FORKING)


@pytest.mark.parametrize("stage", ["2", "3d", "3h", "prefork"])
def test_chunked_request_body_reaches_the_app_decoded(serve, stage, tmp_path):
    server = serve(stage, "echoapp:app", *no_sleep(stage))
    payload = tmp_path / "chunked.txt"
    payload.write_bytes(b"chunk me " * 10000)
    # curl sends the body chunked, as any HTTP/1.1 client may; the app must see plain bytes and their size.
    result = curl(server.port, "/upload", "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{payload}")
    assert result.returncode == 0, result.stderr
    echo = json.loads(result.stdout)
    assert echo["body"] == "chunk me " * 10000
    assert echo["body_length"] == 90000
    assert "Transfer-Encoding" not in echo["headers"]


@pytest.mark.parametrize("stage", ["2", "3c", "3h", "prefork"])
def test_large_post_with_expect_100_continue_is_not_delayed(serve, stage, tmp_path):
    server = serve(stage, "echoapp:app", *no_sleep(stage))
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"x" * (3 * 1024 * 1024))
    # curl sends `Expect: 100-continue` for a body this large and holds the body back until the server
    # says 100 (or a timeout passes: 30 s here, so only the server's interim response can release it).
    result = curl(server.port, "/upload", "--data-binary", f"@{payload}", "-H", "Expect: 100-continue",
                  "--expect100-timeout", "30", "-v", timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body_length"] == 3 * 1024 * 1024
    trace = result.stderr.decode(errors="replace")
    assert "< HTTP/1.1 100 Continue" in trace, trace
    # The event itself: the 100 came before curl sent a byte of the body.
    assert trace.index("< HTTP/1.1 100 Continue") < trace.index("} ["), trace


@pytest.mark.parametrize("stage", ["2", "3h", "prefork"])
def test_head_sends_headers_without_body(serve, stage):
    server = serve(stage, "wsgiapp:app")
    # prefork keeps the connection open: whatever body came would have come within a second.
    response = raw_exchange(server.port, b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                            timeout=1.0 if stage in KEEP_ALIVE else 5.0)
    head, _, rest = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 44" in head
    assert rest == b""


def _validated(serve, stage, app, strict):
    # -W error turns every warning (WSGIWarning, ResourceWarning, ...) into an error; frameworks
    # still import deprecated stdlib modules (webob imports cgi), so for them DeprecationWarning is let through,
    # and so is setuptools' UserWarning that pyramid still imports pkg_resources.
    flags = ["-W", "error"] if strict else ["-W", "error", "-W", "ignore::DeprecationWarning",
                                            "-W", "ignore:pkg_resources is deprecated:UserWarning"]
    return serve(stage, f"wsgi_validated:{app}", *no_sleep(stage), python_flags=flags,
                 env={"PYTHONPATH": str(HERE)})


def _assert_clean(server):
    log = server.log()
    for word in ("Traceback", "Warning", "Error", "Exception", "garbage collected"):
        assert word not in log, log


@pytest.mark.parametrize("stage", WSGI_STAGES)
def test_validator_passes_under_every_wsgi_stage(serve, stage):
    post = (b"POST /hello?x=1 HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=b")
    head = b"HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for app, check in (("echoapp", b'"method": "POST"'), ("wsgiapp", APP_TEXT["wsgiapp"])):
        server = _validated(serve, stage, app, strict=True)
        # Read until the body is in rather than until EOF: wsgiapp's answer is close-delimited
        # and 3d's parent keeps the connection open, as taught.
        response = raw_exchange(server.port, post, until=check)
        assert response.startswith(b"HTTP/1.1 200 OK\r\n") and check in response
        # 3d never closes; prefork keeps the connection open for the next request.
        response = raw_exchange(server.port, head, timeout=1.0 if stage in ("3d", "prefork") else 5.0)
        assert response.startswith(b"HTTP/1.1 200 OK\r\n") and response.endswith(b"\r\n\r\n")
        server.proc.terminate()
        assert server.wait_exit(5) == 0
        _assert_clean(server)


@pytest.mark.parametrize("stage", ["2", "3d", "3h", "prefork"])
@pytest.mark.parametrize("app", ["flaskapp", "pyramidapp", "djangoapp"])
def test_validator_passes_for_the_frameworks(serve, stage, app):
    server = _validated(serve, stage, app, strict=False)
    status, _, body = get(server.port, "/hello")
    assert (status, body) == (200, APP_TEXT[app])
    status, _, _ = get(server.port, "/missing")
    assert status == 404
    server.proc.terminate()
    assert server.wait_exit(5) == 0
    _assert_clean(server)


@pytest.mark.parametrize("stage", ["2", "3h", "prefork"])
def test_app_errors_become_500_or_a_cut_response_and_the_server_goes_on(serve, stage, tmp_path):
    (tmp_path / "brokenapp.py").write_text(
        "def app(environ, start_response):\n"
        "    if environ['PATH_INFO'] == '/before':\n"
        "        raise RuntimeError('broken before the head')\n"
        "    def body():\n"
        "        yield b'partial'\n"
        "        raise RuntimeError('broken in the body')\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return body()\n")
    server = serve(stage, "brokenapp:app", cwd=tmp_path)
    for _ in range(2):
        status, headers, body = get(server.port, "/before")
        assert status == 500 and headers["connection"] == "close"
        # The head was out and the body has no length: a plain close would pass 'partial' off as the
        # whole body, so the connection must be reset and the client must see an error.
        cut = curl(server.port, "/during")
        assert cut.returncode == 56 and b"reset" in cut.stderr.lower(), cut
    log = server.log()
    assert log.count("RuntimeError: broken before the head") == 2
    assert log.count("RuntimeError: broken in the body") == 2
    assert server.alive()


@pytest.mark.parametrize("error", ["ConnectionRefusedError", "TimeoutError", "BrokenPipeError"])
def test_an_apps_own_socket_errors_are_app_errors_not_a_client_gone(serve, tmp_path, error):
    # An app that cannot reach its database must answer 500; only the client's socket failing means "gone".
    (tmp_path / "backendapp.py").write_text(
        "def app(environ, start_response):\n"
        f"    raise {error}('the backend is down')\n")
    server = serve("3a", "backendapp:app", cwd=tmp_path)
    status, headers, _ = get(server.port, "/")
    assert status == 500 and headers["connection"] == "close"
    assert f"{error}: the backend is down" in server.log()


def test_an_app_cannot_split_the_response_with_a_newline_in_status_or_header_name(serve, tmp_path):
    (tmp_path / "splitapp.py").write_text(
        "def app(environ, start_response):\n"
        "    if environ['PATH_INFO'] == '/status':\n"
        "        start_response('200 OK\\r\\nX-Injected: yes', [])\n"
        "    else:\n"
        "        start_response('200 OK', [('X-A\\r\\nX-Injected', 'yes')])\n"
        "    return [b'x']\n")
    server = serve("3a", "splitapp:app", cwd=tmp_path)
    for path in ("/status", "/name"):
        response = raw_exchange(server.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert response.startswith(b"HTTP/1.1 500 "), response
        assert b"X-Injected" not in response.partition(b"\r\n\r\n")[0]


def test_error_responses_to_head_have_no_body(serve, tmp_path):
    # RFC 9110 9.3.2: the server MUST NOT send content in response to HEAD, errors included.
    (tmp_path / "failingapp.py").write_text(
        "def app(environ, start_response):\n"
        "    raise RuntimeError('broken before the head')\n")
    server = serve("3a", "failingapp:app", cwd=tmp_path)
    for request, status in [(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", b"500"),
                            (b"HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"400")]:
        response = raw_exchange(server.port, request)
        head, _, body = response.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 " + status) and b"Content-Length: " in head
        assert body == b"", response


def _stat(pid):
    """(comm, state, ppid) of a process, from /proc/PID/stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            name, fields = stat.read().rsplit(")", 1)
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or between it and the read
        return None
    state, ppid = fields.split()[:2]
    return name.split("(", 1)[1], state, int(ppid)


def test_the_orphans_app_leaves_a_named_orphan_that_outlives_the_child_and_then_exits(serve):
    # Served by 3g, the request's child answers and exits; its child, the orphan, lives on, re-parented.
    server = serve("3g", "orphans:app")
    status, headers, body = get(server.port, "/?seconds=1.5")
    assert status == 200 and headers["content-length"] == str(len(body))
    pid = int(body.split()[2].rstrip(b","))
    # The grandchild names itself right after fork(): the response may reach us first.
    assert wait_until(lambda: (_stat(pid) or ("",))[0] == "orphan", 5)
    name, state, parent = _stat(pid)
    assert name == "orphan" and parent != server.pid
    # Its parent, the request's child, exits: the orphan is adopted by someone outside the server's tree.
    assert wait_until(lambda: (_stat(pid) or ("", "", 0))[2] not in (parent, server.pid), 5)
    # And once its seconds are up it is gone, or a zombie of whoever adopted it.
    assert wait_until(lambda: _stat(pid) is None or _stat(pid)[1] == "Z", 10)
