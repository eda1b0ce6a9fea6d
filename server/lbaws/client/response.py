"""Reading one HTTP response just far enough to count it.

The client needs the status code and whether the response ended; it keeps
no body. The tutorial's servers delimit the body by closing the connection,
so "ended" is usually EOF; a Content-Length, when present, ends it too.
"""

import re
import socket
import time

_STATUS_LINE = re.compile(rb"HTTP/\d\.\d +(\d{3})(?: |\r?$)")
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
# A head larger than this is not one of ours; stop rather than buffer it.
MAX_HEAD = 64 * 1024


class BadResponse(Exception):
    """The bytes received are not an HTTP response."""


class ResponseParser:
    """Fed bytes as they arrive; knows the status and whether the response is complete."""

    def __init__(self):
        self._head = b""
        self.status = None
        self.status_at = None   # clock() when the status line arrived
        self._remaining = None  # body bytes still expected; None: until EOF
        self.complete = False
        self.received = 0

    def feed(self, data):
        self.received += len(data)
        if self.status is None:
            self._head += data
            end = _head_end(self._head)
            if end is None:
                if len(self._head) > MAX_HEAD:
                    raise BadResponse("head larger than %d bytes" % MAX_HEAD)
                return
            head, body = self._head[:end[0]], self._head[end[1]:]
            self._head = b""
            self._parse_head(head)
            data = body
        if self._remaining is not None and not self.complete:
            self._remaining -= len(data)
            if self._remaining <= 0:
                self.complete = True

    def feed_eof(self):
        if self.status is None:
            raise BadResponse("connection closed before a complete response head"
                              if self._head or self.received else "connection closed without a response")
        self.complete = True

    def _parse_head(self, head):
        first = head.split(b"\n", 1)[0]
        match = _STATUS_LINE.match(first)
        if not match:
            raise BadResponse("bad status line %r" % first[:80])
        self.status = int(match.group(1))
        length = _CONTENT_LENGTH.search(head)
        if self.status < 200 or self.status in (204, 304):
            self._remaining = 0
        elif length:
            self._remaining = int(length.group(1))
        if self._remaining == 0:
            self.complete = True


def _head_end(buf):
    """(end of head, start of body) for either CRLF or bare-LF line ends, or None."""
    ends = [(i, i + len(sep)) for sep in (b"\r\n\r\n", b"\n\n") for i in [buf.find(sep)] if i >= 0]
    return min(ends) if ends else None


def read_response(sock, until, clock=time.monotonic):
    """Read from sock until the response is complete or the monotonic time `until`.

    Returns the parser; raises socket.timeout if no status line came in time,
    OSError on a socket error, BadResponse for bytes that are not HTTP.
    """
    parser = ResponseParser()
    while not parser.complete:
        left = until - clock()
        if left <= 0:
            if parser.status is None:
                raise socket.timeout("timed out waiting for the response")
            return parser
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:  # TimeoutError itself only from 3.10 on
            if parser.status is None:
                raise
            return parser
        if not data:
            parser.feed_eof()
        else:
            parser.feed(data)
            if parser.status is not None and parser.status_at is None:
                parser.status_at = clock()
    return parser
