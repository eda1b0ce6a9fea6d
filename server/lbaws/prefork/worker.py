"""A pre-forked worker: one selectors loop over the shared listener and its non-blocking connections.

One slow or idle client costs the others nothing here: the loop reads whoever has bytes and writes to
whoever can take them. The WSGI app is still called once per complete request, in this process.
"""

import errno
import os
import selectors
import signal
import socket
import time

from lbaws import unix
from lbaws.logs import log
from lbaws.prefork.connection import Connection

ACCEPT_BATCH = 64
# After EMFILE/ENFILE the listener rests this long, instead of waking the loop for every queued client.
ACCEPT_BACKOFF = 0.5
# How often idle and stalled connections are looked for, and the master's presence checked.
SWEEP_EVERY = 0.2
_LISTENER, _SIGNALS = "listener", "signals"
GRACEFUL = (signal.SIGTERM,)
IMMEDIATE = (signal.SIGINT, signal.SIGQUIT)


def install_signals():
    """A new worker's dispositions, set before it loads the app so a SIGTERM during the import is kept."""
    unix.set_dispositions(default=(signal.SIGCHLD,), ignore=(signal.SIGTTIN, signal.SIGTTOU))
    return unix.SignalQueue(GRACEFUL + IMMEDIATE)


class Worker:
    def __init__(self, listener, handler, timeout, graceful_timeout, master_pid, signals):
        self.signals = signals
        self.listener = listener
        self.handler = handler
        self.timeout = timeout
        self.graceful_timeout = graceful_timeout
        self.master_pid = master_pid
        self.selector = selectors.DefaultSelector()
        self.connections = {}
        self.stop_by = None       # set by SIGTERM: the time by which the requests in hand must be done
        self.quit = False         # set by SIGINT/SIGQUIT, or when the master is gone
        self.accept_resumes = None  # set while accept() rests after running out of descriptors
        self.short_of_descriptors = False
        self.next_sweep = 0.0

    def run(self):
        """Serve until told to stop; returns once every connection is closed."""
        signals = self.signals
        # O_NONBLOCK lives in the open file shared with the master and the other workers: all want it.
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, _LISTENER)
        self.selector.register(signals.fileno(), selectors.EVENT_READ, _SIGNALS)
        try:
            while not self._done(time.monotonic()):
                self._step(signals)
        finally:
            for conn in list(self.connections.values()):
                conn.close()
            self.selector.close()
            self.listener.close()
            signals.close()

    def _step(self, signals):
        for key, mask in self.selector.select(SWEEP_EVERY):
            now = time.monotonic()
            conn = key.data
            if conn is _LISTENER:
                self._accept(now)
            elif conn is _SIGNALS:
                continue
            elif not conn.closed:  # an earlier event of this batch may have closed it
                if mask & selectors.EVENT_READ:
                    conn.on_readable(now)
                if mask & selectors.EVENT_WRITE and not conn.closed:
                    conn.on_writable(now)
                self._update(conn)
        for signum in signals.take():
            self._on_signal(signum)
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_EVERY
            self._sweep(now)

    def _done(self, now):
        if self.quit:
            return True
        if self.stop_by is None:
            return False
        if not self.connections:
            return True
        if now >= self.stop_by:
            log.warning("Worker %d: %d connection(s) still busy after %ss; closing them",
                        os.getpid(), len(self.connections), self.graceful_timeout)
            return True
        return False

    def _on_signal(self, signum):
        if signum in IMMEDIATE:
            self.quit = True
        elif self.stop_by is None:
            self.stop_by = time.monotonic() + self.graceful_timeout
            self._stop_accepting()
            for conn in list(self.connections.values()):
                conn.open_for_more = False
                if conn.idle:
                    conn.close()

    def _stop_accepting(self):
        if self.accept_resumes is None:
            self.selector.unregister(self.listener)
        self.accept_resumes = None
        self.listener.close()

    def _sweep(self, now):
        if os.getppid() != self.master_pid:
            log.warning("Worker %d: the master is gone; leaving", os.getpid())
            self.quit = True
            return
        if self.accept_resumes is not None and now >= self.accept_resumes and self.stop_by is None:
            self.accept_resumes = None
            self.selector.register(self.listener, selectors.EVENT_READ, _LISTENER)
        for conn in list(self.connections.values()):
            if conn.expired(now):
                conn.on_timeout(now)
                if not conn.closed:
                    self._update(conn)

    def _accept(self, now):
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # another worker took it, or the queue is empty
            except OSError as exc:
                if exc.errno == errno.ECONNABORTED:
                    continue
                if exc.errno in unix.EXHAUSTED:
                    self._rest_accept(now, exc)
                    return
                raise
            if self.short_of_descriptors:
                self.short_of_descriptors = False
                log.warning("Worker %d: accept() works again", os.getpid())
            self._add(sock, address, now)

    def _rest_accept(self, now, exc):
        # Logged once per shortage, not once per retry; the first accept() that works again says so.
        if not self.short_of_descriptors:
            self.short_of_descriptors = True
            log.warning("Worker %d: accept() failed: %s; retrying every %ss", os.getpid(), exc, ACCEPT_BACKOFF)
        self.selector.unregister(self.listener)
        self.accept_resumes = now + ACCEPT_BACKOFF

    def _add(self, sock, address, now):
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, address, self.handler, self.timeout, now, self._forget)
        conn.events = selectors.EVENT_READ
        self.connections[conn.fd] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)

    def _forget(self, conn):
        del self.connections[conn.fd]
        self.selector.unregister(conn.sock)

    def _update(self, conn):
        if conn.closed:
            return
        wanted = conn.wanted()
        if not wanted:
            conn.close()  # nothing left to wait for
        elif wanted != conn.events:
            conn.events = wanted
            self.selector.modify(conn.sock, wanted, conn)
