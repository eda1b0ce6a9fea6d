"""The Unix mechanics the stages are made of: listening sockets, signals, fork, reaping."""

import errno
import os
import signal
import socket
import warnings

# Exit codes of a forked child, so the parent (and a reader of `ps`) can tell a crash from a normal end.
CHILD_OK = 0
CHILD_CRASHED = 70

# accept() or fork() failing because the process or the machine ran out of descriptors or processes.
EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM, errno.EAGAIN})


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


def restore_default_signals():
    """A forked child must die of SIGTERM/SIGINT and must not run the parent's SIGCHLD reaper."""
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)


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
