"""Part 3's `ulimit -u` against the container's own limit: the pids cgroup binds root, nproc does not.

A reader's 3d runs in both trials. Its part is that fork() is refused in each, as 3d's zombies make it;
where that happens (the cgroup's limit for root, nproc for the UID) is the engine's, so a 3d refused in
both at the wrong count says nothing about the reader's server: ERROR.
"""
from scenarios.catalog.lessons import DIES, WAITS
from scenarios.catalog.fd_exhaustion import PATIENCE, RETRY, starved
from scenarios.catalog.nproc_exhaustion import children_at_death, fork_refused, refusal
from scenarios.judging.phrases import load_failure, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Limits, Load, Needs, Scenario, ServerSpec, Settle, Trial, Until, Watch
from scenarios.vocabulary.verdict import Judgment

PIDS = 200
NPROC = 100
# One set of limits for both trials: root ignores the nproc that stops the other UID. (Not `ulimit -u
# unlimited`: an engine without CAP_SYS_RESOURCE, as on the lab's own machine, cannot raise it.)
LIMITS = Limits(nofile=1024, nproc=NPROC, pids=PIDS)
# At 100 connections a second the host, reading the cgroup every 50 ms, sees it within a few of its peak.
LOAD = Load(clients=300, hold=5, deadline=PATIENCE, connect_timeout=RETRY, connect_patience=PATIENCE, rate=100)
ACTIONS = (LOAD, Settle(until=Until.EXITED, timeout=15))
# Processes of the container that are not 3d's (the probes docker exec starts while the count climbs),
# and what the host's last reading may lag behind: 194-197 of 200 were 3d's at its death on the lab's machine.
SLACK = 15


def fork_failed(record) -> bool:
    error = record.error_line()
    return record.died and "[Errno 11]" in error and record.died_in("fork")


def reading(record) -> dict:
    peak = record.pids_peak()
    # A reader's 3d prints what it likes: its sampled children count instead, except where the cgroup
    # fills and no probe can count inside (as root): there the count read from outside, less 3d itself,
    # is its children (and the probes of the moment). No more than the limit are 3d's: fork() stops there,
    # while a probe docker exec moves into the full cgroup is counted past it.
    held = min(peak.current, peak.limit) if peak.limit else peak.current
    children = held - 1 if record.server_file and record.uid == 0 else children_at_death(record)
    return {"uid": record.uid, "nproc": record.limits["nproc"], "children_at_death": children,
            "processes_at_death": children + 1, "pids_peak": peak.current, "pids_limit_read": peak.limit,
            "pids_refused": record.pids_refused(), "error": record.error_line(), "exit_code": record.exit_code}


def fate(record) -> str:
    """How a reader's 3d met the limit, whatever it prints."""
    refused = fork_refused(record)
    if refused and record.died:
        return f"died when fork() failed with {refusal(record)!r}"
    if refused:
        return f"had fork() fail ({refusal(record)!r}) and carried on"
    if record.died:
        return f"exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
    return "was still running at the end (fork() never refused)"


def ended(record) -> str:
    """How the lab's 3d ended: its fatal error, or still running (the load never brought it to its limit)."""
    return f"fork() failed with {record.error_line()!r}" if record.died else "3d was still running"


def loaded(record) -> str:
    failed = load_failure(record) if "load" in record.planned else ""
    return f" (its load client failed: {failed})" if failed else ""


def faults(record) -> list:
    """The lessons one trial of a reader's 3d shows."""
    if fork_refused(record):
        return []
    found = [DIES.key] if record.died else []
    try:
        piled = record.last_alive().zombies >= NPROC // 2
    except MissingResult:
        piled = True  # no sample to count: only the missing refusal is said
    return found + ([] if piled else [WAITS.key])


def yours(obs, root: dict, user: dict, root_counts: bool, user_counts: bool, numbers: dict) -> Judgment:
    """Both trials run the reader's 3d: each is judged by whether fork() was refused."""
    told = (f"root (UID 0, no capability, nproc={NPROC}): {who(obs['root'])} {fate(obs['root'])} with "
            f"{root['processes_at_death']} processes in its container{loaded(obs['root'])}; the pids cgroup, read "
            f"from outside ({obs['root'].pids_source}), peaked at {root['pids_peak']} of "
            f"{root['pids_limit_read']}. UID {user['uid']} with nproc={NPROC}: {who(obs['nproc'])} {fate(obs['nproc'])} with "
            f"{user['processes_at_death']} processes{loaded(obs['nproc'])}, the cgroup at {user['pids_peak']} of "
            f"{user['pids_limit_read']}. 3d, which never waits, passes nproc={NPROC} as root until the cgroup "
            f"stops it at {PIDS} processes; as a UID, nproc stops it at {NPROC}.")
    lessons = []
    for key in ("root", "nproc"):
        lessons += [fault for fault in faults(obs[key]) if fault not in lessons]
    if not lessons and not (root_counts and user_counts):
        return Judgment.error(f"your server's fork() was refused in both trials, as 3d's is, but not where this "
                              f"engine should refuse it (root past nproc, up to the cgroup's {PIDS}; the UID at "
                              f"nproc={NPROC}): that is the engine's doing (under userns-remap the container's root "
                              f"is an ordinary UID of the host), so this run says nothing about your server. {told}",
                              numbers)
    return Judgment.of(not lessons, told, numbers, lessons)


def judge(obs) -> Judgment:
    if any(obs[key].server_file for key in ("root", "nproc")):
        for key in ("root", "nproc"):
            if not obs[key].pids:
                # The watch is the lab's: a cgroup it never read is no fault of the reader's server.
                raise MissingResult(f"the lab's watch never read the pids cgroup of trial {key}'s container "
                                    f"({obs[key].pids_source or 'no watch'})")
    root, user = reading(obs["root"]), reading(obs["nproc"])
    # Root: past nproc, nothing but the cgroup stops it, so 3d and the probes fill it to the limit.
    root_held = (fork_failed(obs["root"]) and root["uid"] == 0 and root["pids_limit_read"] == PIDS
                 and NPROC < PIDS - SLACK <= root["processes_at_death"] <= PIDS and root["pids_peak"] > NPROC)
    # A UID of its own: nproc stops 3d at NPROC processes, with the cgroup far from full.
    user_held = (fork_failed(obs["nproc"]) and user["uid"] != 0 and user["processes_at_death"] <= NPROC
                 and user["pids_peak"] < PIDS - SLACK and user["pids_limit_read"] == PIDS)
    numbers = {"pids_limit": PIDS, "nproc": NPROC, "clients": LOAD.clients,
               **{f"root_{name}": value for name, value in root.items()},
               **{f"user_{name}": value for name, value in user.items()}}
    # Each trial's 3d reaches its limit only if that many connections reach its accept() (backlog 5).
    needs = (("root", root, PIDS - SLACK), ("nproc", user, NPROC - 1))
    busy = [f"trial {key}: {why}" for key, seen, needed in needs
            for why in (starved(obs[key], needed, seen["children_at_death"]),) if why]
    if obs["root"].server_file or obs["nproc"].server_file:
        root_counts = (root["uid"] == 0 and root["pids_limit_read"] == PIDS and root["pids_peak"] > NPROC
                       and NPROC < PIDS - SLACK <= root["processes_at_death"] <= PIDS)
        user_counts = user["processes_at_death"] <= NPROC and user["pids_peak"] < PIDS - SLACK
        judgment = yours(obs, root, user, root_counts, user_counts, numbers)
        if busy and not judgment.reproduced:
            return Judgment.busy(" ".join(busy), judgment.observed, numbers)
        return judgment
    observed = (f"root (UID 0, no capability, nproc={NPROC}): {ended(obs['root'])} with "
                f"{root['processes_at_death']} processes of 3d; the pids cgroup, read from outside "
                f"({obs['root'].pids_source}), peaked at {root['pids_peak']} of {root['pids_limit_read']}. "
                f"UID {user['uid']} with nproc={NPROC}: {ended(obs['nproc'])} with "
                f"{user['processes_at_death']} processes{loaded(obs['nproc'])}, the cgroup at {user['pids_peak']} of "
                f"{user['pids_limit_read']}.")
    if busy and not (root_held and user_held):
        return Judgment.busy(" ".join(busy), observed, numbers)
    return Judgment.of(reproduced=root_held and user_held, observed=observed, numbers=numbers)


SCENARIO = Scenario(
    name="pids-cgroup",
    section="Part 3: webserver3d.py's zombies against `ulimit -u`, and against the container's pids_limit",
    summary=f"3d as root passes nproc={NPROC} and dies of EAGAIN at pids_limit={PIDS}; as a UID, nproc bites first",
    prediction=(f"As root, with every capability dropped, 3d forks past nproc={NPROC} (root ignores it), yet "
                f"fork() fails with EAGAIN once its container holds pids_limit={PIDS} processes. As a non-root "
                f"UID under the same limits, fork() fails at {NPROC} processes, long before the cgroup is full."),
    why=("RLIMIT_NPROC counts a UID's processes and the host's root is exempt from it, capabilities or not; the pids "
         "cgroup counts the processes of the container, zombies included, whoever owns them, so it binds root "
         "too. Once it is full, docker exec cannot start anything in the container either, so its count is read "
         "from the host's cgroup files or the engine's stats API."),
    trials=(
        Trial("root", ServerSpec(stage="3d", limits=LIMITS, root=True), ACTIONS, watch=Watch.PIDS,
              title=f"UID 0, no capability, nproc {NPROC}, pids_limit {PIDS}"),
        Trial("nproc", ServerSpec(stage="3d", limits=LIMITS), ACTIONS, watch=Watch.PIDS,
              title=f"the run's own UID, nproc {NPROC}, pids_limit {PIDS}"),
    ),
    judge=judge,
    needs=(Needs.PIDS_LIMIT, Needs.HOST_ROOT),
    lessons=(WAITS, DIES),
    floods=True,
)
