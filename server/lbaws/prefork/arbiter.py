"""The prefork master: binds (done by the caller), forks N workers, then only supervises them.

Its signal handlers only record (unix.SignalQueue); the loop below acts: SIGCHLD -> reap with 3g's
waitpid(-1, WNOHANG) loop and replace the dead, SIGTERM -> graceful stop, SIGINT/SIGQUIT -> stop at once,
SIGTTIN/SIGTTOU -> one worker more or less. A worker that cannot load the app exits with
unix.EXIT_APP and writes why to a pipe; the master then stops with that one line.
"""

import gc
import os
import signal
import sys
import time

from lbaws import unix
from lbaws.apploader import AppLoadError
from lbaws.logs import log
from lbaws.prefork.worker import Worker, install_signals

# How long workers get to finish the requests in hand after SIGTERM, before the master kills them
# (`lbaws serve --drain` sets it: the lab's containers stop within a 3 s grace period).
GRACEFUL_TIMEOUT = 2.0
# A worker that dies sooner than this after its start is replaced only after the same pause, so a
# worker that crashes at once cannot make the master fork in a tight loop.
QUICK_DEATH = 1.0
TICK = 1.0
_HANDLED = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGTTIN, signal.SIGTTOU)


class Arbiter:
    def __init__(self, listener, boot, workers, timeout, graceful_timeout=GRACEFUL_TIMEOUT):
        self.listener = listener
        self.boot = boot  # called in each new worker: the request handler, or AppLoadError
        self.target = workers
        self.timeout = timeout
        self.graceful_timeout = graceful_timeout
        self.workers = {}      # pid -> monotonic time it was forked
        self.retiring = set()  # pids told to stop because the pool shrank
        self.stop_by = None    # set by SIGTERM
        self.spawn_after = 0.0
        self.failure = None    # the line a worker that could not start left in the boot pipe

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
                self.workers.pop(pid, None)
            os.close(self.boot_read)
            os.close(self.boot_write)
            self.signals.close()

    def _loop(self):
        self._spawn_missing(time.monotonic())
        while True:
            for signum in self.signals.wait(TICK):
                stop = self._on_signal(signum)
                if stop is not None:
                    return stop
            self._reap()
            now = time.monotonic()
            if self.failure is not None:
                print(f"lbaws: {self.failure}", file=sys.stderr, flush=True)
                return unix.EXIT_APP
            if self.stop_by is None:
                self._spawn_missing(now)
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
        elif signum == signal.SIGTTIN and self.stop_by is None:
            self.target += 1
            log.info("SIGTTIN: %d worker(s) wanted", self.target)
        elif signum == signal.SIGTTOU and self.stop_by is None and self.target > 1:
            self.target -= 1
            log.info("SIGTTOU: %d worker(s) wanted", self.target)
            self._retire_extra()
        return None

    def _reap(self):
        for pid, status in unix.reap_all_with_waitpid():
            started = self.workers.pop(pid, None)
            if started is None:
                continue  # an orphan inherited as PID 1 in a container: reaped quietly
            retired = pid in self.retiring
            self.retiring.discard(pid)
            if unix.exit_code(status) == unix.EXIT_APP:
                # Both workers may fail in one batch: the first line read says it for all.
                self.failure = self.failure or self._boot_failure(pid)
            elif self.stop_by is None and not retired:
                log.warning("Worker %d %s; starting another", pid, unix.describe_status(status))
                if time.monotonic() - started < QUICK_DEATH:
                    self.spawn_after = time.monotonic() + QUICK_DEATH
            else:
                log.info("Worker %d %s", pid, unix.describe_status(status))

    def _boot_failure(self, pid):
        try:
            reason = os.read(self.boot_read, 4096).decode("utf-8", "replace").splitlines()
        except BlockingIOError:
            reason = []
        return reason[0] if reason else f"worker {pid} could not start"

    def _spawn_missing(self, now):
        if now < self.spawn_after:
            return
        while len(self.workers) - len(self.retiring) < self.target:
            self._spawn()

    def _retire_extra(self):
        serving = sorted((started, pid) for pid, started in self.workers.items() if pid not in self.retiring)
        while len(serving) > self.target:
            _, pid = serving.pop()  # the youngest goes: the others have warm caches
            self.retiring.add(pid)
            unix.send_signal(pid, signal.SIGTERM)

    def _kill_all(self, signum):
        for pid in self.workers:
            unix.send_signal(pid, signum)

    def _spawn(self):
        master = os.getpid()
        pid = os.fork()
        if pid:
            self.workers[pid] = time.monotonic()
            return
        code = unix.CHILD_CRASHED
        try:
            self.signals.close()
            os.close(self.boot_read)
            signals = install_signals()
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
                Worker(self.listener, handler, self.timeout, self.graceful_timeout, master, signals).run()
                code = unix.CHILD_OK
        except BaseException:
            log.exception("Worker %d crashed", os.getpid())
        finally:
            sys.stderr.flush()
            os._exit(code)
