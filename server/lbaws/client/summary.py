"""Adding up the children's events into the summary the client prints.

connections_attempted = connected + the connects that failed. refused,
timed_out, reset and errors count failures wherever they happened (socket,
connect, send or read; `failures` says where, as "stage:ERRNO"), so a read
timeout on a connected socket counts in both connected and timed_out.
responses counts status lines; unended those whose body had not ended (no
EOF, Content-Length short) when the read timeout came: 3d's hang. Times are
seconds since the start; max_concurrent_open is the peak of sockets the
clients held open at once. With --pattern keep-alive, reconnects counts the
kept connections the server closed between requests (each replaced by a new
one), and per_second the responses, failures and reconnects of each second.
clients_stopped counts the --pattern text clients
that stopped at a failed socket, connect or send, where the text's client3.py
dies of the exception: the pattern at work, not a crash (children_failed).
"""

import json
from collections import Counter

from . import events

_CONNECT_STAGES = ("socket:", "connect:")


class Tally:
    """The running totals of one run, fed one event at a time by the parent."""

    def __init__(self, clients, t0):
        self.clients = clients
        self.t0 = t0
        self.clients_started = 0
        self.children_failed = 0
        self.clients_stopped = 0
        self.attempted = 0
        self.connected = 0
        self.outcomes = Counter({name: 0 for name in events.OUTCOMES})
        self.failures = Counter()
        self.status_counts = Counter()
        self.responses = 0
        self.unended = 0
        self.first_response = None
        self.last_connected = None
        self._open = {}       # (client, conn) -> time connected, until closed
        self._changes = []    # (time, +1 | -1) for the peak of open connections
        self.reconnects = 0
        self._seconds = {}    # whole second since t0 -> Counter of responses, failed, reconnects

    @property
    def open_now(self):
        return len(self._open)

    def _per_second(self, event, name):
        self._seconds.setdefault(max(0, int(event.t - self.t0)), Counter())[name] += 1

    def add(self, event):
        key = (event.client, event.conn)
        if event.kind == events.CONNECTED:
            self.attempted += 1
            self.connected += 1
            self._open[key] = event.t
            self.last_connected = max(event.t, self.last_connected or event.t)
            self._changes.append((event.t, 1))
        elif event.kind == events.FAILED:
            if event.note.startswith(_CONNECT_STAGES):
                self.attempted += 1
            outcome = event.detail if event.detail in self.outcomes else events.ERRORS
            self.outcomes[outcome] += 1
            self.failures[event.note or outcome] += 1
            self._per_second(event, "failed")
        elif event.kind == events.RESPONSE:
            self.responses += 1
            self.status_counts[event.detail] += 1
            self._per_second(event, "responses")
            if self.first_response is None or event.t < self.first_response:
                self.first_response = event.t
        elif event.kind == events.UNENDED:
            self.unended += 1
        elif event.kind == events.STOPPED:
            self.clients_stopped += 1
        elif event.kind == events.DROPPED:
            self.reconnects += 1
            self._per_second(event, "reconnects")
        elif event.kind == events.CLOSED:
            if self._open.pop(key, None) is not None:
                self._changes.append((event.t, -1))

    def client_gone(self, client, t):
        """A child ended: whatever it had not reported closed, the kernel closed at t."""
        for key in [key for key in self._open if key[0] == client]:
            del self._open[key]
            self._changes.append((t, -1))

    def max_concurrent_open(self):
        # Closes sort before opens at the same instant: count only true overlap.
        peak = level = 0
        for _, change in sorted(self._changes):
            level += change
            peak = max(peak, level)
        return peak

    def per_second(self, end):
        """{"responses": [n per second], "failed": [...], "reconnects": [...]} from t0 to `end`."""
        seconds = range(max(int(end - self.t0) + 1, 1))
        return {name: [self._seconds.get(s, Counter())[name] for s in seconds]
                for name in ("responses", "failed", "reconnects")}

    def result(self, end, stopped_by=None):
        def since_start(t):
            return None if t is None else round(t - self.t0, 3)

        return {
            "clients": self.clients,
            "clients_started": self.clients_started,
            "connections_attempted": self.attempted,
            "connected": self.connected,
            **{name: self.outcomes[name] for name in events.OUTCOMES},
            "responses": self.responses,
            "unended": self.unended,
            "status_counts": dict(sorted(self.status_counts.items())),
            "failures": dict(sorted(self.failures.items())),
            "first_response_s": since_start(self.first_response),
            "last_connected_s": since_start(self.last_connected),
            "elapsed_s": since_start(end),
            "max_concurrent_open": self.max_concurrent_open(),
            "children_failed": self.children_failed,
            "clients_stopped": self.clients_stopped,
            "stopped_by": stopped_by,
        }

    def progress(self, now):
        return ("%6.1fs clients %d/%d | connected %d, refused %d, timed out %d, reset %d, errors %d"
                " | responses %d | open %d" % (
                    now - self.t0, self.clients_started, self.clients, self.connected,
                    self.outcomes[events.REFUSED], self.outcomes[events.TIMED_OUT],
                    self.outcomes[events.RESET], self.outcomes[events.ERRORS],
                    self.responses, self.open_now))


def to_json(result):
    return json.dumps(result, separators=(",", ":"))


def to_text(result):
    lines = ["%-22s %s" % (key + ":", value) for key, value in result.items()
             if not isinstance(value, dict)]
    for key in ("status_counts", "failures"):
        for name, count in result[key].items():
            lines.append("%-22s %s" % ("%s[%s]:" % (key, name), count))
    return "\n".join(lines)
