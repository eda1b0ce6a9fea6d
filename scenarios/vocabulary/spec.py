"""The vocabulary of a scenario: what to start, what to do to it, and how to judge what was seen.

A catalog module states an experiment with these types only; scenarios.executor.runner executes any of them.
"""
from __future__ import annotations

from dataclasses import dataclass
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

    def entrypoint(self, command: list) -> list:
        """`command` behind the wrapper that lowers nofile and nproc itself, then execs it (lbaws.rlimits)."""
        return ["lbaws", "limits", "--nofile", str(self.nofile), "--nproc", str(self.nproc), "--", *command]


class LimitsFrom(Enum):
    """Who sets a trial's nofile and nproc (`lbaws scenario --limits`); pids and memory stay the cgroup's."""

    ENGINE = "engine"  # the engine's ulimits (`docker run --ulimit`)
    # No engine ulimit: the entrypoint lowers them below the engine's defaults, as on Kubernetes, which
    # has no ulimit field.
    ENTRYPOINT = "entrypoint"


class Sigterm(Enum):
    """Whether the server handles SIGTERM, for the trials whose lesson that is."""

    ANY = "any"  # the lab's server handles it; nothing the trial judges depends on that
    HANDLED = "handled"  # the lesson needs a handler: a reader's file has none, so the trial keeps the lab's
    DEFAULT = "default"  # `lbaws serve --no-sigterm-handler`: the default action, as in the text's files


@dataclass(frozen=True)
class Grant:
    """A capability a trial's server container gets back, with why the experiment or its probes need it.

    Every lab container starts with none (lab.lockdown); a grant is the only way one comes back, and each
    report lists it with its reason. It enters the container's bounding set; a process holds it only if
    it starts as root in a container whose user is root: with no-new-privileges, whatever runs as (or
    is exec'd from) a non-root container user keeps that user's empty set. No trial needs one today:
    the probes do without (spec.FdCount, KillZombies as the server's UID).
    """

    capability: str  # as Docker names it, without CAP_: "KILL", "SYS_PTRACE"
    why: str

    def __post_init__(self):
        if not self.capability.isupper() or self.capability.startswith("CAP_") or not self.why.strip():
            raise ValueError(f"Grant({self.capability!r}, ...) needs Docker's name (KILL, not CAP_KILL) and a reason")


@dataclass(frozen=True)
class OwnServer:
    """A reader's server in any language: COMMAND run in their folder (mounted read-only), or their own
    locally built image whose command serves on port 8888. Either runs under the lab's limits, UID and
    lockdown, and the probes read its processes and descriptors as they read any server's."""

    label: str  # how reports name it: "c3g/ (./server3g)", "image mine:latest"
    digest: str  # sha256 of the folder's files, or the image's ID
    command: Optional[str] = None
    folder: Optional[str] = None
    image: Optional[str] = None

    def __post_init__(self):
        if (self.image is None) == (self.command is None) or (self.command is not None) != (self.folder is not None):
            raise ValueError("OwnServer takes a command and its folder, or an image")


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
    worker_timeout: Optional[float] = None  # prefork's --worker-timeout; unset: the stage's default (30 s)
    # A reader's own server file on the host, run as `python3 FILE [APP]` in this stage's place. Its
    # sleeps are its own: `sleep` then only tells the judges what the text's stage sleeps.
    file: Optional[str] = None
    own: Optional[OwnServer] = None  # a reader's server that is no Python file, in this stage's place
    # Capabilities added back to this locked-down container, each with its reason (default: none).
    grants: tuple = ()
    # What runs as the container's PID 1, the lesson of orphan-reaping and pid1-signals: the server
    # itself (an exec-form CMD), a shell running it (a shell-form CMD: `/bin/sh -c "..."`), or the
    # engine's init (`init: true`, tini) with the server as its child.
    shell_form: bool = False
    init: bool = False
    sigterm: Sigterm = Sigterm.ANY
    # UID 0 instead of the run's own UID, still with every capability dropped: root ignores RLIMIT_NPROC,
    # which is the point of pids-cgroup's root trial. Nothing else runs as root.
    root: bool = False

    @property
    def lab_only_switches(self) -> list:
        """The switches only the lab's server has: a trial that needs one keeps the lab's stage.

        The text's own sleep (3b's and 3c's 60 s, as a Scaled of the stage's) is not one: a reader's
        file sleeps it by itself, unscaled.
        """
        from lbaws import stages

        stage = stages.find(self.stage)
        texts = stage.sleep
        own_sleep = self.sleep is None or (isinstance(self.sleep, Scaled) and self.sleep.seconds == texts)
        named = {"--python2-signals": self.python2_signals, "--backlog": self.backlog is not None,
                 "a --sleep the text's stage does not have": not own_sleep,
                 "a SIGTERM handler, which the text's files do not have": self.sigterm is Sigterm.HANDLED,
                 f"an app, which the text's {stage.tutorial_file} does not serve":
                     self.app is not None and stage.app is not stages.AppUse.REQUIRED}
        return [name for name, needed in named.items() if needed]

    def __post_init__(self):
        # Imported here and not at the top: lbaws is the server's package, installed beside the harness.
        from lbaws import stages

        _require(self, "sigterm", Sigterm)
        if stages.find(self.stage) is None:
            raise ValueError(f"ServerSpec.stage {self.stage!r} is no stage; stages: {stages.names()}")
        if self.image not in inventory.IMAGES:
            raise ValueError(f"ServerSpec.image {self.image!r} is no image role; roles: {', '.join(inventory.IMAGES)}")
        if not all(isinstance(grant, Grant) for grant in self.grants):
            raise TypeError(f"ServerSpec.grants holds Grant(capability, why) only, not {self.grants!r}")

    @property
    def cap_add(self) -> list:
        return [grant.capability for grant in self.grants]


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
    # Seconds in all one connection keeps trying, a new connect() each time one times out (unset: one try).
    connect_patience: Optional[float] = None
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
    # Seconds a silent client holds a connection open, sending nothing, opened just before the curls: a
    # server that forks goes on to accept() while the child waits for that request; one whose parent
    # waits for the child (or that serves clients one at a time) makes the curls wait the silence out.
    silent_first: float = 0.0
    key: str = "curl"


@dataclass(frozen=True)
class Netcat:
    """Raw bytes to the port with netcat: what part 1 means by typing garbage into telnet."""

    payload: str
    wait: float = 10.0  # for the connection and the first byte of the answer: a busy server is slow to begin
    idle: float = 2.0  # then, silence that ends the answer (a server that keeps the connection open)
    key: str = "netcat"


@dataclass(frozen=True)
class Hold:
    """`clients` connections opened together that send nothing, then close: whatever the server runs per
    connection (a child, a thread) waits in recv() meanwhile, so the process table shows its process
    model. The tree is read once while they are held; they close then, or after `seconds` at most."""

    clients: int = 16
    seconds: float = 1.5
    key: str = "hold"


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
    """`kill -9` every zombie child of the server, as its own UID (the text's reader), and look again."""

    key: str = "kill"


@dataclass(frozen=True)
class Snapshot:
    """The full picture at this moment: ps of the container, the fd listing, limits, listening sockets."""

    key: str = "snapshot"


@dataclass(frozen=True)
class ServerCode:
    """Which server code this container runs: a digest of the lbaws package, and the image's layers."""

    key: str = "code"


@dataclass(frozen=True)
class Stop:
    """`docker stop -t timeout`: SIGTERM to PID 1, SIGKILL after `timeout` seconds; timed, exit code kept."""

    timeout: int = 3
    key: str = "stop"


Action = Union[Load, SteadyLoad, Curl, Netcat, Hold, Pause, Settle, KillZombies, KillChild, Snapshot, ServerCode, Stop]
ACTIONS = (Load, SteadyLoad, Curl, Netcat, Hold, Pause, Settle, KillZombies, KillChild, Snapshot, ServerCode, Stop)


class Watch(Enum):
    """The limit a trial's timeline draws as a line, with the count that climbs into it."""

    NOTHING = "nothing"
    NOFILE = "nofile"  # the server's open descriptors against RLIMIT_NOFILE
    NPROC = "nproc"  # its children, live and zombies, against RLIMIT_NPROC
    # The container's pids cgroup against pids_limit, read from the host or the engine: once the
    # cgroup is full, docker exec cannot start the probes.
    PIDS = "pids"


@dataclass(frozen=True)
class Neighbour:
    """A second server container beside the trial's own: both start first, then the neighbour's actions
    play, then the trial's, while the neighbour still runs (nproc-shared-uid)."""

    server: ServerSpec
    actions: tuple
    same_uid: bool  # as the trial's server's UID: the two then share one RLIMIT_NPROC count
    role: str = "neighbour"

    def __post_init__(self):
        unknown = [a for a in self.actions if not isinstance(a, ACTIONS)]
        if unknown:
            raise TypeError(f"neighbour: {unknown[0]!r} is not an action of scenarios.vocabulary.spec")


class FdCount(Enum):
    """How the sampler counts the server's open descriptors. Lab containers hold no capability, so
    root may not list another UID's /proc/PID/fd (and a grant cannot help: with no-new-privileges a
    process exec'd as root gets none of the container's added capabilities)."""

    LISTING = "listing"  # `ls /proc/PID/fd` as the server's UID: what the text's reader sees
    # The size of /proc/PID/fd, read as root: no process of the server's UID, for a trial where one
    # would take a slot of the nproc the lesson counts; it includes the descriptor accept() reserves
    # while it waits, one more than the listing whenever the server is idle in accept().
    KERNEL = "kernel"


@dataclass(frozen=True)
class Trial:
    """One fresh server container and the actions played against it; `repeat` runs it that many times."""

    key: str
    server: ServerSpec
    actions: tuple
    repeat: int = 1
    title: str = ""
    watch: Watch = Watch.NOTHING
    fd_count: FdCount = FdCount.LISTING
    neighbour: Optional[Neighbour] = None

    def __post_init__(self):
        _require(self, "watch", Watch)
        _require(self, "fd_count", FdCount)
        unknown = [a for a in self.actions if not isinstance(a, ACTIONS)]
        if unknown:
            raise TypeError(f"trial {self.key}: {unknown[0]!r} is not an action of scenarios.vocabulary.spec")
        keys = [action.key for action in self.actions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"trial {self.key}: two actions store their result under the same key: {keys}")
        if self.watch is Watch.PIDS and self.server.limits.pids is None:
            raise ValueError(f"trial {self.key}: watching the pids cgroup needs Limits.pids stated")

    @property
    def action_keys(self) -> tuple:
        return tuple(action.key for action in self.actions)


class Needs(Enum):
    """What an engine must do for a scenario to reproduce there; `lbaws doctor` checks each."""

    PIDS_LIMIT = "pids-limit"  # the engine applies pids_limit (no pids cgroup: rootless on cgroup v1)
    INIT = "init"  # `init: true` has the engine's docker-init (tini) to run
    HOST_ROOT = "host-root"  # UID 0 in a container is the host kernel's root, exempt from RLIMIT_NPROC
    # (not under userns-remap or a rootless engine, where it is an ordinary UID of the host)


@dataclass(frozen=True)
class Lesson:
    """A fault the text teaches and the change it makes to fix it, named by a judgment that differs."""

    key: str  # what a Judgment names it by: "keeps-copy"
    fault: str  # in the reader's terms: "the parent never closes its copy of the client socket"
    fix: str  # from the text: "the text's 3g closes it right after fork()"


@dataclass(frozen=True)
class Scenario:
    name: str
    section: str  # where in the text: "Part 3, webserver3d.py: ulimit -n 256"
    summary: str  # one line for --list
    prediction: str  # what the tutorial says will happen
    why: str  # two sentences, in the text's terms
    trials: tuple
    judge: Callable  # (scenarios.vocabulary.record.Observations) -> scenarios.vocabulary.verdict.Judgment
    repeatable: bool = False  # --repeat applies (races)
    # Its load drives a server into a limit (3d's backlog of 5 under hundreds of clients): a session runs
    # only a few such at once (scenarios.executor.session.floods_at_once), whatever its --jobs.
    floods: bool = False
    needs: tuple = ()  # Needs: what the engine must do, else the scenario says it cannot run there
    lessons: tuple = ()  # Lesson: the faults its judge may name, each with the text's fix

    def __post_init__(self):
        keys = [trial.key for trial in self.trials]
        if len(set(keys)) != len(keys):
            raise ValueError(f"scenario {self.name}: two trials share a key: {keys}")
        if not all(isinstance(lesson, Lesson) for lesson in self.lessons):
            raise TypeError(f"scenario {self.name}: lessons holds Lesson(key, fault, fix) only")
        wrong = [need for need in self.needs if not isinstance(need, Needs)]
        if wrong:
            raise TypeError(f"scenario {self.name}: needs holds members of Needs, not {wrong[0]!r}")

    @property
    def stages(self) -> list:
        seen = []
        for trial in self.trials:
            if trial.server.stage not in seen:
                seen.append(trial.server.stage)
        return seen
