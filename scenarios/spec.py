"""The vocabulary of a scenario: what to start, what to do to it, and how to judge what was seen.

A catalog module states an experiment with these types only; scenarios.runner executes any of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Optional, Union

from lab import inventory


def _require(owner, name: str, kind: type) -> None:
    """A switch holds a member of its enum: a mistyped string fails when the catalog is imported."""
    value = getattr(owner, name)
    if not isinstance(value, kind):
        allowed = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
        raise TypeError(f"{type(owner).__name__}.{name} must be one of {allowed}, not {value!r}")


@dataclass(frozen=True)
class Scaled:
    """A duration from the text (e.g. 3b's 60 s sleep) that the sleep-scale knob shortens."""

    seconds: float
    plus: float = 0.0
    floor: float = 1.0

    def resolve(self, scale: float) -> float:
        return round(max(self.floor, self.seconds * scale) + self.plus, 2)


Seconds = Union[float, Scaled]


def seconds(value: Seconds, scale: float) -> float:
    return value.resolve(scale) if isinstance(value, Scaled) else float(value)


@dataclass(frozen=True)
class Limits:
    """What the tutorial sets with `ulimit`, plus the container's safety net above it.

    nproc counts every process of the server's UID on the host kernel, zombies included, so each run
    gets a UID of its own; pids and memory are the cgroup limits that keep a runaway experiment from
    hurting the host and are always set above nproc so the lesson's limit is the one that bites.
    """

    nofile: int = 1024
    nproc: int = 1024
    pids: Optional[int] = None
    memory: str = "1g"

    @property
    def pids_limit(self) -> int:
        return self.pids or self.nproc + 128

    def as_dict(self) -> dict:
        return {"nofile": self.nofile, "nproc": self.nproc, "pids_limit": self.pids_limit,
                "memory": self.memory}


@dataclass(frozen=True)
class ServerSpec:
    """One server container: a stage of the text, optionally serving a WSGI app from an app image."""

    stage: str
    app: Optional[str] = None
    image: str = "server"  # a role of lab.inventory.IMAGES: "server" or an app's role
    limits: Limits = Limits()
    sleep: Optional[Seconds] = None
    python2_signals: bool = False
    backlog: Optional[int] = None
    # A reader's own server file on the host, run as `python3 FILE [APP]` in this stage's place. Its
    # sleeps are its own: `sleep` then only tells the judges what the text's stage sleeps.
    file: Optional[str] = None

    @property
    def lab_only_switches(self) -> list:
        """The switches only the lab's server has: a trial that needs one keeps the lab's stage.

        The text's own sleep (3b's and 3c's 60 s, as a Scaled of the stage's) is not one: a reader's
        file sleeps it by itself, unscaled.
        """
        from lbaws import stages

        texts = stages.find(self.stage).sleep
        own_sleep = self.sleep is None or (isinstance(self.sleep, Scaled) and self.sleep.seconds == texts)
        named = {"--python2-signals": self.python2_signals, "--backlog": self.backlog is not None,
                 "a --sleep the text's stage does not have": not own_sleep}
        return [name for name, needed in named.items() if needed]

    def __post_init__(self):
        # Imported here and not at the top: lbaws is the server's package, installed beside the harness.
        from lbaws import stages

        if stages.find(self.stage) is None:
            raise ValueError(f"ServerSpec.stage {self.stage!r} is no stage; stages: {stages.names()}")
        if self.image not in inventory.IMAGES:
            raise ValueError(f"ServerSpec.image {self.image!r} is no image role; roles: {', '.join(inventory.IMAGES)}")


# Client actions, run in order while the sampler watches the server. Each result is stored under `key`.

class ClientPattern(Enum):
    """Which client3.py a Load plays: `lbaws-client --pattern`, `lbaws scenario --client`."""

    LAB = "lab"  # goes on past a failed connection and holds every one for `hold`
    TEXT = "text"  # the text's listing: a failed connect ends the child, as its exception does
    REPOSITORY = "repository"  # the copy readers download: one connection each, closed at once


@dataclass(frozen=True)
class Load:
    """The load client (the text's client3.py, grown up) run in the client container."""

    clients: int
    conns: Optional[int] = None  # per client; unset: see max_conns
    hold: Seconds = 0.0  # the repository's copy holds nothing, whatever this says
    read: bool = False
    rate: Optional[float] = None
    path: str = "/hello"
    deadline: Seconds = 30.0
    connect_timeout: Optional[float] = None  # the client's default (10 s) unless set
    read_timeout: Optional[float] = None  # the client's default (10 s) unless set
    pattern: ClientPattern = ClientPattern.LAB
    # A load run: this many requests in all, `clients` at a time, each connection closed once answered
    # (`lbaws-client --requests`); conns and hold then do not apply.
    requests: Optional[int] = None
    key: str = "load"

    def __post_init__(self):
        _require(self, "pattern", ClientPattern)

    @property
    def max_conns(self) -> int:
        """Connections per client: 1 for the repository's copy (its loop ends after one); else the
        scenario's own, else 1, or for the text's listing its default of 1024, cut to what the
        client's bound on connections in all leaves each of `clients`."""
        from lbaws.client.command import MAX_CONNECTIONS, TEXT_CONNS

        if self.pattern is ClientPattern.REPOSITORY:
            return 1
        if self.conns is not None:
            return self.conns
        if self.pattern is ClientPattern.TEXT:
            return max(1, min(TEXT_CONNS, MAX_CONNECTIONS // self.clients))
        return 1


@dataclass(frozen=True)
class SteadyLoad:
    """A steady load over kept connections (lbaws-client --pattern keep-alive), beyond the text.

    `clients` connections, `rate` requests per second in all, for `seconds`; each client opens a new
    connection when the server closes its own (a reconnect). It runs in the background: the trial's
    next actions happen under it, and its result is collected when the trial's actions are done.
    """

    clients: int
    seconds: float
    rate: float
    path: str = "/hello"
    key: str = "steady"


@dataclass(frozen=True)
class KillChild:
    """`kill -SIGNAL` the live child of the server with the most open descriptors (the busiest worker),
    as root; then look again `wait` seconds later."""

    signal: int = 9
    wait: float = 2.0
    key: str = "kill-child"


@dataclass(frozen=True)
class Curl:
    """`count` curls launched `gap` seconds apart, all in flight together, each bounded by max_time."""

    count: int = 1
    gap: float = 0.0
    max_time: Seconds = 10.0
    path: str = "/hello"
    key: str = "curl"


@dataclass(frozen=True)
class Netcat:
    """Raw bytes to the port with netcat: what part 1 means by typing garbage into telnet."""

    payload: str
    wait: float = 3.0
    key: str = "netcat"


@dataclass(frozen=True)
class Pause:
    seconds: Seconds
    key: str = "pause"


class Until(Enum):
    """What a Settle waits for."""

    EXITED = "exited"
    NO_LIVE_CHILDREN = "no-live-children"  # for `quiet` seconds in a row


@dataclass(frozen=True)
class Settle:
    """Wait, sampling, until the server exited or has no live child left; bounded by timeout."""

    until: Until = Until.NO_LIVE_CHILDREN
    timeout: Seconds = 20.0
    quiet: float = 0.75
    key: str = "settle"

    def __post_init__(self):
        _require(self, "until", Until)


@dataclass(frozen=True)
class KillZombies:
    """`kill -9` every zombie child of the server, as root, and look again."""

    key: str = "kill"


@dataclass(frozen=True)
class Snapshot:
    """The full picture at this moment: ps of the container, the fd listing, limits, listening sockets."""

    key: str = "snapshot"


@dataclass(frozen=True)
class ServerCode:
    """Which server code this container runs: a digest of the lbaws package, and the image's layers."""

    key: str = "code"


Action = Union[Load, SteadyLoad, Curl, Netcat, Pause, Settle, KillZombies, KillChild, Snapshot, ServerCode]
ACTIONS = (Load, SteadyLoad, Curl, Netcat, Pause, Settle, KillZombies, KillChild, Snapshot, ServerCode)


class Watch(Enum):
    """The limit a trial's timeline draws as a line, with the count that climbs into it."""

    NOTHING = "nothing"
    NOFILE = "nofile"  # the server's open descriptors against RLIMIT_NOFILE
    NPROC = "nproc"  # its children, live and zombies, against RLIMIT_NPROC


@dataclass(frozen=True)
class Trial:
    """One fresh server container and the actions played against it; `repeat` runs it that many times."""

    key: str
    server: ServerSpec
    actions: tuple
    repeat: int = 1
    title: str = ""
    watch: Watch = Watch.NOTHING

    def __post_init__(self):
        _require(self, "watch", Watch)
        unknown = [a for a in self.actions if not isinstance(a, ACTIONS)]
        if unknown:
            raise TypeError(f"trial {self.key}: {unknown[0]!r} is not an action of scenarios.spec")
        keys = [action.key for action in self.actions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"trial {self.key}: two actions store their result under the same key: {keys}")

    @property
    def action_keys(self) -> tuple:
        return tuple(action.key for action in self.actions)


@dataclass(frozen=True)
class Verdict:
    reproduced: bool
    observed: str
    numbers: dict = field(default_factory=dict)

    @property
    def word(self) -> str:
        return "REPRODUCED" if self.reproduced else "NOT REPRODUCED"


@dataclass(frozen=True)
class Scenario:
    name: str
    section: str  # where in the text: "Part 3, webserver3d.py: ulimit -n 256"
    summary: str  # one line for --list
    prediction: str  # what the tutorial says will happen
    why: str  # two sentences, in the text's terms
    trials: tuple
    judge: Callable  # (scenarios.record.Observations) -> Verdict
    repeatable: bool = False  # --repeat applies (races)

    def __post_init__(self):
        keys = [trial.key for trial in self.trials]
        if len(set(keys)) != len(keys):
            raise ValueError(f"scenario {self.name}: two trials share a key: {keys}")

    @property
    def stages(self) -> list:
        seen = []
        for trial in self.trials:
            if trial.server.stage not in seen:
                seen.append(trial.server.stage)
        return seen
