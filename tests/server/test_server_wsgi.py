"""The shared WSGI layer without a socket: environ, start_response rules, write(), close(), Content-Length."""

import sys
import warnings
from wsgiref.validate import check_environ

import pytest

from lbaws.http11 import Request
from lbaws.wsgi import Exchange, base_environ, request_environ


class Recorder:
    """Stands in for the connection: keeps what would have been sent."""

    def __init__(self):
        self.sent = []

    def send(self, data):
        self.sent.append(data)

    @property
    def head(self):
        return self.sent[0].decode("latin-1") if self.sent else ""

    @property
    def body(self):
        return b"".join(self.sent[1:])


def _run(app, method="GET", query=""):
    channel = Recorder()
    exchange = Exchange(channel, head_only=method == "HEAD")
    request = Request(method, f"/?{query}" if query else "/", "HTTP/1.1")
    exchange.run(app, request_environ(base_environ("lab", 8888, True), request, ("127.0.0.1", 5000)))
    return channel


class ClosingBody:
    def __init__(self, blocks, fail_at=None):
        self.blocks, self.fail_at, self.closed = blocks, fail_at, False

    def __iter__(self):
        for i, block in enumerate(self.blocks):
            if i == self.fail_at:
                raise RuntimeError("the app broke mid-body")
            yield block

    def close(self):
        self.closed = True


def test_environ_is_complete_and_passes_wsgiref_checks():
    request = Request("POST", "/a%20b/c?q=1&r=%2F", "HTTP/1.1",
                      headers=[("Host", "server-flask:8888"), ("Content-Type", "text/plain"),
                               ("Content-Length", "3"), ("Cookie", "a=1"), ("Cookie", "b=2"),
                               ("X-Forwarded-For", "10.0.0.1"), ("X-Sneaky_Header", "dropped")],
                      body=b"abc")
    environ = request_environ(base_environ("lab", 8888, True), request, ("10.1.2.3", 40000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_environ(environ)
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a b/c"
    assert environ["QUERY_STRING"] == "q=1&r=%2F"
    assert environ["HTTP_HOST"] == "server-flask:8888"
    assert environ["CONTENT_TYPE"] == "text/plain" and environ["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"
    assert "HTTP_X_SNEAKY_HEADER" not in environ
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"], environ["SERVER_PROTOCOL"]) == ("lab", "8888", "HTTP/1.1")
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("10.1.2.3", "40000")
    assert environ["wsgi.input"].read() == b"abc", "wsgi.input holds the body only"
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multiprocess"] is True and environ["wsgi.multithread"] is False
    assert environ["wsgi.run_once"] is False and environ["wsgi.version"] == (1, 0)


def test_single_block_gets_content_length():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]
    channel = _run(app)
    assert "Content-Length: 5\r\n" in channel.head and channel.body == b"hello"


def test_generator_body_is_close_delimited_and_empty_blocks_do_not_commit_the_head():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b""
        yield b"a"
        yield b"b"
    channel = _run(app)
    assert "Content-Length" not in channel.head
    assert "Connection: close\r\n" in channel.head
    assert channel.body == b"ab"


def test_empty_body_gets_content_length_zero_except_where_no_body_may_be():
    def app(environ, start_response):
        start_response(environ["QUERY_STRING"], [])
        return []
    assert "Content-Length: 0\r\n" in _run(app, query="200 OK").head
    assert "Content-Length" not in _run(app, query="204 No Content").head


def test_write_callable_sends_head_first_then_data_then_the_iterable():
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"from write;")
        return [b"from iterable"]
    channel = _run(app)
    assert channel.head.startswith("HTTP/1.1 200 OK\r\n")
    assert "Content-Length" not in channel.head, "the size is not known when write() commits the head"
    assert channel.body == b"from write;from iterable"


def test_exc_info_before_the_head_replaces_the_status():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"sorry"]
    assert _run(app).head.startswith("HTTP/1.1 500 Internal Server Error\r\n")


def test_exc_info_after_the_head_reraises():
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return []
    with pytest.raises(ValueError, match="too late"):
        _run(app)


def test_second_start_response_without_exc_info_is_an_error():
    def app(environ, start_response):
        start_response("200 OK", [])
        start_response("200 OK", [])
        return []
    with pytest.raises(AssertionError):
        _run(app)


@pytest.mark.parametrize("status,headers", [
    (b"200 OK", []),
    ("200", []),
    ("200 OK", (("Content-Type", "text/plain"),)),
    ("200 OK", [("Content-Type", b"text/plain")]),
    ("200 OK", [("Connection", "keep-alive")]),
    ("200 OK", [("X-Bad", "a\r\nInjected: yes")]),
    # Response splitting through the status or a header name, and what RFC 9110 forbids in either.
    ("200 OK\r\nX-Injected: yes", []),
    ("200 OK", [("X-Bad\r\nX-Injected", "yes")]),
    ("200 OK", [("X Bad", "space in the name")]),
    ("200 OK", [("X-Bad\n", "a newline that a regex's $ lets through")]),
    ("200 OK", [("X-Bad", "bell\x07")]),
    # Not a final status: 1xx is interim (the client would wait for the real response), 999 does not exist.
    ("100 Continue", []),
    ("999 Whatever", []),
    ("000 Zero", []),
])
def test_bad_status_or_headers_are_refused(status, headers):
    def app(environ, start_response):
        start_response(status, headers)
        return [b""]
    with pytest.raises((TypeError, AssertionError)):
        _run(app)


def test_str_body_is_refused_and_close_is_still_called():
    body = ClosingBody(["text, not bytes"])

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body
    with pytest.raises(TypeError):
        _run(app)
    assert body.closed


def test_close_is_called_when_the_body_fails_midway():
    body = ClosingBody([b"one", b"two"], fail_at=1)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body
    with pytest.raises(RuntimeError):
        _run(app)
    assert body.closed


def test_head_request_sends_no_body_but_keeps_the_length():
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"twelve bytes"]
    channel = _run(app, method="HEAD")
    assert "Content-Length: 12\r\n" in channel.head
    assert channel.body == b""


class GoneChannel(Recorder):
    """A client that hung up: every send fails as a closed socket does."""

    def send(self, data):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_client_gone_mid_response_is_told_apart_from_an_app_error():
    from lbaws.handlers import WSGIHandler
    from lbaws.http11 import ClientGone

    body = ClosingBody([b"one", b"two"])

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body
    handler = WSGIHandler(app, base_environ("lab", 8888, False))
    with pytest.raises(ClientGone):
        handler.respond(GoneChannel(), Request("GET", "/", "HTTP/1.1"), ("127.0.0.1", 5000))
    assert body.closed


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_no_body_statuses_send_neither_the_apps_body_nor_a_computed_length(status):
    # RFC 9110 8.6 and 15.4.5: a 204 has no Content-Length, and a 304's would have to be the
    # representation's size; bytes after the head would be read as the next response.
    body = ClosingBody([b"stray bytes"])

    def app(environ, start_response):
        start_response(status, [])
        return body
    channel = _run(app)
    assert channel.head.startswith(f"HTTP/1.1 {status}\r\n")
    assert "Content-Length" not in channel.head and channel.body == b""
    assert body.closed


def test_no_body_status_from_a_single_block_list_gets_no_length_either():
    def app(environ, start_response):
        start_response("204 No Content", [])
        return [b"x"]
    channel = _run(app)
    assert "Content-Length" not in channel.head and channel.body == b""


def test_absolute_form_target_overrides_the_host_header():
    # RFC 9112 3.2.2: with an absolute-form target the origin server MUST ignore Host and use the target's.
    request = Request("GET", "http://server-django:8888/hello?x=1", "HTTP/1.1", headers=[("Host", "elsewhere")])
    environ = request_environ(base_environ("lab", 8888, False), request, ("127.0.0.1", 5000))
    assert environ["HTTP_HOST"] == "server-django:8888"
    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/hello", "x=1")


def _declaring(length, blocks):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", length)])
        return blocks
    return app


def test_no_more_bytes_than_the_apps_content_length_are_sent():
    # PEP 3333: "the server should not transmit more bytes to the client than the header allows".
    channel = _run(_declaring("3", [b"abc", b"def"]))
    assert "Content-Length: 3\r\n" in channel.head and channel.body == b"abc"


def test_a_body_shorter_than_the_apps_content_length_is_an_error():
    # PEP 3333: the server should close the connection and report the error; the handler resets it.
    with pytest.raises(ValueError, match="Content-Length"):
        _run(_declaring("10", [b"abc"]))


def test_head_and_304_keep_the_apps_content_length_without_the_body():
    assert _run(_declaring("10", [b""]), method="HEAD").head.count("Content-Length: 10\r\n") == 1

    def not_modified(environ, start_response):
        start_response("304 Not Modified", [("Content-Length", "10")])
        return []
    assert "Content-Length: 10\r\n" in _run(not_modified).head


@pytest.mark.parametrize("headers", [[("Content-Length", "abc")], [("Content-Length", "-1")],
                                     [("Content-Length", "1"), ("Content-Length", "2")]])
def test_a_content_length_that_cannot_frame_the_body_is_refused(headers):
    def app(environ, start_response):
        start_response("200 OK", headers)
        return [b"x"]
    with pytest.raises(AssertionError):
        _run(app)
