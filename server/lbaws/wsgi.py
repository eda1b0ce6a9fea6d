"""The server side of PEP 3333, shared by every stage that runs an application.

Modelled on CPython's wsgiref.handlers.BaseHandler: the environ of one request, start_response with
the exc_info rules, a write() callable, bytes-only bodies, result.close() always called, and a
Content-Length only when the size is known before the first byte goes out.
"""

import io
import sys
from urllib.parse import unquote

from lbaws import __version__
from lbaws.grammar import has_control, is_token
from lbaws.http11 import response_head

# RFC 9110 hop-by-hop headers belong to the server; PEP 3333 forbids applications to set them.
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade",
})

# Final responses that never carry a body (RFC 9112 6.3): the head ends them, so whatever the app
# yields is dropped and no Content-Length is computed (RFC 9110 8.6). 1xx never gets this far.
_NO_BODY = frozenset({"204", "304"})


def base_environ(server_name, server_port, multiprocess):
    """The part of the environ that is the same for every request of one server."""
    return {
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_SOFTWARE": f"lbaws/{__version__}",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        # True when every connection is served by its own forked process.
        "wsgi.multiprocess": multiprocess,
        "wsgi.run_once": False,
    }


def request_environ(base, request, client_address):
    environ = dict(base)
    environ.update({
        "REQUEST_METHOD": request.method,
        # PEP 3333: native strings holding the decoded bytes of the path, one character per byte.
        "PATH_INFO": unquote(request.path, encoding="latin-1") if request.target != "*" else "",
        "QUERY_STRING": request.query,
        "SERVER_PROTOCOL": request.version,
        "REMOTE_ADDR": str(client_address[0]),
        "REMOTE_PORT": str(client_address[1]),
        "wsgi.input": io.BytesIO(request.body),
    })
    if request.body:
        environ["CONTENT_LENGTH"] = str(len(request.body))
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if "_" in name:
            # X-Foo_Bar would arrive as the same key as X-Foo-Bar; drop it rather than let it impersonate.
            continue
        if key == "CONTENT_TYPE":
            environ[key] = value
            continue
        if key in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the reader has framed and decoded the body already: CONTENT_LENGTH says its size
        key = "HTTP_" + key
        if key in environ:
            separator = "; " if key == "HTTP_COOKIE" else ","
            environ[key] = environ[key] + separator + value
        else:
            environ[key] = value
    if request.authority:
        # RFC 9112 3.2.2: the target's authority wins over the Host header.
        environ["HTTP_HOST"] = request.authority
    return environ


class Exchange:
    """One application call: collects status and headers, then streams the body to the channel."""

    def __init__(self, channel, head_only=False, on_head=None, keep_alive=False):
        self.channel = channel
        # Asked for by the client and allowed by the stage; kept only if the response's end is known
        # without closing (a Content-Length, or no body at all).
        self.keep_alive = keep_alive
        self.on_head = on_head
        self.status = None
        self.headers = None
        self.headers_sent = False
        self.body_allowed = not head_only
        self.bytes_sent = 0
        self.declared_length = None  # the app's own Content-Length, once the head is out
        # Set when sending to the client failed: only then is an OSError the client's doing, not the app's.
        self.client_gone = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.headers_sent:
                    # Too late to change the response: let the error end it (PEP 3333).
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # avoid a frame <-> traceback cycle
        elif self.status is not None:
            raise AssertionError("start_response() called again without exc_info")
        _check_response(status, headers)
        self.status = status
        self.headers = list(headers)
        return self.write

    def write(self, data):
        if type(data) is not bytes:
            raise TypeError(f"WSGI body data must be bytes, not {type(data).__name__}")
        if self.status is None:
            raise AssertionError("write() before start_response()")
        if not self.headers_sent:
            self._send_head(None)
        self._send_body(data)

    def run(self, app, environ):
        """Call the app and send its response; errors before the head is out become a 500."""
        result = app(environ, self.start_response)
        try:
            known_length = None
            if isinstance(result, (list, tuple)) and len(result) == 1 and type(result[0]) is bytes:
                known_length = len(result[0])
            for data in result:
                if type(data) is not bytes:
                    raise TypeError(f"WSGI body data must be bytes, not {type(data).__name__}")
                if not data:
                    continue  # an empty block must not commit the head (PEP 3333)
                if self.status is None:
                    raise AssertionError("the application yielded a body before calling start_response()")
                if not self.headers_sent:
                    self._send_head(known_length)
                self._send_body(data)
                if self.body_allowed and self.bytes_sent == self.declared_length:
                    break  # PEP 3333: stop iterating once the app's Content-Length is reached
            if not self.headers_sent:
                if self.status is None:
                    raise AssertionError("the application returned without calling start_response()")
                self._send_head(self.bytes_sent)
            if self.body_allowed and self.declared_length is not None and self.bytes_sent < self.declared_length:
                # The client is waiting for bytes that will never come; the handler cuts the connection.
                raise ValueError(f"the application declared Content-Length {self.declared_length} "
                                 f"but sent {self.bytes_sent} bytes")
        finally:
            # Always, even when the client went away: the app may hold a database cursor or a file.
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _send_head(self, content_length):
        if self.status[:3] in _NO_BODY:
            self.body_allowed = False
            content_length = None
        self.declared_length = _declared_length(self.headers)
        framed = not self.body_allowed or content_length is not None or self.declared_length is not None
        self.keep_alive = self.keep_alive and framed
        head = response_head(self.status, self.headers, content_length=content_length,
                             keep_alive=self.keep_alive)
        self.headers_sent = True
        if self.on_head is not None:
            self.on_head(head)
        self._send(head)

    def _send_body(self, data):
        if self.body_allowed and self.declared_length is not None:
            data = data[: self.declared_length - self.bytes_sent]  # never more than the app declared
        if data and self.body_allowed:
            self._send(data)
        self.bytes_sent += len(data)

    def _send(self, data):
        try:
            self.channel.send(data)
        except OSError:
            self.client_gone = True
            raise


# (status, headers) pairs already checked: an app sends the same few again and again, and a keep-alive
# worker answers thousands a second. Keyed by value, so a pair is only ever trusted for what it holds.
_CHECKED = {}
_CHECKED_MAX = 256


def _check_response(status, headers):
    key = None
    # Exact types only: a str or tuple subclass compares equal to a checked value but is no valid header.
    if type(status) is str and type(headers) is list and all(
            type(item) is tuple and len(item) == 2 and type(item[0]) is str and type(item[1]) is str
            for item in headers):
        key = (status, tuple(headers))
        if key in _CHECKED:
            return
    _check_status(status)
    _check_headers(headers)
    if key is not None and len(_CHECKED) < _CHECKED_MAX:
        _CHECKED[key] = True


def _check_status(status):
    if type(status) is not str:
        raise TypeError(f"status must be str, not {type(status).__name__}")
    code, _, reason = status.partition(" ")
    if len(code) != 3 or not (code.isascii() and code.isdigit()) or not reason or has_control(reason):
        raise AssertionError(f"status must look like '200 OK', not {status!r}")
    # A 1xx is interim: sent as the response, the client would go on waiting for the final one.
    if not 200 <= int(code) <= 599:
        raise AssertionError(f"status {code} cannot end a response")


def _declared_length(headers):
    values = [value for name, value in headers if name.lower() == "content-length"]
    return int(values[0]) if values else None


def _check_headers(headers):
    if type(headers) is not list:
        raise TypeError(f"headers must be a list, not {type(headers).__name__}")
    for item in headers:
        if type(item) is not tuple or len(item) != 2:
            raise TypeError(f"each header must be a (name, value) tuple, not {item!r}")
        name, value = item
        if type(name) is not str or type(value) is not str:
            raise TypeError(f"header names and values must be str: {item!r}")
        if name.lower() in _HOP_BY_HOP:
            raise AssertionError(f"hop-by-hop header {name!r} is the server's business")
        # CR or LF in a name or value would let the app split the response in two.
        if not is_token(name) or has_control(value):
            raise AssertionError(f"bad header {item!r}")
        try:
            (name + value).encode("latin-1")
        except UnicodeEncodeError:
            raise AssertionError(f"header {item!r} is not latin-1") from None
    lengths = [value for name, value in headers if name.lower() == "content-length"]
    # The app's Content-Length frames the response: it must be one plain number.
    if len(lengths) > 1 or not all(value.isascii() and value.isdigit() for value in lengths):
        raise AssertionError(f"Content-Length must be given once, as digits: {lengths!r}")
