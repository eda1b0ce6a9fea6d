"""What every container a run starts must run under (lab.lockdown), read from the engine: the client and each
server's confinement as a run's report.json records it, or `docker inspect` of a running one."""
from lab import inventory, lockdown


def check_confined(confinement: dict, user, cap_add=(), root=False):
    # Root only where the data says so on purpose (pids-cgroup's root trial), and then with no capability.
    assert confinement["user"] == ("0" if root else str(user)) and (root or str(user) not in ("0", "root", ""))
    assert confinement["cap_drop"] == list(lockdown.CAP_DROP)
    assert confinement["cap_add"] == sorted(cap_add)
    assert confinement["security_opt"] == list(lockdown.SECURITY_OPT)
    assert confinement["read_only"] is True
    assert confinement["tmpfs"] == lockdown.TMPFS
    assert confinement["pids_limit"] > 0 and confinement["memory"] > 0
    assert not confinement["privileged"] and not confinement["published"]  # the run's own network only
    assert confinement["writable_mounts"] == []


def check_run_confined(report: dict, scenario):
    """Every container of a run as its report recorded it: the client, each trial's server and neighbour,
    with exactly the capabilities the scenario's data grants."""
    check_confined(report["client_confinement"], inventory.CLIENT_UID)
    trials = {trial.key: trial for trial in scenario.trials}
    assert set(report["observations"]) == set(trials)
    for key, runs in report["observations"].items():
        trial = trials[key]
        for record in runs:
            check_confined(record["confinement"], record["uid"], trial.server.cap_add, trial.server.root)
            if trial.neighbour is not None:
                neighbour = record["neighbour"]
                check_confined(neighbour["confinement"], neighbour["uid"], trial.neighbour.server.cap_add,
                               trial.neighbour.server.root)
