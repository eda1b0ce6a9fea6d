"""Property-based: whatever bytes arrive, the request reader ends in a request, a clean EOF, an HTTP error or
"client gone", and a running stage answers each garbage connection with an HTTP error (or nothing) and
then still serves a real request. Bounded in examples and in time."""

import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lbaws.http11 import ClientGone, HTTPError
from srvnet import get, raw_exchange
from srvproc import ServerProcess
from test_server_http11 import _read_fed

# Bytes that look like the start of a request more often than pure noise would, so the fuzz gets past
# the request line into headers and chunked bodies.
PREFIXES = [b"", b"GET / HTTP/1.1\r\n", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n", b"GET /hello HTTP/1.0\r\n"]
PIECES = st.sampled_from([b"\r\n", b"\n", b"\r", b":", b";", b" ", b"\t", b"0", b"ff", b"Host: x",
                          b"Content-Length: 3", b"Transfer-Encoding: chunked", b"\x00", b"\xff", b"HTTP/1.1"])
GARBAGE = st.builds(lambda prefix, parts, tail: prefix + b"".join(parts) + tail,
                    st.sampled_from(PREFIXES), st.lists(PIECES, max_size=20), st.binary(max_size=200))


@settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(GARBAGE)
def test_the_reader_ends_every_byte_sequence_in_a_request_or_a_clean_refusal(data):
    started = time.monotonic()
    try:
        request = _read_fed([data])
    except (HTTPError, ClientGone) as refused:
        if isinstance(refused, HTTPError):
            assert 400 <= refused.code < 600
            assert refused.to_response().startswith(f"HTTP/1.1 {refused.code} ".encode())
    else:
        assert request is None or request.method
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module", params=["2", "3h", "prefork"])
def running(request, tmp_path_factory):
    log = tmp_path_factory.mktemp(f"fuzz-{request.param}") / "server.log"
    server = ServerProcess([request.param, "echoapp:app", "--host", "127.0.0.1", "--port", "0", "--timeout", "2"],
                           log).wait_listening()
    yield server
    server.kill()


@settings(max_examples=60, deadline=10000, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(GARBAGE)
def test_a_stage_answers_garbage_with_an_http_error_or_nothing_and_lives_on(running, data):
    try:
        response = raw_exchange(running.port, data, timeout=5.0, shut_write=True)
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        response = b""
    assert response == b"" or response.startswith(b"HTTP/1.1 "), response[:80]
    assert running.proc.poll() is None, running.log()[-2000:]


def test_after_the_fuzz_each_stage_still_serves_a_real_request(running):
    status, _, body = get(running.port, "/after-fuzz")
    assert status == 200 and b"/after-fuzz" in body
    assert running.proc.poll() is None
