"""What a child tells the parent, one short line per event on a shared pipe.

A write of at most PIPE_BUF bytes to a pipe is atomic, so many children can
share one pipe without their lines interleaving, and a child killed halfway
loses only the events it had not written yet.
"""

import os
import select
from dataclasses import dataclass

# Event kinds.
CONNECTED = "C"   # connect() succeeded
FAILED = "F"      # the connection failed; detail = outcome, note = "stage:reason"
RESPONSE = "R"    # a status line arrived; detail = status code
UNENDED = "U"     # status seen, but the body did not end (no EOF) within the read timeout
CLOSED = "X"      # the client closed the socket
STOPPED = "S"     # --pattern text: the client stopped at this failed connection, as client3.py dies
DROPPED = "D"     # --pattern keep-alive: the server closed a kept connection between requests

# Failure outcomes, the counters of the summary.
REFUSED = "refused"
TIMED_OUT = "timed_out"
RESET = "reset"
ERRORS = "errors"
OUTCOMES = (REFUSED, TIMED_OUT, RESET, ERRORS)

# 4096 on Linux; the POSIX minimum is 512 and our lines stay far below it.
MAX_LINE = 256


@dataclass(frozen=True)
class Event:
    kind: str
    client: int
    conn: int
    t: float
    detail: str = ""
    note: str = ""


def encode(event):
    line = "%s %d %d %.6f %s %s\n" % (
        event.kind, event.client, event.conn, event.t, event.detail or "-", event.note or "-")
    data = line.encode("ascii", "replace")
    return data[:MAX_LINE - 1] + b"\n" if len(data) > MAX_LINE else data


def decode(line):
    """One line to an Event, or None for a line that is not one (never trusted blindly)."""
    try:
        kind, client, conn, t, detail, note = line.decode("ascii").split(" ")
        return Event(kind, int(client), int(conn), float(t),
                     "" if detail == "-" else detail, "" if note == "-" else note)
    except ValueError:
        return None


class LineReader:
    """Reassembles lines from a non-blocking pipe read end."""

    def __init__(self, fd):
        self.fd = fd
        self._rest = b""
        self.eof = False

    def read_available(self, timeout):
        """Events readable within timeout seconds (an empty list if none)."""
        if self.eof:
            return []
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return []
        chunks = []
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                self.eof = True
                break
            chunks.append(chunk)
        data = self._rest + b"".join(chunks)
        *lines, self._rest = data.split(b"\n")
        return [e for e in map(decode, lines) if e is not None]
