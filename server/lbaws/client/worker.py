"""One forked client: open its connections, send the request, hold, close.

Like a child of client3.py it connects one socket after another and keeps
each one open; unlike it, it can read the response, hold the sockets for a
while, keep to a rate and a deadline, and tell the parent what happened.

Three patterns: LAB goes on past a failed connection; TEXT (the listing in
the text) stops at the first failure, as the exception kills the text's
child; REPOSITORY (the copy readers download, whose os._exit(0) sits inside
the loop) opens one connection, sends the request and exits at once.
KEEP_ALIVE, beyond the text, keeps one connection and sends request after
request on it, opening a new one whenever the server closes it.
"""

import select
import socket
import time
from dataclasses import dataclass

from . import events, osutil
from .response import BadResponse, read_response
from .target import Target

LAB = "lab"
TEXT = "text"
REPOSITORY = "repository"
KEEP_ALIVE = "keep-alive"
PATTERNS = (LAB, TEXT, REPOSITORY, KEEP_ALIVE)

# The calls the text's child makes unguarded: a failure in any of them kills it.
_FATAL_IN_TEXT = ("socket", "connect", "send")


@dataclass(frozen=True)
class Plan:
    """What every child does; times are time.monotonic() values, shared by all processes."""

    target: Target
    max_conns: int
    hold: float
    rate: float          # connections started per second over all clients; 0: no pacing
    read: bool
    connect_timeout: float
    read_timeout: float
    t0: float
    deadline: float
    pattern: str = LAB
    # --requests: this many connections over `clients`, each closed once its response is read (a load
    # run: `clients` connections at a time); 0: every client opens max_conns and holds them.
    total: int = 0
    clients: int = 1
    # Seconds in all a connection keeps trying, a new connect() each time one times out; 0: one try.
    connect_patience: float = 0.0

    def conns_of(self, client):
        """How many connections client `client` opens: max_conns, or its share of the total."""
        if not self.total:
            return self.max_conns
        share, extra = divmod(self.total, self.clients)
        return share + (client < extra)

    def request_gap(self):
        """--pattern keep-alive: seconds between one client's requests, so all together keep to --rate."""
        return self.clients / self.rate if self.rate else 0.0

    def slot(self, client, conn):
        """When connection `conn` of client `client` may start."""
        if not self.rate:
            return self.t0
        return self.t0 + (client * self.max_conns + conn) / self.rate


class Stopped(Exception):
    """Raised by the child's SIGTERM/SIGINT handler to unwind and close the sockets."""


class Client:
    def __init__(self, index, plan, write, clock=time.monotonic, sleep=time.sleep):
        self.index = index
        self.plan = plan
        self._write = write
        self._clock = clock
        self._sleep = sleep

    def emit(self, kind, conn, detail="", note="", t=None):
        t = self._clock() if t is None else t
        self._write(events.encode(events.Event(kind, self.index, conn, t, str(detail), note)))

    def run(self):
        if self.plan.pattern == KEEP_ALIVE:
            return self._run_keep_alive()
        plan = self.plan
        open_socks = []
        try:
            for conn in range(plan.conns_of(self.index)):
                if not self._wait_until(plan.slot(self.index, conn)):
                    break
                sock, failed_in = self._open(conn)
                if sock is not None and plan.total:
                    sock.close()
                    self.emit(events.CLOSED, conn)
                elif sock is not None:
                    open_socks.append((conn, sock))
                if plan.pattern == TEXT and failed_in in _FATAL_IN_TEXT:
                    # The text's child dies here of the exception; the kernel closes what it held.
                    self.emit(events.STOPPED, conn, note=failed_in)
                    return
            if plan.pattern == REPOSITORY:
                return  # os._exit(0) right after sendall(): nothing is held
            self._hold([sock for _, sock in open_socks])
        finally:
            for conn, sock in open_socks:
                sock.close()
                self.emit(events.CLOSED, conn)

    def _run_keep_alive(self):
        """Request after request on one connection for --hold seconds; a new one when the server closes it."""
        plan = self.plan
        start = self._clock()
        end = min(start + plan.hold, plan.deadline)
        gap = plan.request_gap()
        next_at = start  # the parent already spread the clients' starts over --rate
        conn, sock = 0, None
        try:
            while self._wait_until(next_at) and self._clock() < end:
                next_at = max(next_at + gap, self._clock()) if gap else self._clock()
                if sock is not None and osutil.closed_by_peer(sock):
                    self.emit(events.DROPPED, conn)
                    sock.close()
                    self.emit(events.CLOSED, conn)
                    sock, conn = None, conn + 1
                if sock is None:
                    sock = self._connect(conn)
                    if sock is None:
                        conn += 1
                        continue
                if not self._request(sock, conn):
                    sock.close()
                    self.emit(events.CLOSED, conn)
                    sock, conn = None, conn + 1
        finally:
            if sock is not None:
                sock.close()
                self.emit(events.CLOSED, conn)

    def _connect(self, conn):
        plan = self.plan
        sock = None
        try:
            sock = socket.socket(plan.target.family, socket.SOCK_STREAM)
            sock = self._dial(sock)
        except OSError as exc:
            if sock is not None:
                sock.close()
            self._fail(conn, exc, "connect" if sock is not None else "socket")
            return None
        self.emit(events.CONNECTED, conn)
        return sock

    def _request(self, sock, conn):
        """One request on a kept connection; False when the connection cannot carry another."""
        plan = self.plan
        stage = "send"
        try:
            sock.sendall(plan.target.request)
            stage = "read"
            parser = read_response(sock, min(self._clock() + plan.read_timeout, plan.deadline), self._clock)
        except BadResponse:
            self.emit(events.FAILED, conn, events.ERRORS, "read:bad_response")
            return False
        except OSError as exc:
            self._fail(conn, exc, stage)
            return False
        self.emit(events.RESPONSE, conn, parser.status, t=parser.status_at)
        if not parser.complete:
            self.emit(events.UNENDED, conn)
            return False
        return True

    def _hold(self, socks):
        """Keep the sockets open for --hold seconds, never past the deadline, or until the server has
        closed every one: a connection the server closed (or reset) holds nothing of it any more, as
        when it answered and closed, or died. One it keeps open, as 3d's parent does, is held."""
        end = min(self._clock() + self.plan.hold, self.plan.deadline)
        poller = select.poll()
        for sock in socks:
            poller.register(sock, select.POLLRDHUP)  # POLLHUP and POLLERR come whatever is asked
        left = len(socks)
        while left:
            now = self._clock()
            if now >= end:
                return
            for fd, _ in poller.poll((end - now) * 1000):
                poller.unregister(fd)
                left -= 1

    def _wait_until(self, when):
        """Sleep until `when`, never past the deadline; False once the deadline is reached."""
        deadline = self.plan.deadline
        while True:
            now = self._clock()
            if now >= deadline:
                return False
            if now >= when:
                return True
            self._sleep(min(when, deadline) - now)

    def _open(self, conn):
        """One connection: (the socket to hold or None if it is already finished, the stage that
        failed or None)."""
        plan = self.plan
        try:
            sock = socket.socket(plan.target.family, socket.SOCK_STREAM)
        except OSError as exc:  # EMFILE/ENFILE: this client ran out of descriptors
            self._fail(conn, exc, "socket")
            return None, "socket"
        stage = "connect"
        try:
            sock = self._dial(sock)
            self.emit(events.CONNECTED, conn)
            stage = "send"
            sock.sendall(plan.target.request)
            if plan.read:
                stage = "read"
                parser = read_response(sock, min(self._clock() + plan.read_timeout, plan.deadline),
                                       self._clock)
                # Stamped when the status line came: a close-delimited body
                # may end much later (3b sleeps before it closes).
                self.emit(events.RESPONSE, conn, parser.status, t=parser.status_at)
                if not parser.complete:
                    self.emit(events.UNENDED, conn)
            return sock, None
        except BadResponse:
            self.emit(events.FAILED, conn, events.ERRORS, "read:bad_response")
        except OSError as exc:
            self._fail(conn, exc, stage)
            # A server that accepted but does not answer still holds the
            # connection open: keep it, as the text's client would.
            if stage == "read" and isinstance(exc, socket.timeout):
                return sock, stage
        sock.close()
        if stage != "connect":
            self.emit(events.CLOSED, conn)
        return None, stage

    def _dial(self, sock):
        """Connect `sock`, or a new socket in its place: with --connect-patience, a connect() that timed out
        is tried again on a fresh socket, with a fresh SYN, until the patience or the deadline runs out. Like
        client3.py the client waits while a full backlog drops its SYNs, but a few seconds apart rather than
        the kernel's doubling gaps, so it also learns within seconds when the server has gone."""
        plan = self.plan
        give_up = min(self._clock() + plan.connect_patience, plan.deadline)
        while True:
            try:
                sock.settimeout(max(min(plan.connect_timeout, plan.deadline - self._clock()), 0.001))
                sock.connect(plan.target.sockaddr)
                return sock
            except socket.timeout:
                sock.close()  # the caller closes its own socket again: harmless
                if self._clock() >= give_up:
                    raise
            except OSError:
                sock.close()
                raise
            sock = socket.socket(plan.target.family, socket.SOCK_STREAM)

    def _fail(self, conn, exc, stage):
        outcome, reason = osutil.classify(exc)
        self.emit(events.FAILED, conn, outcome, "%s:%s" % (stage, reason))
