"""The Unix mechanics the stages are made of: listening sockets, signals, fork, reaping."""

import collections
import errno
import mmap
import os
import select
import signal
import socket
import time
import warnings

# Exit codes of a forked child, so the parent (and a reader of `ps`) can tell a crash from a normal end.
CHILD_OK = 0
CHILD_CRASHED = 70
# The app cannot be loaded: `lbaws serve`'s own exit status, and a pre-forked worker's, which tells the
# master that respawning it would fail the same way forever. One name for both, since the master passes
# its worker's status on as its own.
EXIT_APP = 3

# accept() or fork() failing because the process or the machine ran out of descriptors or processes.
EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EAGAIN})
# accept() handing over an error that belongs to the connection it was about to return, not to the
# listener: accept(2) says to treat them like EAGAIN (and EPERM is a firewall's refusal of that one client).
ACCEPT_PASSED_ON = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.ENETDOWN, errno.ENOPROTOOPT,
                              errno.EHOSTDOWN, errno.ENONET, errno.EHOSTUNREACH, errno.EOPNOTSUPP,
                              errno.ENETUNREACH, errno.EPERM})


class Shutdown(BaseException):
    """Raised by the SIGTERM/SIGINT handler; BaseException so no `except Exception` swallows it."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def open_listener(host, port, backlog):
    """A bound, listening TCP socket, as every stage of the text opens it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(backlog)
    except BaseException:
        listener.close()
        raise
    return listener


def _raise_shutdown(signum, frame):
    # Raising is the only way to leave a blocking accept() or sleep(): PEP 475 retries them otherwise.
    # A second SIGTERM must not raise again in the middle of the clean-up the first one started.
    for other in (signal.SIGTERM, signal.SIGINT):
        signal.signal(other, signal.SIG_IGN)
    # A signal landing between accept()'s return and the loop's try leaves that socket to the garbage
    # collector as the process ends; the kernel closes it with the process, so its ResourceWarning is noise.
    warnings.simplefilter("ignore", ResourceWarning)
    raise Shutdown(signum)


def install_shutdown_handlers(sigterm=True):
    """SIGTERM and SIGINT stop the server at once: as PID 1 in a container it gets no default action.

    Without `sigterm`, SIGTERM keeps its default action, as in the text's files: the kernel then
    ignores it for PID 1, and `docker stop` waits its whole timeout before SIGKILL (pid1-signals).
    """
    if sigterm:
        signal.signal(signal.SIGTERM, _raise_shutdown)
    signal.signal(signal.SIGINT, _raise_shutdown)


def keep_default_sigchld():
    """Children of a server that never reaps must stay zombies, even if our parent left SIGCHLD ignored."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def install_sigchld(handler):
    signal.signal(signal.SIGCHLD, handler)


def restore_default_signals(ignore_interrupt=False):
    """A forked child must die of SIGTERM/SIGINT and must not run the parent's SIGCHLD reaper.

    With ignore_interrupt, Ctrl-C (sent to the whole foreground process group) leaves the child to
    finish its response: the parent that drains on shutdown decides when children stop.
    """
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    if ignore_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def running_children():
    """PIDs of this process's children still running (Linux /proc; empty where it cannot tell)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/children") as listing:
            return [int(pid) for pid in listing.read().split()]
    except OSError:
        return []


def wait_for_children(timeout, poll=0.02):
    """Reap children until none is left, for at most `timeout` s; then SIGKILL those still running.

    Returns (seconds waited, whether the time ran out, how many were killed). SIGCHLD goes back to its
    default first: a reaper in a handler would race this loop for the same children.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    start = time.monotonic()
    deadline = start + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return time.monotonic() - start, False, 0
        if pid:
            continue
        if time.monotonic() >= deadline:
            break
        time.sleep(poll)
    killed = 0
    for pid in running_children():
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            killed += 1
        except (ProcessLookupError, ChildProcessError):
            pass
    return time.monotonic() - start, True, killed


def reap_one_with_wait():
    """The reaper of 3e/3f: one blocking wait() per SIGCHLD, however many children have ended."""
    return os.wait()


def reap_all_with_waitpid():
    """The reaper of 3g: collect every finished child without blocking; ECHILD means none is left."""
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped.append((pid, status))


class Python2Signals:
    """Emulates Python 2, where a signal handler returning made the blocked accept() fail with EINTR.

    Python 3 retries the call after the handler (PEP 475), so 3e's crash cannot happen on its own;
    with the emulation on, a handler calls `interrupt()` as its last step and the accept() that the
    main loop is blocked in raises InterruptedError, exactly where the text's traceback points.
    """

    def __init__(self, enabled):
        self.enabled = enabled
        self.in_accept = False

    def accept(self, listener):
        self.in_accept = True
        try:
            return listener.accept()
        finally:
            self.in_accept = False

    def interrupt(self):
        if self.enabled and self.in_accept:
            self.in_accept = False
            raise InterruptedError(errno.EINTR, os.strerror(errno.EINTR))


def describe_status(status):
    """A wait() status in words: how the child ended, as WIFEXITED/WIFSIGNALED read it."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        return f"was killed by {name}"
    if os.WIFEXITED(status):
        return f"exited with {os.WEXITSTATUS(status)}"
    return f"changed state ({status})"


def exit_code(status):
    """The child's exit code, or None when a signal ended it."""
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else None


def send_signal(pid, signum):
    """kill(pid, signum), quietly doing nothing when the process has already gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


class SignalQueue:
    """Signal handlers that only record: each signal is queued, and a self-pipe wakes the loop that acts.

    The pipe is Python's wakeup fd (signal.set_wakeup_fd): the C-level handler writes a byte to it, so a
    select() on fileno() returns even when the signal lands just before the loop goes to sleep.
    """

    def __init__(self, signums):
        self.pending = collections.deque()
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        for signum in signums:
            signal.signal(signum, self._record)

    def _record(self, signum, frame):
        self.pending.append(signum)

    def fileno(self):
        return self._read

    def take(self):
        """The signals recorded since the last call, oldest first; empties the self-pipe too."""
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass
        taken = []
        while self.pending:
            taken.append(self.pending.popleft())
        return taken

    def wait(self, timeout):
        """Sleep until a signal arrives or `timeout` seconds pass; then take()."""
        if not self.pending:
            select.select([self._read], [], [], timeout)
        return self.take()

    def close(self):
        """Stop waking this pipe (a forked worker sets up its own) and close it."""
        signal.set_wakeup_fd(-1)
        os.close(self._read)
        os.close(self._write)


def set_dispositions(default=(), ignore=()):
    """Put signals back to their default action, or ignore them (a forked worker undoing its master's handlers)."""
    for signum in default:
        signal.signal(signum, signal.SIG_DFL)
    for signum in ignore:
        signal.signal(signum, signal.SIG_IGN)


def block_signals(signums):
    """Hold `signums` pending (pthread_sigmask); the mask before, for restore_signal_mask.

    Around fork(): a signal sent to a new child before it has its own handlers would otherwise run the
    parent's copied handler there and be lost; held, it is delivered once the child has unblocked it.
    """
    return signal.pthread_sigmask(signal.SIG_BLOCK, signums)


def restore_signal_mask(mask):
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class SharedSlots:
    """A few numbers a forked child writes and its parent reads: an anonymous shared page, created before
    fork(), so a write costs no system call (a heartbeat written every loop turn must be that cheap)."""

    SIZE = 8  # bytes of one double

    def __init__(self, count):
        self._page = mmap.mmap(-1, count * self.SIZE)  # MAP_SHARED | MAP_ANONYMOUS: the child writes here
        # The numbers themselves: a loop that writes every turn indexes this, with no method call between.
        self.values = memoryview(self._page).cast("d")

    def __getitem__(self, index):
        return self.values[index]

    def close(self):
        self.values.release()
        self._page.close()
