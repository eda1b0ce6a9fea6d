"""What each client action found, typed, so a judge reads fields instead of indexing dicts.

An action that could not be carried out (the server had died, a probe failed) leaves a Missing in its
place; TrialRecord's accessors turn it into MissingResult, which the runner reports as "could not
judge: ..." naming what is missing and why. Any other error in a judge is a bug and is raised.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scenarios.vocabulary.tree import TreeCount


class MissingResult(LookupError):
    """A reading the experiment did not produce; its message says which and why."""


@dataclass(frozen=True)
class Missing:
    """Stands where an action's result would be when the action could not be carried out."""

    reason: str


@dataclass(frozen=True)
class CurlResult:
    n: int
    exit: int | None  # curl's exit status (28: its own --max-time ran out)
    status: int | None  # the HTTP status, None when no response head arrived
    ttfb_s: float | None
    total_s: float | None
    body: str  # stripped of surrounding whitespace, as a person reads curl's output
    content_type: str = ""  # the response's Content-Type, "" when it had none


@dataclass(frozen=True)
class CurlsResult:
    curls: tuple = ()  # CurlResult, in launch order
    wall_s: float = 0.0
    exec_rc: int | None = None

    def first(self) -> CurlResult:
        if not self.curls:
            raise MissingResult(f"no curl reported back (the client's shell exited {self.exec_rc})")
        return self.curls[0]

    def bodies(self) -> list:
        return [c.body for c in self.curls]

    def slowest_ttfb(self, unanswered: float) -> float:
        """The slowest time to first byte, counting a curl that got none as `unanswered` seconds."""
        return max((c.ttfb_s if c.ttfb_s is not None else unanswered for c in self.curls), default=unanswered)


@dataclass(frozen=True)
class NetcatResult:
    exit: int | None
    output: str
    stderr: str


@dataclass(frozen=True)
class LoadResult:
    command: str
    exit: int | None
    summary: dict | None  # the load client's own JSON summary line; None when it printed none
    wall_s: float
    stderr_tail: str
    pattern: str = "lab"  # which client3.py it played: spec.ClientPattern's value, or "keep-alive"
    started_s: float | None = None  # seconds since the container started, when the client was launched
    stopped_s: float | None = None  # seconds into the trial when the lab stopped it, its server gone

    def per_second(self, name: str) -> list:
        """A keep-alive load's count of `name` ("responses", "failed", "reconnects") for each second."""
        self.count("responses")  # raises MissingResult when there is no summary
        return list(self.summary.get("per_second", {}).get(name, []))

    def count(self, name: str) -> int:
        """One of the client's tallies ("connected", "responses", ...)."""
        if self.summary is None:
            raise MissingResult(f"the load client printed no summary (exit {self.exit}): "
                                f"{self.stderr_tail.splitlines()[-1] if self.stderr_tail else 'no output'}")
        return int(self.summary.get(name, 0))

    @property
    def connected(self) -> int:
        return self.count("connected")

    @property
    def responses(self) -> int:
        return self.count("responses")

    @property
    def attempted(self) -> int:
        """Connections the client tried to open: those that connected and those whose connect failed."""
        return self.count("connections_attempted")


@dataclass(frozen=True)
class HoldResult:
    """Silent connections held open (spec.Hold), and the server's tree read while they were."""

    asked: int
    connected: int
    during: SnapshotResult | None  # None: the server was gone, or no connection was up, when it was due
    exit: int | None = None


@dataclass(frozen=True)
class PauseResult:
    seconds: float


@dataclass(frozen=True)
class SettleResult:
    until: str
    reached: bool
    waited_s: float


@dataclass(frozen=True)
class KillResult:
    zombies_before: tuple
    kill_exit: int | None  # None: there was no zombie to kill
    kill_stderr: str
    zombies_after: tuple
    survivors: tuple  # zombies that were still there after kill -9


@dataclass(frozen=True)
class KillChildResult:
    victim: int | None  # None: the server had no live child to kill
    signal: int
    t_s: float  # seconds since the container started, when the signal was sent
    fds_by_child: dict  # pid -> open descriptors, how the victim was chosen
    kill_exit: int | None
    kill_stderr: str
    live_before: tuple
    live_after: tuple
    zombies_after: tuple

    @property
    def replaced_by(self) -> tuple:
        return tuple(sorted(set(self.live_after) - set(self.live_before)))


@dataclass(frozen=True)
class Proc:
    """One line of `ps -eo pid,ppid,stat,uid,comm` in the server's container."""

    pid: int
    ppid: int
    stat: str
    uid: int
    comm: str

    @property
    def zombie(self) -> bool:
        return self.stat.startswith("Z")


@dataclass(frozen=True)
class TcpCounters:
    """The kernel's TCP counters of the server container's network namespace, or a difference of two.

    passive_opens (/proc/net/snmp Tcp PassiveOpens): handshakes completed into a listening socket's
    accept queue, so connections that reached accept(). listen_overflows (/proc/net/netstat TcpExt
    ListenOverflows): handshakes dropped because that queue, the listen() backlog, was full.
    listen_drops (TcpExt ListenDrops): every connection a listener dropped, overflows included.
    """

    passive_opens: int
    listen_overflows: int
    listen_drops: int

    def since(self, earlier: TcpCounters) -> TcpCounters:
        return TcpCounters(self.passive_opens - earlier.passive_opens,
                           self.listen_overflows - earlier.listen_overflows,
                           self.listen_drops - earlier.listen_drops)


@dataclass(frozen=True)
class SnapshotResult:
    """The full picture at one moment: the server's children, descriptors, limits and listening sockets."""

    children: tuple = ()  # Proc, those whose parent is the server
    ps: str = ""
    fd_count: int | None = None
    fd_listing: str = ""
    limits: dict = field(default_factory=dict)  # "Max open files" -> [soft, hard], "Max processes" -> ...
    listening: str = ""
    tcp: TcpCounters | None = None  # None: the counters could not be read
    processes: tuple = ()  # Proc, every process of the container (the probe's own included)
    sigchld: str = ""  # the server's SIGCHLD: "ignored", "caught" (a handler), "default"; "" unread
    tree: TreeCount | None = None  # every process below the container's PID 1 (scenarios.vocabulary.tree)

    @property
    def zombies(self) -> list:
        return [c for c in self.children if c.zombie]

    @property
    def sockets(self) -> int | None:
        """Descriptors that are sockets: the listener and any client connection still held. Other files a
        server opens (an epoll, a log) do not count, so a kept client socket shows whatever the code."""
        return sum(1 for line in self.fd_listing.splitlines() if "socket:[" in line) if self.fd_listing else None

    def pid1(self) -> Proc | None:
        """The container's PID 1: the server, the shell of a shell-form CMD, or docker-init."""
        return next((p for p in self.processes if p.pid == 1), None)

    def zombies_of(self, ppid: int, comm: str | None = None) -> list:
        """The zombies whose parent is `ppid`, only those named `comm` when given."""
        return [p for p in self.processes if p.zombie and p.ppid == ppid and comm in (None, p.comm)]

    @property
    def live(self) -> list:
        return [c for c in self.children if not c.zombie]


@dataclass(frozen=True)
class StopResult:
    """`docker stop -t timeout_s`: how long it took and how the container ended."""

    timeout_s: int
    seconds: float
    exit_code: int | None  # 137: SIGKILL after the timeout; 143: SIGTERM's default action; 0: a handler
    error: str = ""

    @property
    def killed(self) -> bool:
        return self.exit_code == 137


@dataclass(frozen=True)
class ServerCodeResult:
    package_path: str
    digest: str  # sha256 over the installed lbaws package's files
    exit: int | None
    stderr: str
    image: str
    layers: int
    server_layers: int
    contains_server_layers: bool  # the image is built on the current server image's layers
