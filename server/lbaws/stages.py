"""Every stage of the tutorial in one table: its process model, its deliberate defects and its defaults."""

import enum
from dataclasses import dataclass
from typing import Optional

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


# The switches a typo must not turn into a default path: each field and the enum it has to be a member of.
_SWITCHES = {"model": ProcessModel, "handler": Handler, "app": AppUse, "reaper": Reaper}


@dataclass(frozen=True)
class Stage:
    name: str
    tutorial_file: str
    summary: str
    model: ProcessModel
    backlog: int
    sleep: float = 0.0
    handler: Handler = Handler.HTTP
    app: AppUse = AppUse.OPTIONAL
    # The lessons of part 3, as switches. Stages that fork always close the listening socket in the child.
    close_parent_copy: bool = True
    reaper: Reaper = Reaper.NONE
    restart_accept: bool = False
    # 3d's lesson ends with a traceback when descriptors or processes run out; the correct stage lives on.
    survive_exhaustion: bool = False
    # SIGTERM/SIGINT close the listener at once and let the responses in flight finish (up to --drain).
    graceful_shutdown: bool = False
    log_child_pid: bool = False
    log_client_count: bool = False
    log_prefix: str = ""
    # Beyond the text: a connection serves request after request (HTTP/1.1 persistent connections).
    keep_alive: bool = False
    # Pre-forked workers started by default, each importing the app itself (its failure is the worker's exit code).
    workers: int = 0

    def __post_init__(self):
        for field, kind in _SWITCHES.items():
            value = getattr(self, field)
            if not isinstance(value, kind):
                allowed = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
                raise TypeError(f"stage {self.name!r}: {field} must be one of {allowed}, not {value!r}")

    @property
    def multiprocess(self) -> bool:
        return self.model in (ProcessModel.FORK, ProcessModel.PREFORK)

    @property
    def has_sigchld_handler(self) -> bool:
        # The prefork master reaps with the same loop, but in its main loop: its SIGCHLD handler only records.
        return self.model is ProcessModel.FORK and self.reaper is not Reaper.NONE

    @property
    def aliases(self):
        if not self.tutorial_file:
            return (self.name,)
        return (self.name, self.tutorial_file[: -len(".py")])


STAGES = (
    Stage("1", "webserver1.py", "answers every connection with Hello, World!, whatever was sent",
          ProcessModel.ITERATIVE, backlog=1, handler=Handler.ANYTHING, app=AppUse.NONE),
    Stage("2", "webserver2.py", "iterative WSGI server for any MODULE:CALLABLE",
          ProcessModel.ITERATIVE, backlog=1, app=AppUse.REQUIRED, log_prefix="WSGIServer: "),
    Stage("3a", "webserver3a.py", "iterative server, one client at a time",
          ProcessModel.ITERATIVE, backlog=5),
    Stage("3b", "webserver3b.py", "iterative server that sleeps after each response: the next client waits",
          ProcessModel.ITERATIVE, backlog=5, sleep=60.0),
    Stage("3c", "webserver3c.py",
          "fork per connection, duplicate descriptors closed, child sleeps; never reaps",
          ProcessModel.FORK, backlog=5, sleep=60.0, log_child_pid=True),
    Stage("3d", "webserver3d.py",
          "fork per connection, parent keeps every client socket, never reaps: "
          "leaks descriptors, makes zombies",
          ProcessModel.FORK, backlog=5, close_parent_copy=False, log_client_count=True),
    Stage("3e", "webserver3e.py",
          "reaps with os.wait() in a SIGCHLD handler, one child per signal; accept() is not restarted",
          ProcessModel.FORK, backlog=5, sleep=3.0, reaper=Reaper.WAIT_ONE),
    Stage("3f", "webserver3f.py", "3e with accept() restarted on EINTR; still one reap per signal",
          ProcessModel.FORK, backlog=1024, reaper=Reaper.WAIT_ONE, restart_accept=True),
    Stage("3g", "webserver3g.py", "reaps every finished child with waitpid(-1, WNOHANG) in a loop",
          ProcessModel.FORK, backlog=1024, reaper=Reaper.WAITPID_ALL, restart_accept=True,
          survive_exhaustion=True, graceful_shutdown=True),
    Stage("3h", "webserver3h.py", "concurrent WSGI server: 3g's process model serving an app",
          ProcessModel.FORK, backlog=1024, app=AppUse.REQUIRED, reaper=Reaper.WAITPID_ALL,
          restart_accept=True, survive_exhaustion=True, graceful_shutdown=True, log_prefix="WSGIServer: "),
    # Beyond the text: the step every production server takes, fork once and serve many connections each.
    Stage("prefork", "", "pre-forked workers, each an event loop over keep-alive connections; "
                         "the master only supervises, reaping with 3g's loop",
          ProcessModel.PREFORK, backlog=1024, app=AppUse.REQUIRED, reaper=Reaper.WAITPID_ALL,
          restart_accept=True, survive_exhaustion=True, log_prefix="WSGIServer: ", keep_alive=True, workers=2),
)

_BY_ALIAS = {alias: stage for stage in STAGES for alias in stage.aliases}


def find(name: str) -> Optional[Stage]:
    """The stage called `name` ('3d', 'webserver3d' or 'webserver3d.py'), or None."""
    name = name.strip()
    if name.endswith(".py"):
        name = name[: -len(".py")]
    return _BY_ALIAS.get(name)


def names() -> str:
    return ", ".join(stage.name for stage in STAGES)


def names_with_sigchld_handler() -> str:
    """The stages whose SIGCHLD handler can interrupt accept(): the only ones --python2-signals changes."""
    return ", ".join(stage.name for stage in STAGES if stage.has_sigchld_handler)


def names_prefork() -> str:
    """The stages whose --workers means something."""
    return ", ".join(stage.name for stage in STAGES if stage.workers)
