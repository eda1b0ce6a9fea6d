"""Process models: who accepts a connection and who serves it. The stage's switches pick the lessons."""

import errno
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable, Optional

from lbaws import unix
from lbaws.backoff import Backoff
from lbaws.logs import log
from lbaws.prefork.arbiter import Arbiter
from lbaws.stages import ProcessModel, Reaper, Stage


@dataclass
class ServerLoop:
    stage: Stage
    listener: socket.socket
    handler: Callable
    sleep: float
    timeout: float
    python2_signals: unix.Python2Signals
    drain: float = 2.0  # how long a draining stage (Stage.drains) lets its responses in flight finish
    # prefork: each worker calls boot() for its own handler (loading the app there), `workers` of them.
    boot: Optional[Callable] = None
    workers: int = 0
    worker_timeout: float = 30.0
    max_requests: int = 0
    max_requests_jitter: int = 0

    def serve_connection(self, conn, address):
        """Handle one connection, then sleep as the stage says; the caller closes the socket."""
        # A silent client must not hold the server (or a child) forever; the stage's sleep is the lesson.
        # 0 means no limit: settimeout(0) would make the socket non-blocking and drop any slow client.
        conn.settimeout(self.timeout or None)
        try:
            self.handler(conn, address)
        except (ConnectionError, socket.timeout) as exc:
            log.info("%s:%s went away: %s", address[0], address[1], exc)
        if self.sleep:
            time.sleep(self.sleep)


def serve_iterative(server):
    while True:
        conn, address = server.listener.accept()
        try:
            server.serve_connection(conn, address)
        except Exception:
            # A bug in serving one client must not take the listener down with it.
            log.exception("Error serving %s:%s", address[0], address[1])
        finally:
            conn.close()


def serve_forking(server):
    switches = server.stage.switches  # a Forking: the row's lessons
    make_reaper = REAPERS[switches.reaper]
    if make_reaper is None:
        unix.keep_default_sigchld()
    else:
        unix.install_sigchld(make_reaper(server.python2_signals))
    if switches.log_child_pid:
        log.info("Parent PID (PPID): %d\n", os.getpid())
    # 3d: "store the reference otherwise it's garbage collected on the next loop run"
    clients = []
    accepting, forking = Backoff("accept()"), Backoff("fork()")
    try:
        while True:
            try:
                conn, address = server.python2_signals.accept(server.listener)
            except InterruptedError:
                # Only the Python 2 emulation gets here: Python 3 restarts accept() itself (PEP 475).
                if not switches.restart_accept:
                    raise
                continue
            except OSError as exc:
                if switches.survive_exhaustion and exc.errno == errno.ECONNABORTED:
                    continue  # that client gave up while queued; the next one is waiting
                if switches.survive_exhaustion and exc.errno in unix.EXHAUSTED:
                    # The connection stays queued, to be accepted once a descriptor is free.
                    accepting.failed(exc)
                    continue
                raise
            accepting.succeeded()
            if not switches.close_parent_copy:
                clients.append(conn)
            try:
                pid = os.fork()
            except OSError as exc:
                if switches.survive_exhaustion and exc.errno in unix.EXHAUSTED:
                    conn.close()
                    forking.failed(exc, f"dropping {address[0]}:{address[1]}")
                    continue
                raise
            forking.succeeded()
            if pid == 0:
                _run_child(server, conn, address)
            if switches.close_parent_copy:
                conn.close()  # close parent copy and loop over
            elif switches.log_client_count:
                log.info("%d", len(clients))
    except unix.Shutdown as stop:
        if switches.graceful_shutdown:
            _drain(server, stop)
        raise
    finally:
        # 3d's kept sockets stay open for the server's whole life, and not a moment longer.
        for conn in clients:
            conn.close()


def _drain(server, stop):
    """Refuse new connections at once, let the responses in flight finish, within server.drain seconds."""
    server.listener.close()
    log.info("Signal %d: no new connections; waiting up to %g s for the responses in flight",
             stop.signum, server.drain)
    waited, timed_out, killed = unix.wait_for_children(server.drain)
    if timed_out:
        log.warning("Responses still running after %g s: %d killed", server.drain, killed)
    else:
        log.info("Every response finished after %.2f s", waited)


def _run_child(server, conn, address):
    """The child's whole life: it never returns into the parent's accept loop."""
    code = unix.CHILD_CRASHED
    try:
        unix.restore_default_signals(ignore_interrupt=server.stage.switches.graceful_shutdown)
        server.listener.close()  # close child copy
        if server.stage.switches.log_child_pid:
            log.info("Child PID: %d. Parent PID %d", os.getpid(), os.getppid())
        server.serve_connection(conn, address)
        conn.close()
        code = unix.CHILD_OK
    except BaseException:
        log.exception("Child %d crashed serving %s:%s", os.getpid(), address[0], address[1])
    finally:
        os._exit(code)


# These handlers reap inside the signal handler on purpose: where and how they reap is the lesson.
# Each ends with python2_signals.interrupt(), where Python 2 would have made accept() fail with EINTR.

def wait_one_reaper(python2_signals):
    def grim_reaper(signum, frame):
        pid, status = unix.reap_one_with_wait()
        log.info("Child %d terminated with status %d\n", pid, status)
        python2_signals.interrupt()
    return grim_reaper


def waitpid_all_reaper(python2_signals):
    def grim_reaper(signum, frame):
        for pid, status in unix.reap_all_with_waitpid():
            log.info("Child %d terminated with status %d\n", pid, status)
        python2_signals.interrupt()
    return grim_reaper


# Reaper -> the factory of its SIGCHLD handler; None keeps SIGCHLD's default, so children stay zombies.
REAPERS = {Reaper.NONE: None, Reaper.WAIT_ONE: wait_one_reaper, Reaper.WAITPID_ALL: waitpid_all_reaper}

def serve_prefork(server):
    return Arbiter(server.listener, server.boot, server.workers, server.timeout, server.drain,
                   worker_timeout=server.worker_timeout, max_requests=server.max_requests,
                   max_requests_jitter=server.max_requests_jitter).run()


MODELS = {ProcessModel.ITERATIVE: serve_iterative, ProcessModel.FORK: serve_forking,
          ProcessModel.PREFORK: serve_prefork}


def serve(server):
    """Run the stage's process model; the exit status when it returns (the text's loops never do)."""
    return MODELS[server.stage.model](server)
