"""The response reader, fed each case whole, byte by byte and in random chunks."""

import random
import socket
import threading
import time

import pytest

from lbaws.client.response import BadResponse, ResponseParser, read_response

# (name, bytes received, then EOF?, expected status or exception, complete)
CASES = [
    ("text's response, close-delimited", b"HTTP/1.1 200 OK\n\nHello, World!", True, 200, True),
    ("crlf, close-delimited, no EOF yet", b"HTTP/1.1 200 OK\r\n\r\nHello", False, 200, False),
    ("content-length ends it", b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nHello", False, 200, True),
    ("content-length, body short", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nHello", False, 200, False),
    ("204 has no body", b"HTTP/1.1 204 No Content\r\n\r\n", False, 204, True),
    ("404 with reason", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", False, 404, True),
    ("status without reason", b"HTTP/1.1 500\r\n\r\n", True, 500, True),
    ("head not finished", b"HTTP/1.1 200 OK\r\nServer: x\r\n", False, None, False),
    ("closed without a byte", b"", True, BadResponse, None),
    ("closed inside the head", b"HTTP/1.1 200 OK\r\n", True, BadResponse, None),
    ("not http", b"SSH-2.0-OpenSSH\r\n\r\n", False, BadResponse, None),
]


def _chunkings(data):
    rng = random.Random(len(data))
    yield [data]
    yield [data[i:i + 1] for i in range(len(data))]
    for _ in range(5):
        chunks, rest = [], data
        while rest:
            n = rng.randint(1, 7)
            chunks.append(rest[:n])
            rest = rest[n:]
        yield chunks


@pytest.mark.parametrize("name,data,eof,expected,complete", CASES, ids=[c[0] for c in CASES])
def test_parser(name, data, eof, expected, complete):
    for chunks in _chunkings(data):
        parser = ResponseParser()
        if expected is BadResponse:
            with pytest.raises(BadResponse):
                for chunk in chunks:
                    parser.feed(chunk)
                if eof:
                    parser.feed_eof()
            continue
        for chunk in chunks:
            parser.feed(chunk)
        if eof:
            parser.feed_eof()
        assert parser.status == expected
        assert parser.complete == complete


def test_read_response_gives_up_at_the_deadline_with_the_status():
    """3d's hang: the head arrives, the close never does."""
    a, b = socket.socketpair()
    try:
        b.sendall(b"HTTP/1.1 200 OK\r\n\r\nHello")
        start = time.monotonic()
        parser = read_response(a, start + 0.3)
        # Measured at 0.30 s; the bound is 10 times the deadline.
        assert 0.25 < time.monotonic() - start < 3
        assert (parser.status, parser.complete) == (200, False)
        assert parser.status_at < start + 0.3, "the status was read before the deadline"
    finally:
        a.close()
        b.close()


def test_read_response_times_out_without_a_status():
    a, b = socket.socketpair()
    try:
        with pytest.raises(socket.timeout):
            read_response(a, time.monotonic() + 0.2)
    finally:
        a.close()
        b.close()


def test_read_response_reads_across_slow_chunks():
    a, b = socket.socketpair()

    def drip():
        for piece in (b"HTTP/1.1 2", b"00 OK\n", b"\nHel", b"lo"):
            b.sendall(piece)
            time.sleep(0.02)
        b.close()

    writer = threading.Thread(target=drip)
    writer.start()
    try:
        parser = read_response(a, time.monotonic() + 5)
        assert (parser.status, parser.complete, parser.received) == (200, True, 22)
    finally:
        writer.join()
        a.close()
