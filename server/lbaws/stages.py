"""Every stage of the tutorial in one table: its process model, its deliberate defects and its defaults."""

import dataclasses
import enum
from dataclasses import dataclass
from typing import Optional, Union

# The fixed body of stages 1 and 3a-3g without an app, as the text prints it.
HELLO = "Hello, World!"


class ProcessModel(enum.Enum):
    """Who serves an accepted connection."""
    ITERATIVE = "iterative"  # the process that accepted it, one client at a time
    FORK = "fork"            # a child forked for it
    PREFORK = "prefork"      # one of N workers forked once at start, each an event loop over many clients


class Handler(enum.Enum):
    """What a stage answers on a connection."""
    ANYTHING = "anything"  # part 1: Hello, World! to whatever arrives, parsed or not
    HTTP = "http"          # a parsed request: the fixed Hello, World! without an app, the WSGI app with one


class AppUse(enum.Enum):
    """Whether `lbaws serve STAGE` takes a MODULE:CALLABLE."""
    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Reaper(enum.Enum):
    """What the SIGCHLD handler of a forking stage does."""
    NONE = "none"                # no handler: the parent never reaps, its children stay zombies
    WAIT_ONE = "wait"            # 3e/3f: one os.wait() per signal, so coalesced signals leave zombies
    WAITPID_ALL = "waitpid"      # 3g/3h: waitpid(-1, WNOHANG) until no finished child is left


# The switches of each process model, one class per model: a row can only set what its model reads.

@dataclass(frozen=True)
class Iterative:
    """serve_iterative: the accepting process serves the client itself."""
    sleep: float = 0.0  # after each response, before the next accept(): 3b's lesson, the next client waits


@dataclass(frozen=True)
class Forking:
    """serve_forking: the lessons of part 3, as switches. A child always closes its copy of the listener."""
    sleep: float = 0.0  # in the child, after its response
    close_parent_copy: bool = True
    reaper: Reaper = Reaper.NONE
    restart_accept: bool = False
    # 3d's lesson ends with a traceback when descriptors or processes run out; the correct stage lives on.
    survive_exhaustion: bool = False
    # SIGTERM/SIGINT close the listener at once and let the responses in flight finish (up to --drain).
    graceful_shutdown: bool = False
    log_child_pid: bool = False
    log_client_count: bool = False


@dataclass(frozen=True)
class Prefork:
    """serve_prefork, beyond the text. Its master always reaps with 3g's loop and drains on SIGTERM, and its
    workers outlast a shortage of descriptors: none of that is a switch, since the model has no other way."""
    # Workers started by default, each importing the app itself (its failure is the worker's exit code).
    workers: int = 2
    # A connection serves request after request (HTTP/1.1 persistent connections).
    keep_alive: bool = True


SWITCHES = {ProcessModel.ITERATIVE: Iterative, ProcessModel.FORK: Forking, ProcessModel.PREFORK: Prefork}

# The switches a typo must not turn into a default path: each field, of the stage or of its model's
# switches, and the enum it has to be a member of.
_ENUMS = {"model": ProcessModel, "handler": Handler, "app": AppUse, "reaper": Reaper}


@dataclass(frozen=True)
class Stage:
    name: str
    tutorial_file: str
    summary: str
    model: ProcessModel
    switches: Union[Iterative, Forking, Prefork]  # the class SWITCHES gives for `model`
    backlog: int
    handler: Handler = Handler.HTTP
    app: AppUse = AppUse.OPTIONAL
    log_prefix: str = ""

    def __post_init__(self):
        self._check_members(self)
        # The model picks the reader: switches of another model would be silently ignored.
        kind = SWITCHES[self.model]
        if type(self.switches) is not kind:
            raise TypeError(f"stage {self.name!r}: the switches of ProcessModel.{self.model.name} must be "
                            f"{kind.__name__}(...), not {self.switches!r}")
        self._check_members(self.switches)

    def _check_members(self, holder):
        for field in dataclasses.fields(holder):
            kind = _ENUMS.get(field.name)
            value = getattr(holder, field.name)
            if kind is not None and not isinstance(value, kind):
                allowed = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
                raise TypeError(f"stage {self.name!r}: {field.name} must be one of {allowed}, not {value!r}")

    # What the model-agnostic code asks of any stage (cli, handlers, and the lab's scenarios/vocabulary/spec.py).

    @property
    def sleeps(self) -> bool:
        """Whether --sleep means something: the model has a sleep after each response (prefork has none)."""
        return hasattr(self.switches, "sleep")

    @property
    def sleep(self) -> float:
        """Seconds slept after each response; 0 where the model never sleeps."""
        return self.switches.sleep if self.sleeps else 0.0

    @property
    def workers(self) -> int:
        """Pre-forked workers started by default; 0 where the model forks none up front."""
        return self.switches.workers if self.model is ProcessModel.PREFORK else 0

    @property
    def keep_alive(self) -> bool:
        """Whether a connection serves request after request; only the prefork model's workers can."""
        return self.model is ProcessModel.PREFORK and self.switches.keep_alive

    @property
    def drains(self) -> bool:
        """Whether SIGTERM lets the responses in flight finish (for up to --drain) instead of stopping at once."""
        if self.model is ProcessModel.FORK:
            return self.switches.graceful_shutdown
        return self.model is ProcessModel.PREFORK

    @property
    def takes_default_sigterm(self) -> bool:
        """Whether SIGTERM can keep its default action, as in the text's files: the prefork master's loop
        stops (and drains) through its own SIGTERM handler, which it installs whatever `lbaws serve` did."""
        return self.model is not ProcessModel.PREFORK

    @property
    def multiprocess(self) -> bool:
        return self.model in (ProcessModel.FORK, ProcessModel.PREFORK)

    @property
    def has_sigchld_handler(self) -> bool:
        # The prefork master reaps with 3g's loop, but in its main loop: its SIGCHLD handler only records.
        return self.model is ProcessModel.FORK and self.switches.reaper is not Reaper.NONE

    @property
    def aliases(self):
        if not self.tutorial_file:
            return (self.name,)
        return (self.name, self.tutorial_file[: -len(".py")])


STAGES = (
    Stage("1", "webserver1.py", "answers every connection with Hello, World!, whatever was sent",
          ProcessModel.ITERATIVE, Iterative(), backlog=1, handler=Handler.ANYTHING, app=AppUse.NONE),
    Stage("2", "webserver2.py", "iterative WSGI server for any MODULE:CALLABLE",
          ProcessModel.ITERATIVE, Iterative(), backlog=1, app=AppUse.REQUIRED, log_prefix="WSGIServer: "),
    Stage("3a", "webserver3a.py", "iterative server, one client at a time",
          ProcessModel.ITERATIVE, Iterative(), backlog=5),
    Stage("3b", "webserver3b.py", "iterative server that sleeps after each response: the next client waits",
          ProcessModel.ITERATIVE, Iterative(sleep=60.0), backlog=5),
    Stage("3c", "webserver3c.py",
          "fork per connection, duplicate descriptors closed, child sleeps; never reaps",
          ProcessModel.FORK, Forking(sleep=60.0, log_child_pid=True), backlog=5),
    Stage("3d", "webserver3d.py",
          "fork per connection, parent keeps every client socket, never reaps: "
          "leaks descriptors, makes zombies",
          ProcessModel.FORK, Forking(close_parent_copy=False, log_client_count=True), backlog=5),
    Stage("3e", "webserver3e.py",
          "reaps with os.wait() in a SIGCHLD handler, one child per signal; accept() is not restarted",
          ProcessModel.FORK, Forking(sleep=3.0, reaper=Reaper.WAIT_ONE), backlog=5),
    Stage("3f", "webserver3f.py", "3e with accept() restarted on EINTR; still one reap per signal",
          ProcessModel.FORK, Forking(reaper=Reaper.WAIT_ONE, restart_accept=True), backlog=1024),
    Stage("3g", "webserver3g.py", "reaps every finished child with waitpid(-1, WNOHANG) in a loop",
          ProcessModel.FORK, Forking(reaper=Reaper.WAITPID_ALL, restart_accept=True, survive_exhaustion=True,
                                     graceful_shutdown=True), backlog=1024),
    Stage("3h", "webserver3h.py", "concurrent WSGI server: 3g's process model serving an app",
          ProcessModel.FORK, Forking(reaper=Reaper.WAITPID_ALL, restart_accept=True, survive_exhaustion=True,
                                     graceful_shutdown=True),
          backlog=1024, app=AppUse.REQUIRED, log_prefix="WSGIServer: "),
    # Beyond the text: the step every production server takes, fork once and serve many connections each.
    Stage("prefork", "", "pre-forked workers, each an event loop over keep-alive connections; "
                         "the master only supervises, reaping with 3g's loop",
          ProcessModel.PREFORK, Prefork(workers=2, keep_alive=True),
          backlog=1024, app=AppUse.REQUIRED, log_prefix="WSGIServer: "),
)

_BY_ALIAS = {alias: stage for stage in STAGES for alias in stage.aliases}


def find(name: str) -> Optional[Stage]:
    """The stage called `name` ('3d', 'webserver3d' or 'webserver3d.py'), or None."""
    name = name.strip()
    if name.endswith(".py"):
        name = name[: -len(".py")]
    return _BY_ALIAS.get(name)


def names(having: Optional[str] = None) -> str:
    """The stages' names; with `having`, only those whose property of that name is true ('sleeps')."""
    return ", ".join(stage.name for stage in STAGES if having is None or getattr(stage, having))

