"""The parent: fork the clients, collect their events, reap every one of them.

The parent never leaves a child behind: it waits for each one, and at the
deadline or on SIGINT/SIGTERM it stops them (SIGTERM, then SIGKILL after a
grace period) and reaps them before it returns.
"""

import os
import signal
import sys
import time
import traceback

from . import events, osutil
from .summary import Tally
from .worker import KEEP_ALIVE, Client, Stopped

# Child exit codes, so the parent can tell a stopped child from a broken one.
EXIT_OK = 0
EXIT_STOPPED = 1      # SIGTERM/SIGINT: closed its sockets and left
EXIT_ORPHANED = 3     # the parent's end of the pipe is gone
EXIT_CRASHED = 70     # an unexpected exception (traceback on stderr)

_FORK_BATCH = 64      # forks between two drains of the pipe, so children never block on it long
_TICK = 0.1


class ClientParent:
    def __init__(self, plan, clients, progress=None, progress_every=1.0, grace=2.0,
                 clock=time.monotonic):
        self.plan = plan
        self.clients = clients
        self.tally = Tally(clients, plan.t0)
        self.fork_error = None
        self.stopped_by = None
        self._progress = progress
        self._progress_every = progress_every
        self._grace = grace
        self._clock = clock
        self._signalled = []
        self._children = {}   # pid -> client index
        self._gone = []       # (client index, time reaped)
        self._reader = None
        self._wfd = None

    # Signal handlers only record; the loop acts on it.
    def _on_signal(self, signum, frame):
        self._signalled.append(signum)

    def run(self):
        """Run to the end, the deadline or a signal; returns the summary dict."""
        rfd, self._wfd = os.pipe()
        osutil.set_nonblocking(rfd)
        self._reader = events.LineReader(rfd)
        old = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._loop(rfd)
        finally:
            self._stop_children()
            self._close_write_end()
            while not self._reader.eof:  # every write end is closed now: EOF comes
                self._feed(self._reader.read_available(_TICK))
            os.close(rfd)
            for sig, handler in old.items():
                signal.signal(sig, handler)
        for client, when in self._gone:
            self.tally.client_gone(client, when)
        end = self._clock()
        if self._progress:
            self._progress(self.tally.progress(end))
        result = self.tally.result(end, self.stopped_by)
        result["fork_error"] = self.fork_error
        result["pattern"] = self.plan.pattern
        if self.plan.pattern == KEEP_ALIVE:
            result["reconnects"] = self.tally.reconnects
            result["per_second"] = self.tally.per_second(end)
            # CLOCK_MONOTONIC is the kernel's, shared by every container on it: a harness outside can
            # place these seconds on its own timeline.
            result["t0_monotonic"] = round(self.plan.t0, 6)
        return result

    def _loop(self, rfd):
        plan = self.plan
        to_fork = self.clients
        next_client = 0
        next_progress = plan.t0 + self._progress_every
        while True:
            if self._signalled:
                self.stopped_by = signal.Signals(self._signalled[0]).name
                return
            now = self._clock()
            if now >= plan.deadline:
                self.stopped_by = "deadline"
                return
            forked = 0
            while (next_client < to_fork and forked < _FORK_BATCH
                   and plan.slot(next_client, 0) <= now):
                try:
                    pid = self._fork(next_client, rfd)
                except OSError as exc:  # EAGAIN: out of processes; run with those we have
                    self.fork_error = osutil.classify(exc)[1]
                    to_fork = next_client
                    break
                self._children[pid] = next_client
                self.tally.clients_started += 1
                next_client += 1
                forked += 1
            if next_client == to_fork:
                self._close_write_end()
                if not self._children:
                    return
            timeout = _TICK
            if next_client < to_fork:
                timeout = min(timeout, max(plan.slot(next_client, 0) - now, 0))
            self._feed(self._reader.read_available(timeout))
            self._reap(block=False)
            if self._progress and now >= next_progress:
                self._progress(self.tally.progress(now))
                next_progress = now + self._progress_every

    def _feed(self, new_events):
        for event in new_events:
            self.tally.add(event)

    def _fork(self, index, rfd):
        # Unflushed output would be written twice, once by each process.
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        code = EXIT_CRASHED
        try:
            os.close(rfd)
            _child_signals()
            osutil.die_with_parent(parent)
            if self._signalled:  # arrived between fork() and our own handlers
                raise Stopped()
            wfd = self._wfd
            Client(index, self.plan, lambda data: os.write(wfd, data)).run()
            code = EXIT_OK
        except Stopped:
            code = EXIT_STOPPED
        except BrokenPipeError:
            code = EXIT_ORPHANED
        except BaseException:
            traceback.print_exc()
        finally:
            # Never return into the parent's code, nor run its atexit hooks.
            os._exit(code)

    def _reap(self, block):
        while self._children:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                self._children.clear()
                return
            if pid == 0:
                return
            client = self._children.pop(pid, None)
            if client is None:
                continue  # not one of ours: reaped all the same
            self._gone.append((client, self._clock()))
            if os.waitstatus_to_exitcode(status) not in (EXIT_OK, EXIT_STOPPED):
                self.tally.children_failed += 1

    def _stop_children(self):
        self._signal_children(signal.SIGTERM)
        until = self._clock() + self._grace
        while self._children and self._clock() < until:
            self._feed(self._reader.read_available(0.05))
            self._reap(block=False)
        self._signal_children(signal.SIGKILL)
        self._reap(block=True)

    def _signal_children(self, sig):
        for pid in list(self._children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # exited already; the reap collects it

    def _close_write_end(self):
        if self._wfd is not None:
            os.close(self._wfd)
            self._wfd = None


def _child_signals():
    def stop(signum, frame):
        # Once is enough: a second signal must not break the clean-up.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Stopped()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
