"""The one HTTP/1.1 request reader and response writer every stage shares.

The tutorial read a request with a single recv(1024); here the head is read line by line up to the
blank line, with limits, and the body by Content-Length or chunked, every framing octet checked by the
grammar in grammar.py (docs/http-framing.md says where the RFC left a choice and which one this is). Errors are data (HTTPError) rendered by one
method. The tutorial's servers say `Connection: close` and close after one response; the prefork stage
keeps connections open, parsing the same way from the bytes a non-blocking socket has received
(BufferSource), where the other stages read from a blocking socket's file.
"""

import email.utils
import socket
import struct
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from lbaws import __version__, grammar

SERVER = f"lbaws/{__version__}"

MAX_REQUEST_LINE = 8190
MAX_HEADER_LINE = 8190
MAX_HEADERS = 100
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
# How long, and how much, a refused client may go on sending before the connection is closed anyway.
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024

# Fields whose grammar is a single value (RFC 9110): two lines of one cannot be combined into a list.
SINGLE_VALUE_FIELDS = ("content-type", "content-location", "content-range", "authorization",
                       "proxy-authorization", "if-modified-since", "if-unmodified-since", "if-range",
                       "max-forwards", "referer")


class HTTPError(Exception):
    """A request the server refuses: a status code, its reason phrase, and a detail for the body and the log."""

    def __init__(self, code: int, detail: str = ""):
        self.code = code
        self.reason = HTTPStatus(code).phrase
        self.detail = detail
        super().__init__(f"{code} {self.reason}: {detail}" if detail else f"{code} {self.reason}")

    def to_response(self, head_only: bool = False) -> bytes:
        """The whole response; for a HEAD request its head only, with the length a GET would get."""
        body = f"{self}\n".encode("latin-1", "replace")
        return response_head(
            f"{self.code} {self.reason}",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        ) + (b"" if head_only else body)


class ClientGone(Exception):
    """The client closed, or stayed silent, before a whole request arrived: nothing to answer, just close."""


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    head_lines: List[str] = field(default_factory=list)
    # (how many headers it was built from, lower-case name -> values): fields() builds it once per request.
    _index: Optional[tuple] = field(default=None, init=False, repr=False, compare=False)

    def fields(self) -> dict:
        """Header values by lower-case name, names in order of first arrival.

        Every check of the head asks for a header or two: lowering each name once per request, not once
        per question, is a measurable part of a keep-alive worker's time.
        """
        index = self._index
        if index is None or index[0] != len(self.headers):
            by_name = {}
            for key, value in self.headers:
                by_name.setdefault(key.lower(), []).append(value)
            index = self._index = (len(self.headers), by_name)
        return index[1]

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """The value of header `name`; repeated headers are joined with ', ' as RFC 9110 allows."""
        values = self.fields().get(name.lower())
        return ", ".join(values) if values else default

    @property
    def path(self) -> str:
        return _split_target(self.target)[0]

    @property
    def query(self) -> str:
        return _split_target(self.target)[1]

    @property
    def authority(self) -> Optional[str]:
        """host[:port] of an absolute-form target (as sent to proxies), else None."""
        if self.target.startswith("/") or self.target == "*":
            return None
        return urlsplit(self.target).netloc.rpartition("@")[2] or None


def _split_target(target):
    # A fragment names a part of what the client got, never the resource it asks for (RFC 9110 4.2.5); a
    # client should not send one, and one that comes reaches neither the path nor the query.
    target = target.partition("#")[0]
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query
    # absolute-form, as sent to proxies: keep its path and query only
    parts = urlsplit(target)
    return parts.path or "/", parts.query


class Incomplete(Exception):
    """A buffer holds only part of a request: parse again once more bytes arrived.

    `need` is the buffer length below which another attempt cannot succeed (a body of known size), or
    None when any new byte may complete it.
    """

    def __init__(self, need: Optional[int] = None):
        super().__init__(need)
        self.need = need


class BufferSource:
    """The bytes a non-blocking connection has received so far, read like a file by RequestReader.

    Where a blocking file would wait, it raises Incomplete; at `eof` it returns what there is, as a file would.
    """

    def __init__(self, data, eof: bool = False):
        self.data = data
        self.eof = eof
        self.pos = 0

    def readline(self, limit: int) -> bytes:
        data, pos = self.data, self.pos
        end = data.find(b"\n", pos, pos + limit)
        if end >= 0:
            end += 1
        elif len(data) - pos >= limit:
            end = pos + limit
        elif self.eof:
            end = len(data)
        else:
            raise Incomplete()
        self.pos = end
        return bytes(data[pos:end])

    def read(self, size: int) -> bytes:
        data, pos = self.data, self.pos
        if len(data) - pos < size and not self.eof:
            raise Incomplete(pos + size)
        self.pos = min(len(data), pos + size)
        return bytes(data[pos:self.pos])


class RequestReader:
    """Reads one request from a file-like source (readline(limit), read(size)), blocking or buffered.

    `send` answers `Expect: 100-continue` before the body is read.
    """

    def __init__(self, source, send):
        self.source = source
        self.send = send
        self._head_bytes = 0
        self._blank_bytes = 0  # of _head_bytes, the empty lines skipped before the request line
        # Known once the request line is parsed, so that an error answering a HEAD has no body.
        self.head_request = False
        self.in_body = False

    @property
    def started(self) -> bool:
        """Whether any byte of the request itself (not an empty line before it) has been read."""
        return self._head_bytes > self._blank_bytes or self.in_body

    def read(self) -> Optional[Request]:
        """The next request, or None when the source ended cleanly before one byte of it."""
        while True:
            line = self._read_line(MAX_REQUEST_LINE, 414, "request line", first=True)
            if line is None:
                return None
            if line:
                break
            # RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line (a client
            # may send CRLF after a POST body). They count against the head's limit, so a flood of them ends.
            self._blank_bytes = self._head_bytes
        request = _parse_request_line(line)
        self.head_request = request.method == "HEAD"
        request.head_lines.append(line.decode("latin-1"))
        self._read_fields(request.headers, request.head_lines, 431, "header line")
        _check_host(request)
        _check_single_fields(request)
        chunked = _is_chunked(request)
        length = None if chunked else _content_length(request)
        if chunked or length:
            self.in_body = True
            self._expect_continue(request)
            request.body = self._read_chunked() if chunked else self._read_exactly(length)
        return request

    def _read_exactly(self, length):
        body = self.source.read(length)
        if len(body) < length:
            raise ClientGone(f"closed after {len(body)} of {length} body bytes")
        return body

    def _read_chunked(self):
        """The chunked transfer coding, which every HTTP/1.1 recipient must be able to parse (RFC 9112 7.1).

        Its framing lines end in CRLF only: the bare-LF allowance of RFC 9112 2.2 is for the start line and
        fields, so it applies to the trailer section but not to a chunk-size line or the end of chunk data.
        """
        chunks, total = [], 0
        while True:
            # Framing lines are not head: only their own length is bounded, or many small chunks would be a 431.
            self._head_bytes = 0
            size_line = self._read_line(MAX_HEADER_LINE, 400, "chunk size line", crlf_only=True)
            size = grammar.chunk_size_line(size_line, MAX_BODY)
            if size is None:
                raise HTTPError(400, f"bad chunk size line {size_line[:40].decode('latin-1')!r}")
            total += size
            if total > MAX_BODY:
                raise HTTPError(413, f"body larger than {MAX_BODY} bytes")
            if size == 0:
                break
            chunks.append(self._read_exactly(size))
            if self._read_exactly(2) != b"\r\n":
                raise HTTPError(400, "chunk data not followed by CRLF")
        # RFC 9112 7.1.2: the trailer section is field lines up to an empty line, checked like the head's,
        # then dropped: nothing here needs them.
        self._read_fields([], [], 431, "trailer line")
        return b"".join(chunks)

    def _read_line(self, limit, code, what, first=False, crlf_only=False):
        """One line without its ending, as bytes; None for a clean end where `first` allows one."""
        # +2 leaves room for the line ending, so exactly `limit` octets of content are allowed.
        raw = self.source.readline(limit + 2)
        self._head_bytes += len(raw)
        if not raw:
            if first:
                return None
            raise ClientGone(f"closed in the middle of the {what}s")
        if not raw.endswith(b"\n"):
            if len(raw) >= limit + 2:
                raise HTTPError(code, f"{what} longer than {limit} bytes")
            raise ClientGone(f"closed in the middle of the {what}")
        if raw.endswith(b"\r\n"):
            line = raw[:-2]
        elif crlf_only:
            raise HTTPError(400, f"{what} not ended by CRLF")
        else:
            # A bare LF ends a head line (RFC 9112 2.2 allows it): the text's client3.py and telnet send it.
            # Only one CR before it is the line's: any other CR stays and the grammar refuses it.
            line = raw[:-1]
        if len(line) > limit:
            raise HTTPError(code, f"{what} longer than {limit} bytes")
        if self._head_bytes > MAX_HEAD:
            raise HTTPError(431, f"request head larger than {MAX_HEAD} bytes")
        return line

    def _read_fields(self, fields, lines, code, what):
        """Field lines up to the empty line that ends the section, into (name, value) pairs."""
        while True:
            line = self._read_line(MAX_HEADER_LINE, code, what)
            if not line:
                return
            text = line.decode("latin-1")
            lines.append(text)
            if len(fields) >= MAX_HEADERS:
                raise HTTPError(431, f"more than {MAX_HEADERS} {what}s")
            spans = grammar.field_line(line)
            if spans is None:
                if line[:1] in (b" ", b"\t"):
                    raise HTTPError(400, "folded header lines are obsolete")
                raise HTTPError(400, f"bad header line {text[:80]!r}")
            # latin-1 is one character per octet, so the octets' positions are the text's.
            fields.append((text[:spans[0]], text[spans[1]:spans[2]]))

    def _expect_continue(self, request):
        expect = request.header("Expect")
        if expect and expect.lower() == "100-continue" and request.version == "HTTP/1.1":
            self.send(CONTINUE)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def wants_keep_alive(request: Request) -> bool:
    """Whether the client asks for the connection to stay open after this response (RFC 9112 9.3)."""
    options = {option.lower() for option in grammar.list_elements(b",".join(_raw_values(request, "connection")))}
    if b"close" in options:
        return False
    if request.version == "HTTP/1.0":
        return b"keep-alive" in options
    return True


class Channel:
    """One client connection: buffered blocking reads for the request, plain sendall for the response."""

    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.reader = None

    @property
    def head_request(self) -> bool:
        return self.reader is not None and self.reader.head_request

    def close(self):
        # The socket is only really closed when its makefile() reader is closed too.
        self.rfile.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def abort(self):
        """Make the coming close a reset (RST), not an orderly end (FIN).

        After a failure mid-body a FIN would tell the client that a close-delimited body is complete;
        a reset tells it the response is broken (RFC 9112 8).
        """
        abort(self.sock)

    def send_error(self, error: "HTTPError"):
        self.send(error.to_response(head_only=self.head_request))
        linger(self.sock)

    def read_request(self) -> Optional[Request]:
        """The next request, or None when the client closed cleanly before sending one byte."""
        self.reader = RequestReader(self.rfile, self.send)
        try:
            return self.reader.read()
        except socket.timeout:
            if self.reader.in_body:
                raise HTTPError(408, "the request body did not arrive in time") from None
            if self.reader.started:
                raise HTTPError(408, "the request head did not arrive in time") from None
            raise ClientGone("no request before the timeout") from None


def abort(sock):
    """Make the coming close of `sock` a reset (RST) instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def linger(sock):
    """Let the client read a response although its request was not read in full.

    Closing with unread request bytes in the kernel buffer makes Linux send RST, and the client may
    then lose the response; so the response ends with FIN and whatever still comes is discarded.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_SECONDS)
        discarded = 0
        while discarded < LINGER_BYTES:
            chunk = sock.recv(65536)
            if not chunk:
                break
            discarded += len(chunk)
    except OSError:
        pass


def _parse_request_line(line):
    parts = grammar.request_line(line)
    if parts is None:
        # One SP between the three parts, no more (RFC 9112 3): docs/http-framing.md says why.
        raise HTTPError(400, f"request line is not METHOD TARGET VERSION: {line[:80].decode('latin-1')!r}")
    method, target, version = parts[0].decode("latin-1"), parts[1].decode("latin-1"), parts[2].decode("latin-1")
    numbers = grammar.http_version(parts[2])
    if numbers is None:
        raise HTTPError(400, f"bad HTTP version {version[:40]!r}")
    if numbers[0] != 1:
        raise HTTPError(505, f"{version} is not spoken here")
    if not (target.startswith("/") or target.startswith(("http://", "https://")) or
            (target == "*" and method == "OPTIONS")):
        raise HTTPError(400, f"bad request target {target[:80]!r}")
    return Request(method=method, target=target, version=version)


def _check_single_fields(request):
    """Fields whose grammar allows one value: a second line of one is a request no recipient can trust."""
    for name, values in request.fields().items():
        if len(values) > 1 and name in SINGLE_VALUE_FIELDS:
            raise HTTPError(400, f"more than one {name} header")


def _check_host(request):
    hosts = request.fields().get("host", ())
    # RFC 9112 3.2: an HTTP/1.1 (or later 1.x) request without exactly one Host gets 400.
    if request.version != "HTTP/1.0" and len(hosts) != 1 or len(hosts) > 1:
        raise HTTPError(400, "an HTTP/1.1 request needs exactly one Host header")


def _raw_values(request, name):
    # The reader decoded field values as latin-1, one character per octet: encoding gives the octets back.
    return [value.encode("latin-1") for value in request.fields().get(name, ())]


def _is_chunked(request):
    if "transfer-encoding" not in request.fields():
        return False
    values = _raw_values(request, "transfer-encoding")
    if request.version == "HTTP/1.0":
        # RFC 9112 6.1: 1.0 has no transfer codings, so its framing cannot be trusted.
        raise HTTPError(400, "Transfer-Encoding in an HTTP/1.0 request")
    if request.fields().get("content-length"):
        # Both framings at once is how requests are smuggled past proxies (RFC 9112 6.1).
        raise HTTPError(400, "both Transfer-Encoding and Content-Length")
    codings = [element for value in values for element in grammar.list_elements(value)]
    shown = request.header("Transfer-Encoding")[:40]
    if not codings or codings[-1].lower() != b"chunked":
        # RFC 9112 6.3: a request whose final coding is not chunked has no length the server can find.
        raise HTTPError(400, f"Transfer-Encoding {shown!r} does not end in chunked")
    if len(codings) > 1:
        # RFC 9112 6.1: a coding the server does not know (chunked twice is refused too: RFC 9112 7).
        raise HTTPError(501, f"Transfer-Encoding {shown!r} is not supported; only chunked is")
    return True


def _content_length(request):
    """RFC 9112 6.3: 1*DIGIT; a list of one repeated value is that value (RFC 9110 8.6), anything else a 400."""
    if "content-length" not in request.fields():
        return 0
    lengths = set()
    for value in _raw_values(request, "content-length"):
        for element in value.split(b","):
            length = grammar.decimal(grammar.strip_ows(element), MAX_BODY)
            if length is None:
                raise HTTPError(400, f"bad Content-Length {request.header('Content-Length')[:40]!r}")
            lengths.add(length)
    if len(lengths) > 1:
        raise HTTPError(400, "conflicting Content-Length headers")
    length = lengths.pop() if lengths else 0
    if length > MAX_BODY:
        raise HTTPError(413, f"body larger than {MAX_BODY} bytes")
    return length


_date_cache = [0, ""]


def http_date() -> str:
    # A busy keep-alive worker answers thousands of requests a second; the date changes once a second.
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _date_cache[1]


def response_head(status: str, headers, *, content_length: Optional[int] = None, keep_alive: bool = False) -> bytes:
    """Status line and headers; Date and Server unless given; `Connection: close` unless keep_alive."""
    names = {name.lower() for name, _ in headers}
    lines = [f"HTTP/1.1 {status}"]
    if "date" not in names:
        lines.append(f"Date: {http_date()}")
    if "server" not in names:
        lines.append(f"Server: {SERVER}")
    lines.extend(f"{name}: {value}" for name, value in headers if name.lower() != "connection")
    if content_length is not None and "content-length" not in names:
        lines.append(f"Content-Length: {content_length}")
    # Said even to HTTP/1.1 clients, for whom keep-alive is the default: a reader of the log sees the choice.
    lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
