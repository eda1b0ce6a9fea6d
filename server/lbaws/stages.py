"""Every stage of the tutorial in one table: its process model, its deliberate defects and its defaults."""

from dataclasses import dataclass
from typing import Optional

ITERATIVE = "iterative"
FORK = "fork"

# Which SIGCHLD reaper a forking stage installs (None: the parent never reaps).
REAP_ONE_WITH_WAIT = "wait"
REAP_ALL_WITH_WAITPID = "waitpid"


@dataclass(frozen=True)
class Stage:
    name: str
    tutorial_file: str
    summary: str
    model: str
    backlog: int
    sleep: float = 0.0
    # The request handler: "anything" answers whatever arrives (part 1); otherwise the fixed
    # Hello, World! response when no app is given, the WSGI app when one is.
    handler: str = "http"
    app: str = "optional"  # "none", "optional" or "required"
    # The lessons of part 3, as switches. Stages that fork always close the listening socket in the child.
    close_parent_copy: bool = True
    reaper: Optional[str] = None
    restart_accept: bool = False
    # 3d's lesson ends with a traceback when descriptors or processes run out; the correct stage lives on.
    survive_exhaustion: bool = False
    log_child_pid: bool = False
    log_client_count: bool = False
    log_prefix: str = ""

    @property
    def multiprocess(self) -> bool:
        return self.model == FORK

    @property
    def aliases(self):
        return (self.name, self.tutorial_file[: -len(".py")])


STAGES = (
    Stage("1", "webserver1.py", "answers every connection with Hello, World!, whatever was sent",
          ITERATIVE, backlog=1, handler="anything", app="none"),
    Stage("2", "webserver2.py", "iterative WSGI server for any MODULE:CALLABLE",
          ITERATIVE, backlog=1, app="required", log_prefix="WSGIServer: "),
    Stage("3a", "webserver3a.py", "iterative server, one client at a time",
          ITERATIVE, backlog=5),
    Stage("3b", "webserver3b.py", "iterative server that sleeps after each response: the next client waits",
          ITERATIVE, backlog=5, sleep=60.0),
    Stage("3c", "webserver3c.py", "fork per connection, duplicate descriptors closed, child sleeps; never reaps",
          FORK, backlog=5, sleep=60.0, log_child_pid=True),
    Stage("3d", "webserver3d.py", "fork per connection, parent keeps every client socket, never reaps: "
          "leaks descriptors, makes zombies", FORK, backlog=5, close_parent_copy=False, log_client_count=True),
    Stage("3e", "webserver3e.py", "reaps with os.wait() in a SIGCHLD handler, one child per signal; "
          "accept() is not restarted", FORK, backlog=5, sleep=3.0, reaper=REAP_ONE_WITH_WAIT),
    Stage("3f", "webserver3f.py", "3e with accept() restarted on EINTR; still one reap per signal",
          FORK, backlog=1024, reaper=REAP_ONE_WITH_WAIT, restart_accept=True),
    Stage("3g", "webserver3g.py", "reaps every finished child with waitpid(-1, WNOHANG) in a loop",
          FORK, backlog=1024, reaper=REAP_ALL_WITH_WAITPID, restart_accept=True, survive_exhaustion=True),
    Stage("3h", "webserver3h.py", "concurrent WSGI server: 3g's process model serving an app",
          FORK, backlog=1024, app="required", reaper=REAP_ALL_WITH_WAITPID, restart_accept=True,
          survive_exhaustion=True, log_prefix="WSGIServer: "),
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
