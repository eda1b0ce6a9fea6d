"""The prefork master: binds (done by the caller), forks N workers, then only supervises them.

Its signal handlers only record (unix.SignalQueue); the loop below acts: SIGCHLD -> reap with 3g's
waitpid(-1, WNOHANG) loop and replace the dead, SIGTERM -> graceful stop, SIGINT/SIGQUIT -> stop at once,
SIGHUP -> a new set of workers, the old ones drained once the new ones serve, SIGTTIN/SIGTTOU -> one
worker more or less. A worker that cannot load the app exits with unix.EXIT_APP and writes why to a
pipe; the master then stops with that one line. A worker whose heartbeat stops for --worker-timeout is
killed and replaced; a fork() that fails is retried with back-off while the running workers serve.
"""

import gc
import logging
import os
import random
import signal
import sys
import time
from dataclasses import dataclass

from lbaws import unix
from lbaws.apploader import AppLoadError
from lbaws.backoff import Backoff
from lbaws.logs import log
from lbaws.prefork.worker import BEAT, CONNECTIONS, REQUESTS, SLOTS, Worker, install_signals

# How long workers get to finish the requests in hand after SIGTERM, before the master kills them
# (`lbaws serve --drain` sets it: the lab's containers stop within a 3 s grace period).
GRACEFUL_TIMEOUT = 2.0
# A worker silent in the app longer than this is killed (gunicorn's default --timeout).
WORKER_TIMEOUT = 30.0
# A worker that dies sooner than this after its start is replaced only after the same pause, so a
# worker that crashes at once cannot make the master fork in a tight loop.
QUICK_DEATH = 1.0
# fork() failing for want of processes (the pids cgroup, RLIMIT_NPROC) is retried after pauses that
# double up to this; the master's loop keeps reaping and answering signals meanwhile.
FORK_FIRST_PAUSE = 0.1
FORK_LONGEST_PAUSE = 2.0
TICK = 1.0
_HANDLED = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTTIN,
            signal.SIGTTOU)


@dataclass
class Child:
    """What the master knows of one worker."""
    started: float           # monotonic time of its fork
    slots: unix.SharedSlots  # its heartbeat and counts, written by the worker
    retiring: bool = False   # told to stop (the pool shrank, or a reload replaces it): not replaced
    killed: bool = False     # sent SIGKILL for --worker-timeout

    def last_sign(self):
        return max(self.started, self.slots[BEAT])


class Arbiter:
    def __init__(self, listener, boot, workers, timeout, graceful_timeout=GRACEFUL_TIMEOUT,
                 worker_timeout=WORKER_TIMEOUT, max_requests=0, max_requests_jitter=0):
        self.listener = listener
        self.boot = boot  # called in each new worker: the request handler, or AppLoadError
        self.target = workers
        self.timeout = timeout
        self.graceful_timeout = graceful_timeout
        self.worker_timeout = worker_timeout  # 0: no limit
        self.max_requests = max_requests
        self.max_requests_jitter = max_requests_jitter
        self.workers = {}       # pid -> Child
        self.outgoing = set()   # pids of the old workers of a reload, stopped once the new ones serve
        self.stop_by = None     # set by SIGTERM
        self.spawn_after = 0.0
        self.failure = None     # the line a worker that could not start left in the boot pipe
        self.fork_backoff = Backoff("fork() of a worker", FORK_FIRST_PAUSE, FORK_LONGEST_PAUSE,
                                    sleep=self._defer_spawn)
        self.served = []        # (connections, requests) of each worker gone

    def run(self):
        """Supervise until stopped; the process's exit status."""
        self.signals = unix.SignalQueue(_HANDLED)
        self.boot_read, self.boot_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            return self._loop()
        finally:
            self._kill_all(signal.SIGKILL)
            while self.workers:
                # Blocking here is bounded: every worker has just been sent SIGKILL.
                try:
                    pid, _ = os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                if pid in self.workers:
                    self._forget(pid)
            for pid in list(self.workers):
                self._forget(pid)
            os.close(self.boot_read)
            os.close(self.boot_write)
            self.signals.close()
            self._report_shares()

    def _loop(self):
        self._spawn_missing(time.monotonic())
        while True:
            now = time.monotonic()
            wait = TICK if now >= self.spawn_after else min(TICK, self.spawn_after - now)
            for signum in self.signals.wait(wait):
                stop = self._on_signal(signum)
                if stop is not None:
                    return stop
            self._reap()
            now = time.monotonic()
            if self.failure is not None:
                print(f"lbaws: {self.failure}", file=sys.stderr, flush=True)
                return unix.EXIT_APP
            self._kill_silent(now)
            if self.stop_by is None:
                self._spawn_missing(now)
                self._finish_reload()
            elif not self.workers:
                log.info("All workers finished; master exits")
                return 0
            elif now >= self.stop_by:
                log.warning("Workers %s still running %ss after SIGTERM; killing them",
                            sorted(self.workers), self.graceful_timeout)
                self._kill_all(signal.SIGKILL)
                self.stop_by = now + TICK  # the reap of the killed ones ends the loop

    def _on_signal(self, signum):
        """Act on one recorded signal; an exit status when the master must stop now."""
        if signum in (signal.SIGINT, signal.SIGQUIT) or (signum == signal.SIGTERM and self.stop_by is not None):
            log.info("Shutting down (signal %d): stopping %d worker(s) at once", signum, len(self.workers))
            return 0
        if signum == signal.SIGTERM:
            log.info("Shutting down (signal %d): workers finish the requests in hand, %ss at most",
                     signum, self.graceful_timeout)
            self.stop_by = time.monotonic() + self.graceful_timeout + 1.0
            self._kill_all(signal.SIGTERM)
        elif self.stop_by is not None:
            pass  # stopping: the pool changes no more
        elif signum == signal.SIGHUP:
            self._start_reload()
        elif signum == signal.SIGTTIN:
            self.target += 1
            log.info("SIGTTIN: %d worker(s) wanted", self.target)
        elif signum == signal.SIGTTOU and self.target > 1:
            self.target -= 1
            log.info("SIGTTOU: %d worker(s) wanted", self.target)
            self._retire_extra()
        return None

    def _start_reload(self):
        # The old workers serve until the new ones do, so no client waits on a pool that is booting.
        old = [pid for pid, child in self.workers.items() if not child.retiring]
        log.info("SIGHUP: starting %d new worker(s); the %d old one(s) drain once they serve",
                 self.target, len(old))
        for pid in old:
            self.workers[pid].retiring = True
        self.outgoing.update(old)

    def _finish_reload(self):
        if not self.outgoing:
            return
        fresh = [child for pid, child in self.workers.items() if not child.retiring]
        if len(fresh) < self.target or not all(child.slots[BEAT] for child in fresh):
            return
        log.info("Reload: %d new worker(s) serve; stopping the old %s", len(fresh), sorted(self.outgoing))
        for pid in self.outgoing:
            unix.send_signal(pid, signal.SIGTERM)
        self.outgoing.clear()

    def _kill_silent(self, now):
        if not self.worker_timeout:
            return
        for pid, child in self.workers.items():
            if not child.killed and now - child.last_sign() > self.worker_timeout:
                log.warning("Worker %d gave no sign of life for %ss (--worker-timeout); killing it",
                            pid, self.worker_timeout)
                child.killed = True
                unix.send_signal(pid, signal.SIGKILL)

    def _reap(self):
        for pid, status in unix.reap_all_with_waitpid():
            child = self.workers.get(pid)
            if child is None:
                continue  # an orphan inherited as PID 1 in a container: reaped quietly
            self._forget(pid)
            if unix.exit_code(status) == unix.EXIT_APP:
                # Both workers may fail in one batch: the first line read says it for all.
                self.failure = self.failure or self._boot_failure(pid)
            elif self.stop_by is None and not child.retiring:
                # Exit 0 is a worker that stopped by itself (--max-requests): no news, unlike a crash.
                level = logging.INFO if unix.exit_code(status) == unix.CHILD_OK else logging.WARNING
                log.log(level, "Worker %d %s; starting another", pid, unix.describe_status(status))
                if time.monotonic() - child.started < QUICK_DEATH:
                    self.spawn_after = max(self.spawn_after, time.monotonic() + QUICK_DEATH)
            else:
                log.info("Worker %d %s", pid, unix.describe_status(status))

    def _forget(self, pid):
        child = self.workers.pop(pid)
        self.outgoing.discard(pid)
        self.served.append((int(child.slots[CONNECTIONS]), int(child.slots[REQUESTS])))
        child.slots.close()

    def _report_shares(self):
        """One line at the end: how the connections spread over the workers (the bench reads it)."""
        connections = sorted((count for count, _ in self.served if count), reverse=True)
        total = sum(connections)
        if total:
            shares = " ".join(f"{100 * count / total:.1f}%" for count in connections)
            print(f"lbaws: {total} connections over {len(self.served)} worker(s); shares: {shares}",
                  file=sys.stderr, flush=True)

    def _boot_failure(self, pid):
        try:
            reason = os.read(self.boot_read, 4096).decode("utf-8", "replace").splitlines()
        except BlockingIOError:
            reason = []
        return reason[0] if reason else f"worker {pid} could not start"

    def _spawn_missing(self, now):
        if now < self.spawn_after:
            return
        while sum(not child.retiring for child in self.workers.values()) < self.target:
            if not self._spawn():
                return

    def _defer_spawn(self, pause):
        # Backoff's pause: the master must not sleep in it, its loop has signals and reaping to see to.
        self.spawn_after = time.monotonic() + pause

    def _retire_extra(self):
        serving = sorted((child.started, pid) for pid, child in self.workers.items() if not child.retiring)
        while len(serving) > self.target:
            _, pid = serving.pop()  # the youngest goes: the others have warm caches
            self.workers[pid].retiring = True
            unix.send_signal(pid, signal.SIGTERM)

    def _kill_all(self, signum):
        for pid in self.workers:
            unix.send_signal(pid, signum)

    def _max_requests(self):
        if not self.max_requests:
            return 0
        # Jitter spreads the retirements, so the workers started together do not all restart together.
        return self.max_requests + random.randint(0, self.max_requests_jitter)

    def _spawn(self):
        """Fork one worker; False when fork() failed for want of processes (retried after a pause)."""
        slots = unix.SharedSlots(SLOTS)
        max_requests = self._max_requests()
        master = os.getpid()
        mask = unix.block_signals(_HANDLED)
        try:
            pid = os.fork()
        except OSError as exc:
            unix.restore_signal_mask(mask)
            slots.close()
            if exc.errno not in unix.EXHAUSTED:
                raise
            self.fork_backoff.failed(exc, f"{len(self.workers)} running worker(s) keep serving")
            return False
        if pid:
            unix.restore_signal_mask(mask)
            self.workers[pid] = Child(time.monotonic(), slots)
            self.fork_backoff.succeeded()
            return True
        code = unix.CHILD_CRASHED
        try:
            self.signals.close()
            os.close(self.boot_read)
            for child in self.workers.values():
                child.slots.close()
            signals = install_signals()
            unix.restore_signal_mask(mask)  # what came since the fork is delivered now, to our own handlers
            try:
                handler = self.boot()
            except AppLoadError as exc:
                # One write below PIPE_BUF is atomic: two workers failing together never mix their lines.
                os.write(self.boot_write, (str(exc) + "\n").encode("utf-8", "replace")[:512])
                code = unix.EXIT_APP
            else:
                os.close(self.boot_write)  # only a failed start has anything to say there
                # What the app's import built lives as long as the worker: leaving it out of every
                # collection keeps the garbage collector's passes short while requests come and go.
                gc.freeze()
                log.info("Worker %d serving", os.getpid())
                Worker(self.listener, handler, self.timeout, self.graceful_timeout, master, signals, slots,
                       max_requests).run()
                code = unix.CHILD_OK
        except BaseException:
            log.exception("Worker %d crashed", os.getpid())
        finally:
            sys.stderr.flush()
            os._exit(code)
