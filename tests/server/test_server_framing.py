"""Request framing through running servers: the data files' requests get the status the reader gives them,
on a forking stage and on prefork alike, and the issue-31 cases that hung or leaked into the app do not."""

import json
import socket
import time

import pytest

from requestfiles import load_all
from srvnet import raw_exchange, read_all, status_of
from test_server_prefork import Responses

pytestmark = pytest.mark.timeout(120)

# Every case a server can answer: the ones that end in a clean close or an EOF have no status to compare.
ANSWERED = [case for case in load_all() if case.expect == "accept" or case.status]


@pytest.mark.parametrize("stage", ["3h", "prefork"])
def test_each_request_file_gets_its_status_from_a_running_stage(serve, stage):
    server = serve(stage, "echoapp:app")
    wrong = {}
    for case in ANSWERED:
        response = raw_exchange(server.port, case.raw, timeout=5.0, shut_write=True)
        status = status_of(response)
        expected = 200 if case.expect == "accept" else case.status
        if status != expected:
            wrong[case.name] = (status, expected)
        elif case.expect == "accept":
            head, _, rest = response.partition(b"\r\n\r\n")
            length = int(head.lower().partition(b"content-length: ")[2].partition(b"\r\n")[0])
            echo = json.loads(rest[:length])
            if (echo["method"], echo["body_length"]) != (case.get("method"), len(case.get("body", b""))):
                wrong[case.name] = ("echo", echo["method"], echo["body_length"])
            # Keep-alive answers what the file says comes next; a forking stage closes after one response.
            if stage == "prefork" and case.get("next") and not rest[length:].startswith(b"HTTP/1.1 200 "):
                wrong[case.name] = ("next", rest[length:length + 40])
    assert wrong == {}
    assert server.alive() and "Traceback" not in server.log()


@pytest.mark.parametrize("stage", ["3h", "prefork"])
def test_a_bare_lf_after_a_chunk_size_is_refused_at_once_not_waited_on(serve, stage):
    # The client keeps its side open, as a keep-alive client does: the old reader took the LF as the line's
    # end, swallowed the CR of the data's end into the body and waited for a last chunk that had gone by.
    server = serve(stage, "echoapp:app", "--timeout", "10")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\nCAKZd\r\n0\r\n\r\n")
        response = read_all(sock, timeout=8, until=b"\r\n\r\n")
        waited = time.monotonic() - started
    assert status_of(response) == 400, response[:200]
    assert waited < 5, f"answered after {waited:.1f} s: the server waited for more of the body"


def test_a_fragment_reaches_neither_path_info_nor_query_string(serve):
    server = serve("3h", "echoapp:app")
    response = raw_exchange(server.port, b"GET /a/b?x=1#frag HTTP/1.1\r\nHost: x\r\n\r\n", shut_write=True)
    echo = json.loads(response.partition(b"\r\n\r\n")[2])
    assert (echo["path"], echo["query"]) == ("/a/b", "x=1")


def test_prefork_skips_the_empty_line_after_a_body_and_answers_the_pipelined_request(serve):
    server = serve("prefork", "echoapp:app", "--workers", "1")
    pipeline = (b"POST /p/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\r\n"
                b"GET /p/2 HTTP/1.1\r\nHost: x\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(pipeline)
        responses = Responses(sock)
        first, second = responses.next(), responses.next()
    assert (first[0], second[0]) == (200, 200)
    assert [json.loads(r[2])["path"] for r in (first, second)] == ["/p/1", "/p/2"]
    assert json.loads(first[2])["body"] == "hello"
