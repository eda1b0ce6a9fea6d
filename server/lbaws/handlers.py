"""Request handlers: what a stage answers on one connection, whatever process model accepted it."""

import logging
import socket
import sys

from lbaws import wsgi
from lbaws.http11 import Channel, ClientGone, HTTPError, linger, response_head, wants_keep_alive
from lbaws.logs import log
from lbaws.stages import HELLO, Handler

HELLO_BODY = (HELLO + "\n").encode("ascii")
HELLO_HEAD = [("Content-Type", "text/plain; charset=utf-8")]

# Part 1 answers even a client that never sends the blank line: once bytes have arrived, a pause this
# long ends the request, like a browser's request arriving in parts. The first byte may take as long
# as --timeout allows (a human at telnet).
IDLE_TIMEOUT = 0.5
ANYTHING_LIMIT = 64 * 1024


def _peer(address):
    return f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)


class AnythingHandler:
    """Part 1: read whatever arrives, print it, answer Hello, World! (no Content-Length: close-delimited)."""

    def __call__(self, sock, address):
        data = read_anything(sock)
        log.info("%s", data.decode("utf-8", "replace").rstrip("\r\n"))
        sock.sendall(response_head("200 OK", HELLO_HEAD) + HELLO_BODY)
        if len(data) >= ANYTHING_LIMIT:
            linger(sock)


def read_anything(sock):
    """Whatever the client sends before it pauses, closes, or sends a blank line."""
    # The process model put --timeout on the socket. None means no limit, and so does 0 here:
    # as a socket timeout it would mean non-blocking, and drop a client that has not yet written.
    limit = sock.gettimeout() or None
    idle = IDLE_TIMEOUT if limit is None else min(IDLE_TIMEOUT, limit)
    sock.settimeout(limit)
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < ANYTHING_LIMIT:
        try:
            chunk = sock.recv(ANYTHING_LIMIT)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        sock.settimeout(idle)
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
        channel.send(head if request.method == "HEAD" else head + HELLO_BODY)


class WSGIHandler(RequestHandler):
    """Stage 2, 3h, prefork, and 3a-3g given an app: one WSGI call per request, printed a la `curl -v` as in part 2."""

    def __init__(self, app, base_environ, keep_alive=False):
        self.app = app
        self.base_environ = base_environ
        self.keep_alive = keep_alive

    def respond(self, channel, request, address):
        """Answer one request; True when the connection may carry the next one."""
        # Formatting the text's printout costs more than the rest of a keep-alive request: only when shown.
        shown = log.isEnabledFor(logging.INFO)
        if shown:
            log.info("%s\n", "\n".join(f"< {line}" for line in request.head_lines))
        environ = wsgi.request_environ(self.base_environ, request, address)
        # A channel that is about to close (its worker stopping) says so: the response then says close.
        keep_alive = self.keep_alive and getattr(channel, "open_for_more", False) and wants_keep_alive(request)
        exchange = wsgi.Exchange(channel, head_only=request.method == "HEAD",
                                 on_head=_log_response_head if shown else None, keep_alive=keep_alive)
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
            return False
        finally:
            sys.stderr.flush()  # wsgi.errors is sys.stderr; a child leaves with os._exit, which does not flush
        return exchange.keep_alive


def _log_response_head(head):
    lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    log.info("%s\n", "\n".join(f"> {line}" for line in lines))


def _answer_anything(stage, app, server_name, server_port):
    return AnythingHandler()


def _answer_http(stage, app, server_name, server_port):
    if app is None:
        return FixedHelloHandler()
    return WSGIHandler(app, wsgi.base_environ(server_name, server_port, stage.multiprocess),
                       keep_alive=stage.keep_alive)


HANDLERS = {Handler.ANYTHING: _answer_anything, Handler.HTTP: _answer_http}


def make_handler(stage, app, server_name, server_port):
    return HANDLERS[stage.handler](stage, app, server_name, server_port)
