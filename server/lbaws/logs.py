"""The server's output: the lines the tutorial prints, through `logging`, one write(2) per record."""

import logging
import os
import sys

log = logging.getLogger("lbaws")


class FdHandler(logging.Handler):
    """Writes each record with a single os.write to a file descriptor.

    The SIGCHLD handlers of 3e-3g log while the main loop may be in the middle of a log call itself;
    a buffered stream would raise "reentrant call", a raw write cannot. One write per record also keeps
    the lines of concurrent children from interleaving.
    """

    def __init__(self, fd):
        super().__init__()
        self.fd = fd

    def emit(self, record):
        try:
            data = (self.format(record) + "\n").encode("utf-8", "replace")
            while data:
                data = data[os.write(self.fd, data):]
        except Exception:
            self.handleError(record)


def configure(quiet=False):
    handler = FdHandler(sys.stderr.fileno())
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    # --quiet silences the story the text prints, not the warnings and errors.
    log.setLevel(logging.WARNING if quiet else logging.INFO)
