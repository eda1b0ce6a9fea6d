"""The OS quirks the client depends on, in one place."""

import ctypes
import errno
import os
import select
import signal
import socket

from . import events

_REFUSED = {errno.ECONNREFUSED}
_RESET = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}

_PR_SET_PDEATHSIG = 1

try:
    # Loaded once in the parent, so no child pays for dlopen().
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    _libc = None


def classify(exc):
    """(outcome, reason) for an exception raised by connect, send or recv."""
    # socket.timeout is TimeoutError only from 3.10 on.
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return events.TIMED_OUT, "ETIMEDOUT"
    code = getattr(exc, "errno", None)
    name = errno.errorcode.get(code, type(exc).__name__) if code else type(exc).__name__
    if code in _REFUSED:
        return events.REFUSED, name
    if code in _RESET:
        return events.RESET, name
    return events.ERRORS, name


def die_with_parent(parent_pid):
    """Have the kernel SIGKILL this child if the parent dies first (Linux only).

    The parent's own clean-up covers every ordinary exit; this covers a
    SIGKILLed parent, which would otherwise leave children holding sockets.
    """
    prctl = getattr(_libc, "prctl", None)
    if prctl is not None:  # Linux; elsewhere the child's own deadline still bounds it
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died between fork() and prctl().
    if os.getppid() != parent_pid:
        os._exit(1)


def closed_by_peer(sock):
    """Whether a connection we kept open between requests has been closed (or reset) by the server."""
    # Readable between requests means EOF, a reset, or bytes nobody asked for (the connection is out
    # of step): in each case it cannot carry the next request.
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def set_nonblocking(fd):
    os.set_blocking(fd, False)
