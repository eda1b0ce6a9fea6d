"""One non-blocking client connection of a pre-forked worker: bytes in, requests parsed, responses out.

The worker's event loop calls on_readable/on_writable/on_timeout and then asks `wanted()` which events to
wait for; the connection never blocks the loop, except that one response larger than HIGH_WATER waits
for the client to read, at most --timeout per write.
"""

import select
import socket

from lbaws.http11 import (LINGER_BYTES, LINGER_SECONDS, BufferSource, ClientGone, HTTPError, Incomplete,
                          RequestReader, abort)
from lbaws.logs import log

READ, WRITE = select.EPOLLIN, select.EPOLLOUT
RECV_SIZE = 256 * 1024
# Past this much unsent response the connection stops parsing (and reading) until the client catches up,
# so a client that pipelines without reading cannot make the worker buffer without bound.
HIGH_WATER = 256 * 1024


def _peer(address):
    return f"{address[0]}:{address[1]}"


class Connection:
    """A client socket with its input and output buffers and where it stands in the request cycle."""

    def __init__(self, sock, address, handler, timeout, now, on_close, on_request):
        self.sock = sock
        self.on_close = on_close  # the loop forgets the socket before its descriptor number can be reused
        self.on_request = on_request  # told of each request before the app sees it (it may say: the last)
        self.fd = sock.fileno()
        self.address = address
        self.handler = handler
        self.timeout = timeout or None  # 0 means no limit, as on every other stage
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.eof = False
        # No attempt to parse can succeed before the buffer holds this many bytes (a body of known size).
        self.need = None
        self.reader = None  # the last attempt, kept while a request is incomplete
        self.continue_sent = False
        # False once the worker stops: the response in hand says close.
        self.open_for_more = True
        self.closing = False    # no more requests: close once the output is out
        self.aborting = False   # ... and end with a reset, not a FIN
        self.lingering = None   # the time until which bytes that still come are read and dropped
        self._dropped = 0
        self.closed = False
        self.deadline = now + self.timeout if self.timeout else None

    # The channel interface handlers.WSGIHandler and wsgi.Exchange write to.

    def send(self, data):
        self.outbuf += data
        if len(self.outbuf) > HIGH_WATER:
            self._drain_bounded()

    def abort(self):
        self.aborting = True
        self.closing = True

    def _send_continue(self, data):
        if not self.continue_sent:
            self.continue_sent = True
            self.send(data)

    # Events.

    def on_readable(self, now):
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.info("%s went away: %s", _peer(self.address), exc)
            self.close()
            return
        if self.timeout:
            self.deadline = now + self.timeout
        if self.lingering is not None:
            self._linger_read(data)
            return
        if data:
            self.inbuf += data
        else:
            self.eof = True
        self.process()
        self.flush(now)

    def on_writable(self, now):
        self.flush(now)
        if not self.closed and not self.outbuf:
            # Requests pipelined behind a large response waited for the output to drain.
            self.process()
            self.flush(now)

    def on_timeout(self, now):
        """Called once the deadline has passed: drop an idle client, answer 408 to one that stalled."""
        if self.lingering is not None or self.outbuf:
            log.info("%s stopped reading; closing", _peer(self.address))
            self.close()
        elif self.inbuf or (self.reader is not None and self.reader.started):
            where = "body" if self.reader is not None and self.reader.in_body else "head"
            self._refuse(HTTPError(408, f"the request {where} did not arrive in time"))
            self.flush(now)
        else:
            log.info("%s: idle for %ss; closing", _peer(self.address), self.timeout)
            self.close()

    def wanted(self):
        """The events to wait for: write while output is pending, read while more input is useful."""
        events = WRITE if self.outbuf else 0
        if self.lingering is not None or (not self.eof and not self.closing and len(self.outbuf) <= HIGH_WATER):
            events |= READ
        return events

    # Requests.

    def process(self):
        """Answer every complete request in the input, in the order they came."""
        while not self.closing and len(self.outbuf) <= HIGH_WATER:
            if self.need is not None and len(self.inbuf) < self.need and not self.eof:
                return
            if not self.inbuf and not self.eof:
                return
            source = BufferSource(self.inbuf, self.eof)
            self.reader = RequestReader(source, self._send_continue)
            try:
                request = self.reader.read()
            except Incomplete as incomplete:
                self.need = incomplete.need
                return
            except HTTPError as error:
                self._refuse(error)
                return
            except ClientGone as gone:
                log.info("%s: %s", _peer(self.address), gone)
                self.closing = True
                return
            self.need = None
            if request is None:  # a clean end between requests
                self.closing = True
                return
            del self.inbuf[:source.pos]
            self.reader = None
            self.continue_sent = False
            if not self._respond(request):
                self.closing = True

    def _respond(self, request):
        self.on_request(self)
        try:
            return self.handler.respond(self, request, self.address)
        except HTTPError as error:
            self._refuse(error)
        except ClientGone as gone:
            log.info("%s: %s", _peer(self.address), gone)
            self.outbuf.clear()
            self.closing = True
        return False

    def _refuse(self, error):
        log.info("%s from %s", error, _peer(self.address))
        head_only = self.reader is not None and self.reader.head_request
        self.outbuf += error.to_response(head_only=head_only)
        self.closing = True
        self.inbuf.clear()
        # Whatever the client still sends must not turn the close into a reset that loses the answer.
        self.lingering = 0.0

    # Output and the end.

    def flush(self, now):
        """Send what the socket takes now; close once all is out and the connection is done."""
        if self.closed:
            return
        while self.outbuf:
            try:
                sent = self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.info("%s went away: %s", _peer(self.address), exc)
                self.close()
                return
            del self.outbuf[:sent]
            if self.timeout:
                self.deadline = now + self.timeout
        if self.closing:
            self._finish(now)

    def _finish(self, now):
        if self.aborting:
            abort(self.sock)
            self.close()
        elif self.lingering is not None or (self.inbuf and not self.eof):
            self._start_linger(now)
        else:
            self.close()

    def _start_linger(self, now):
        if self.lingering:
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self.lingering = now + LINGER_SECONDS
        self.deadline = self.lingering
        self._dropped = 0

    def _linger_read(self, data):
        if not self.lingering:  # still answering: keep the bytes out of the parser
            return
        self._dropped += len(data)
        if not data or self._dropped >= LINGER_BYTES:
            self.close()

    def _drain_bounded(self):
        """A response bigger than HIGH_WATER: wait for the client to read, --timeout at most per write."""
        while len(self.outbuf) > HIGH_WATER:
            try:
                sent = self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                _, writable, _ = select.select([], [self.sock], [], self.timeout)
                if not writable:
                    raise socket.timeout("the client did not read the response in time") from None
                continue
            del self.outbuf[:sent]

    def close(self):
        if not self.closed:
            self.closed = True
            self.on_close(self)
            self.sock.close()

    @property
    def idle(self):
        """Between requests with nothing to send: safe to close when the worker stops."""
        return not self.inbuf and not self.outbuf and not self.closing and (
            self.reader is None or not self.reader.started)

    def expired(self, now):
        return self.deadline is not None and now >= self.deadline
