"""The scenarios, in the order the text tells them. Each module exports SCENARIO."""
from importlib import import_module

MODULES = (
    "hello", "frameworks", "iterative_blocking", "concurrent_fork", "served_at_once", "client_hang", "fd_exhaustion",
    "zombies", "nproc_exhaustion", "sigchld_eintr", "missed_signals", "waitpid_reaper", "concurrent_wsgi",
    "prefork_respawn", "prefork_hung_worker",
    # The same lessons inside a container: PID 1, the pids cgroup, a UID's nproc shared across containers.
    "orphan_reaping", "pid1_signals", "pids_cgroup", "nproc_shared_uid",
)


def all_scenarios() -> dict:
    found = {}
    for module in MODULES:
        scenario = import_module(f"{__name__}.{module}").SCENARIO
        found[scenario.name] = scenario
    return found


def names() -> list:
    return list(all_scenarios())


def get(name: str):
    return all_scenarios().get(name)
