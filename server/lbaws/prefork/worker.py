"""A pre-forked worker: one epoll loop over the shared listener and its non-blocking connections.

One slow or idle client costs the others nothing here: the loop reads whoever has bytes and writes to
whoever can take them. The WSGI app is still called once per complete request, in this process.

The worker tells its master how it is doing through shared slots (unix.SharedSlots): the time of its
last loop turn (a worker stuck in the app stops beating and is replaced after --worker-timeout), and
how many connections and requests it has taken (each worker's share, which the master reports).
"""

import errno
import os
import select
import signal
import socket
import time

from lbaws import unix
from lbaws.logs import log
from lbaws.prefork.connection import READ, WRITE, Connection

# One accept() per wake-up: with EPOLLEXCLUSIVE the kernel wakes one waiting worker per new connection,
# and a worker that took a whole queue at once would leave the others idle while it serves them all.
ACCEPT_PER_WAKE = 1
# After EMFILE/ENFILE the listener rests this long, instead of waking the loop for every queued client.
ACCEPT_BACKOFF = 0.5
# How often idle and stalled connections are looked for, the master's presence checked, and the
# heartbeat written when nothing else happens.
SWEEP_EVERY = 0.2
GRACEFUL = (signal.SIGTERM,)
IMMEDIATE = (signal.SIGINT, signal.SIGQUIT)
# The worker's slots in its SharedSlots.
BEAT, CONNECTIONS, REQUESTS = 0, 1, 2
SLOTS = 3
# Wake one worker, not all, for each new connection (Linux 4.5); the others keep sleeping.
_EXCLUSIVE = getattr(select, "EPOLLEXCLUSIVE", 0)


def install_signals():
    """A new worker's dispositions, set before it loads the app so a SIGTERM during the import is kept."""
    unix.set_dispositions(default=(signal.SIGCHLD,), ignore=(signal.SIGTTIN, signal.SIGTTOU, signal.SIGHUP))
    return unix.SignalQueue(GRACEFUL + IMMEDIATE)


class Worker:
    def __init__(self, listener, handler, timeout, graceful_timeout, master_pid, signals, slots,
                 max_requests=0):
        self.signals = signals
        self.listener = listener
        self.listener_fd = listener.fileno()
        self.handler = handler
        self.timeout = timeout
        self.graceful_timeout = graceful_timeout
        self.master_pid = master_pid
        self.slots = slots.values
        self.max_requests = max_requests  # 0: no limit
        self.requests = 0
        self.poller = select.epoll()
        self.connections = {}     # fd -> Connection
        self.stop_by = None       # set by SIGTERM: the time by which the requests in hand must be done
        self.quit = False         # set by SIGINT/SIGQUIT, or when the master is gone
        self.retire = False       # set once --max-requests is reached
        self.accepting = False
        self.accept_resumes = None  # set while accept() rests after running out of descriptors
        self.short_of_descriptors = False
        self.next_sweep = 0.0

    def run(self):
        """Serve until told to stop; returns once every connection is closed."""
        # O_NONBLOCK lives in the open file shared with the master and the other workers: all want it.
        self.listener.setblocking(False)
        self._start_accepting()
        self.poller.register(self.signals.fileno(), READ)
        try:
            while not self._done(time.monotonic()):
                self._step()
        finally:
            for conn in list(self.connections.values()):
                conn.close()
            self.poller.close()
            self.listener.close()
            self.signals.close()

    def _step(self):
        connections = self.connections
        listener_fd = self.listener_fd
        now = time.monotonic()
        self.slots[BEAT] = now
        for fd, mask in self.poller.poll(SWEEP_EVERY):
            conn = connections.get(fd)
            if conn is not None:
                # EPOLLERR/EPOLLHUP count as both, as selectors has it: the read or the write says what.
                if mask & ~WRITE:
                    conn.on_readable(now)
                if mask & ~READ and not conn.closed:
                    conn.on_writable(now)
                self._update(conn)
            elif fd == listener_fd:
                self._accept(now)
            now = time.monotonic()
        if self.signals.pending or self.retire:
            for signum in self.signals.take():
                self._on_signal(signum)
            if self.retire and self.stop_by is None:
                log.info("Worker %d: served %d requests (--max-requests); retiring", os.getpid(), self.requests)
                self._begin_stop()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_EVERY
            self.signals.take()  # empties the self-pipe should a signal have raced the check above
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
            self._begin_stop()

    def _begin_stop(self):
        self.stop_by = time.monotonic() + self.graceful_timeout
        self._stop_accepting()
        self.listener.close()
        for conn in list(self.connections.values()):
            conn.open_for_more = False
            if conn.idle:
                conn.close()

    def _start_accepting(self):
        try:
            self.poller.register(self.listener_fd, READ | _EXCLUSIVE)
        except OSError as exc:
            if exc.errno != errno.EINVAL or not _EXCLUSIVE:
                raise
            self.poller.register(self.listener_fd, READ)  # a kernel without EPOLLEXCLUSIVE
        self.accepting = True

    def _stop_accepting(self):
        if self.accepting:
            self.poller.unregister(self.listener_fd)
            self.accepting = False
        self.accept_resumes = None

    def _sweep(self, now):
        if os.getppid() != self.master_pid:
            log.warning("Worker %d: the master is gone; leaving", os.getpid())
            self.quit = True
            return
        if self.accept_resumes is not None and now >= self.accept_resumes and self.stop_by is None:
            self.accept_resumes = None
            self._start_accepting()
        for conn in list(self.connections.values()):
            if conn.expired(now):
                conn.on_timeout(now)
                if not conn.closed:
                    self._update(conn)

    def _accept(self, now):
        for _ in range(ACCEPT_PER_WAKE):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # another worker took it, or the queue is empty
            except OSError as exc:
                if exc.errno in unix.ACCEPT_PASSED_ON:
                    log.info("Worker %d: accept() failed for one client: %s", os.getpid(), exc)
                    continue
                if exc.errno in unix.EXHAUSTED:
                    self._rest_accept(now, exc)
                    return
                raise
            if self.short_of_descriptors:
                self.short_of_descriptors = False
                log.warning("Worker %d: accept() works again", os.getpid())
            self._add(sock, address, now)
            self._to_the_back()

    def _to_the_back(self):
        # EPOLLEXCLUSIVE wakes the first worker on the listener's wait queue, so on a quiet machine the
        # same worker would take every connection; registering again puts this one behind the others, so
        # kept connections spread over the workers and one stuck in the app holds only its share.
        if self.accepting and _EXCLUSIVE:
            self.poller.unregister(self.listener_fd)
            self._start_accepting()

    def _rest_accept(self, now, exc):
        # Logged once per shortage, not once per retry; the first accept() that works again says so.
        if not self.short_of_descriptors:
            self.short_of_descriptors = True
            log.warning("Worker %d: accept() failed: %s; retrying every %ss", os.getpid(), exc, ACCEPT_BACKOFF)
        self._stop_accepting()
        self.accept_resumes = now + ACCEPT_BACKOFF

    def _add(self, sock, address, now):
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, address, self.handler, self.timeout, now, self._forget, self._served)
        conn.events = READ
        self.connections[conn.fd] = conn
        self.poller.register(conn.fd, READ)
        self.slots[CONNECTIONS] += 1

    def _served(self, conn):
        """Called as each request reaches the app; the last one before --max-requests says close."""
        self.requests += 1
        self.slots[REQUESTS] = self.requests
        if self.max_requests and self.requests >= self.max_requests:
            conn.open_for_more = False
            self.retire = True

    def _forget(self, conn):
        del self.connections[conn.fd]
        self.poller.unregister(conn.fd)

    def _update(self, conn):
        if conn.closed:
            return
        wanted = conn.wanted()
        if not wanted:
            conn.close()  # nothing left to wait for
        elif wanted != conn.events:
            conn.events = wanted
            self.poller.modify(conn.fd, wanted)
