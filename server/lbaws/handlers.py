"""Request handlers: what a stage answers on one connection, whatever process model accepted it."""

import socket
import sys

from lbaws import wsgi
from lbaws.http11 import Channel, ClientGone, HTTPError, linger, response_head
from lbaws.logs import log

HELLO = b"Hello, World!\n"
HELLO_HEAD = [("Content-Type", "text/plain; charset=utf-8")]

# Part 1 answers even a client that never sends the blank line: it waits this long for the first
# byte (a human at telnet), then this long after each later one, like a browser's request arriving in parts.
FIRST_BYTE_TIMEOUT = 5.0
IDLE_TIMEOUT = 0.5
ANYTHING_LIMIT = 64 * 1024


def _peer(address):
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


class AnythingHandler:
    """Part 1: read whatever arrives, print it, answer Hello, World! (no Content-Length: close-delimited)."""

    def __call__(self, sock, address):
        data = read_anything(sock)
        log.info("%s", data.decode("utf-8", "replace").rstrip("\r\n"))
        sock.sendall(response_head("200 OK", HELLO_HEAD) + HELLO)
        if len(data) >= ANYTHING_LIMIT:
            linger(sock)


def read_anything(sock):
    data = b""
    sock.settimeout(FIRST_BYTE_TIMEOUT)
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < ANYTHING_LIMIT:
        try:
            chunk = sock.recv(ANYTHING_LIMIT)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        sock.settimeout(IDLE_TIMEOUT)
    return data


class RequestHandler:
    """Reads one request with the shared reader and turns protocol errors into their responses."""

    def __call__(self, sock, address):
        channel = Channel(sock)
        try:
            request = channel.read_request()
            if request is None:
                return
            self.respond(channel, request, address)
        except HTTPError as error:
            log.info("%s from %s", error, _peer(address))
            channel.send_error(error)
        except ClientGone as gone:
            log.info("%s: %s", _peer(address), gone)
        finally:
            channel.close()

    def respond(self, channel, request, address):
        raise NotImplementedError


class FixedHelloHandler(RequestHandler):
    """3a-3g without an app: the text's fixed response, close-delimited so 3d's curl hangs as taught."""

    def respond(self, channel, request, address):
        log.info("%s\n", "\n".join(request.head_lines))
        head = response_head("200 OK", HELLO_HEAD)
        channel.send(head if request.method == "HEAD" else head + HELLO)


class WSGIHandler(RequestHandler):
    """Stage 2, 3h, and 3a-3g given an app: one WSGI call per request, printed a la `curl -v` as in part 2."""

    def __init__(self, app, base_environ):
        self.app = app
        self.base_environ = base_environ

    def respond(self, channel, request, address):
        log.info("%s\n", "\n".join(f"< {line}" for line in request.head_lines))
        environ = wsgi.request_environ(self.base_environ, request, address)
        exchange = wsgi.Exchange(channel, head_only=request.method == "HEAD", on_head=_log_response_head)
        try:
            exchange.run(self.app, environ)
        except Exception as exc:
            # An app's own ConnectionRefusedError or TimeoutError (its database, say) is the app's failure.
            if exchange.client_gone:
                raise ClientGone(f"went away during the response: {exc!r}") from exc
            log.exception("Error in the application serving %s %s", request.method, request.target)
            if exchange.headers_sent:
                channel.abort()  # too late for a 500: cut the connection instead of a second response
            else:
                error = HTTPError(500, "the application failed; see the server log")
                channel.send(error.to_response(head_only=request.method == "HEAD"))
        finally:
            sys.stderr.flush()  # wsgi.errors is sys.stderr; a child leaves with os._exit, which does not flush


def _log_response_head(head):
    lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    log.info("%s\n", "\n".join(f"> {line}" for line in lines))


def make_handler(stage, app, server_name, server_port):
    if stage.handler == "anything":
        return AnythingHandler()
    if app is None:
        return FixedHelloHandler()
    return WSGIHandler(app, wsgi.base_environ(server_name, server_port, stage.multiprocess))
