"""Test seams for the prefork arbiter's tests, loaded only by a server started with this folder on
PYTHONPATH: windows the kernel opens too briefly to hit on purpose, held open.

LBAWS_SEAM_FORK_PAUSE=S: a forked child says its pid and sleeps S seconds before it goes on, so a signal
  can land between fork() and the child's own handlers.
LBAWS_SEAM_ACCEPT_ERRNO=NAME: each process's first accept() fails with that errno (EPROTO cannot be
  had from a loopback connection on demand).
"""

import errno
import os
import socket
import time

_PAUSE = os.environ.get("LBAWS_SEAM_FORK_PAUSE")
_ACCEPT_ERRNO = os.environ.get("LBAWS_SEAM_ACCEPT_ERRNO")

if _PAUSE:
    _fork = os.fork

    def _paused_fork():
        pid = _fork()
        if pid == 0:
            os.write(2, f"seam: child {os.getpid()} paused after fork\n".encode())
            time.sleep(float(_PAUSE))
        return pid

    os.fork = _paused_fork

if _ACCEPT_ERRNO:
    _accept = socket.socket.accept
    _failed_in = set()

    def _failing_accept(self):
        if os.getpid() not in _failed_in:
            _failed_in.add(os.getpid())
            code = getattr(errno, _ACCEPT_ERRNO)
            raise OSError(code, os.strerror(code))
        return _accept(self)

    socket.socket.accept = _failing_accept
