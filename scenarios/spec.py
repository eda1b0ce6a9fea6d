"""The vocabulary of a scenario: what to start, what to do to it, and how to judge what was seen.

A catalog module states an experiment with these types only; scenarios.runner executes any of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union


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
    image: str = "server"  # a key of scenarios.images.IMAGES
    limits: Limits = Limits()
    sleep: Optional[Seconds] = None
    python2_signals: bool = False
    backlog: Optional[int] = None


# Client actions, run in order while the sampler watches the server. Each result is stored under `key`.

@dataclass(frozen=True)
class Load:
    """The load client (the text's client3.py, grown up) run in the client container."""

    clients: int
    conns: int = 1
    hold: Seconds = 0.0
    read: bool = False
    rate: Optional[float] = None
    path: str = "/hello"
    deadline: Seconds = 30.0
    connect_timeout: Optional[float] = None  # the client's default (10 s) unless set
    key: str = "load"


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


@dataclass(frozen=True)
class Settle:
    """Wait, sampling, until the server exited or has no live child left; bounded by timeout."""

    until: str = "no-live-children"  # or "exited"
    timeout: Seconds = 20.0
    quiet: float = 0.75
    key: str = "settle"


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


Action = Union[Load, Curl, Netcat, Pause, Settle, KillZombies, Snapshot, ServerCode]


@dataclass(frozen=True)
class Trial:
    """One fresh server container and the actions played against it; `repeat` runs it that many times."""

    key: str
    server: ServerSpec
    actions: tuple
    repeat: int = 1
    title: str = ""
    # The limit the timeline draws as a line: "nofile" (descriptors) or "nproc" (processes), if any.
    watch: Optional[str] = None


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

    @property
    def stages(self) -> list:
        seen = []
        for trial in self.trials:
            if trial.server.stage not in seen:
                seen.append(trial.server.stage)
        return seen
