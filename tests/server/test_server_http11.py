"""The shared request reader, driven by data/requests/*.http, fed whole, byte by byte and in random chunks."""

import random
import socket
import threading

import pytest

from lbaws.http11 import BufferSource, Channel, ClientGone, HTTPError, Incomplete, RequestReader, response_head
from requestfiles import load_all

CASES = load_all()


def _chunks(data, mode, seed):
    if mode == "whole":
        return [data]
    if mode == "bytes":
        return [data[i:i + 1] for i in range(len(data))]
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(data):
        step = rng.randint(1, 64)
        pieces.append(data[i:i + step])
        i += step
    return pieces


def _read_fed(chunks, rest=None):
    """read_request() on a real socket while a thread writes `chunks` to the other end, then closes it.

    With a `rest` list, what the connection still holds after the request is appended to it.
    """
    reader, writer = socket.socketpair()
    reader.settimeout(10)

    def feed():
        try:
            for chunk in chunks:
                writer.sendall(chunk)
            writer.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the reader gave up early (an error case) and closed its end

    thread = threading.Thread(target=feed)
    thread.start()
    channel = Channel(reader)
    try:
        request = channel.read_request()
        if rest is not None:
            rest.append(channel.rfile.read())
        return request
    finally:
        channel.close()
        reader.close()
        thread.join(10)
        writer.close()


def _parse_buffered(chunks, rest=None):
    """What the prefork worker does: parse again after each arrival, until a request, an error or the end."""
    data = bytearray()
    need = None
    for chunk in chunks:
        data += chunk
        if need is not None and len(data) < need:
            continue  # the reader said no attempt can succeed before this many bytes
        source = BufferSource(data)
        try:
            request = RequestReader(source, lambda _: None).read()
        except Incomplete as incomplete:
            need = incomplete.need
            continue
        if rest is not None:
            rest.append(bytes(data[source.pos:]) + b"".join(chunks)[len(data):])
        return request
    source = BufferSource(data, eof=True)
    request = RequestReader(source, lambda _: None).read()
    if rest is not None:
        rest.append(bytes(data[source.pos:]))
    return request


@pytest.mark.parametrize("mode", ["whole", "bytes", "random"])
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@pytest.mark.parametrize("read", [_read_fed, _parse_buffered], ids=["socket", "buffer"])
def test_request_reader(case, mode, read):
    chunks = _chunks(case.raw, mode, case.name)
    if case.status:
        with pytest.raises(HTTPError) as caught:
            read(chunks)
        assert caught.value.code == case.status, caught.value
        assert caught.value.to_response().startswith(f"HTTP/1.1 {case.status} ".encode())
    elif case.expect == "gone":
        with pytest.raises(ClientGone):
            read(chunks)
    elif case.expect == "eof":
        assert read(chunks) is None
    else:
        rest = []
        request = read(chunks, rest)
        target = case.get("target")
        assert (request.method, request.target, request.version) == (case.get("method"), target, case.get("version"))
        if case.headers:
            assert request.headers == case.headers
        assert request.body == case.get("body", b"")
        assert request.path == case.get("path", target.partition("?")[0])
        assert request.query == case.get("query", target.partition("?")[2])
        assert rest == [case.get("next", b"")]


def test_several_requests_on_one_connection_then_none_at_clean_eof():
    # The tutorial's stages close after one response; a keep-alive stage would loop like this.
    reader, writer = socket.socketpair()
    writer.sendall(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    writer.shutdown(socket.SHUT_WR)
    channel = Channel(reader)
    try:
        first, second, end = channel.read_request(), channel.read_request(), channel.read_request()
    finally:
        channel.close()
        reader.close()
        writer.close()
    assert (first.method, first.path, first.body) == ("POST", "/a", b"abc")
    assert (second.method, second.path, second.body) == ("GET", "/b", b"")
    assert end is None


def test_pipelined_requests_parse_one_after_the_other_from_one_buffer():
    data = bytearray(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                     b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /c HTT")
    source = BufferSource(data)
    first = RequestReader(source, lambda _: None).read()
    del data[:source.pos]
    source = BufferSource(data)
    second = RequestReader(source, lambda _: None).read()
    del data[:source.pos]
    with pytest.raises(Incomplete) as waiting:
        RequestReader(BufferSource(data), lambda _: None).read()
    assert (first.path, first.body, second.path, second.version) == ("/a", b"abc", "/b", "HTTP/1.0")
    assert waiting.value.need is None and bytes(data) == b"GET /c HTT"


def test_a_body_of_known_size_says_how_many_bytes_it_needs_and_expect_continue_is_answered():
    head = b"PUT /u HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n"
    sent = []
    with pytest.raises(Incomplete) as waiting:
        RequestReader(BufferSource(head + b"x" * 10), sent.append).read()
    assert waiting.value.need == len(head) + 1000
    assert sent == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_response_head_says_keep_alive_only_when_asked():
    head = response_head("200 OK", [], content_length=0, keep_alive=True).decode("latin-1")
    assert "Connection: keep-alive\r\n" in head and "close" not in head


def test_response_head_adds_date_server_and_close_and_drops_an_app_connection_header():
    head = response_head("200 OK", [("Content-Type", "text/plain"), ("Connection", "keep-alive")],
                         content_length=5).decode("latin-1")
    lines = head.split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    names = [line.split(":")[0] for line in lines[1:] if line]
    assert names == ["Date", "Server", "Content-Type", "Content-Length", "Connection"]
    assert "Connection: close" in lines and "Connection: keep-alive" not in lines
    assert head.endswith("\r\n\r\n")


def test_a_body_in_many_small_chunks_is_not_mistaken_for_a_large_head():
    # 20000 one-byte chunks put about 120 KB of framing on the wire, more than the 64 KiB head limit.
    body = bytes(range(256)) * 78 + b"x" * 32
    framed = b"".join(b"1\r\n" + body[i:i + 1] + b"\r\n" for i in range(len(body)))
    raw = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + b"0\r\n\r\n"
    assert _read_fed([raw]).body == body
