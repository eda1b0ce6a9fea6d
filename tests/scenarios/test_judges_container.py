"""The judges of the container's own lessons (PID 1, the pids cgroup, a shared nproc) on recorded observations.

The numbers are those of real runs on the lab's machine (reports/NAME/report.json), and each test then
moves one reading to where the lesson would not hold.
"""
import dataclasses

import pytest

from scenarios.catalog import nproc_shared_uid, orphan_reaping, pid1_signals, pids_cgroup
from scenarios.executor.cgroups import PidsReading
from scenarios.vocabulary.record import TrialRecord
from scenarios.vocabulary.results import CurlResult, CurlsResult, Proc, SnapshotResult, StopResult, TcpCounters
from scenarios.executor.runner import judge
from scenarios.vocabulary.verdict import Verdict

from recorded import EAGAIN_TRACEBACK, curl, load, observations, samples, trial

K = orphan_reaping.REQUESTS
UID = 42982


def procs(pid1, server_pid, orphans, own, orphan_state):
    """A container's ps: PID 1, the server under it (if it is not PID 1 itself), its zombie children, and
    the orphans (re-parented to PID 1) in the state given, or none when None."""
    found = [Proc(1, 0, "Ss", UID, pid1)]
    if server_pid != 1:
        found.append(Proc(server_pid, 1, "S", UID, "lbaws"))
    found += [Proc(20 + n, server_pid, "Z", UID, "lbaws") for n in range(own)]
    if orphan_state is not None:
        found += [Proc(40 + n, 1, orphan_state, UID, "orphan") for n in range(orphans)]
    return tuple(found)


def orphan_trial(key, pid1, server_pid, own, orphans_left):
    during = SnapshotResult(processes=procs(pid1, server_pid, K, own, "S"))
    after = SnapshotResult(processes=procs(pid1, server_pid, K, own, "Z" if orphans_left else None))
    return trial(key, "3g" if key == "3g" else "3d", server_pid=server_pid,
                 results={"during": during, "after": after})


def orphan_runs(sh_reaps=True):
    return observations(orphan_trial("3d", "lbaws", 1, K, True),
                        orphan_trial("3d-sh", "sh", 6, K, not sh_reaps),
                        orphan_trial("3d-init", "docker-init", 7, K, False),
                        orphan_trial("3g", "lbaws", 1, 0, False))


def test_orphan_reaping_counts_zombies_by_parent():
    verdict = orphan_reaping.judge(orphan_runs())
    assert verdict.reproduced
    n = verdict.numbers
    assert (n["3d_orphan_zombies_of_pid1"], n["3d_own_zombies_of_server"]) == (K, K)
    assert (n["3d-init_pid1"], n["3d-init_orphan_zombies_of_pid1"], n["3d-init_own_zombies_of_server"]) == (
        "docker-init", 0, K)
    assert n["3g_orphans_adopted"] == K


def test_orphan_reaping_notices_a_shell_that_leaves_the_orphans_zombies():
    verdict = orphan_reaping.judge(orphan_runs(sh_reaps=False))
    assert not verdict.reproduced and verdict.numbers["3d-sh_orphan_zombies_of_pid1"] == K


def test_orphan_reaping_needs_the_orphans_seen_under_pid1_first():
    obs = orphan_runs()
    obs["3g"].results["during"] = SnapshotResult(processes=procs("lbaws", 1, K, 0, None))
    assert not orphan_reaping.judge(obs).reproduced


def stop_trial(key, seconds, exit_code):
    return trial(key, "3g", results={"curl": curl(), "stop": StopResult(timeout_s=3, seconds=seconds,
                                                                        exit_code=exit_code)})


def signal_runs(**changes):
    measured = {"no-handler": (3.21, 137), "no-handler-init": (0.16, 143), "handler": (0.25, 0),
                "handler-sh": (3.28, 137), **changes}
    return observations(*[stop_trial(key, *value) for key, value in measured.items()])


def test_pid1_signals_reads_stop_seconds_and_exit_codes():
    verdict = pid1_signals.judge(signal_runs())
    assert verdict.reproduced
    assert verdict.numbers["no-handler_stop_s"] == 3.21 and verdict.numbers["no-handler-init_exit"] == 143


def test_pid1_signals_reads_a_handled_stop_by_its_exit_code_however_long_a_busy_host_took():
    # Seen beside a loaded suite: the lab's handler stopped its 3g (exit 0) only after 3.43 s.
    assert pid1_signals.judge(signal_runs(handler=(3.43, 0), **{"no-handler-init": (2.9, 143)})).reproduced


@pytest.mark.parametrize("key, value", [
    ("no-handler", (0.3, 143)),  # an engine whose PID 1 died of SIGTERM: not the lesson
    ("no-handler", (1.2, 137)),  # killed before the grace period was out: not docker stop's wait
    ("no-handler-init", (3.1, 137)),  # an init that did not pass SIGTERM on
    ("handler-sh", (0.2, 0)),  # a shell that execs its command, so the server is PID 1 after all
])
def test_pid1_signals_is_not_reproduced_when_one_stop_goes_the_other_way(key, value):
    assert not pid1_signals.judge(signal_runs(**{key: value})).reproduced


def pids_trial(key, uid, children, peak, refused):
    record = trial(key, "3d", nproc=pids_cgroup.NPROC, uid=uid, exit_code=1,
                   logs="".join(f"{n}\n" for n in range(1, children + 1)) + EAGAIN_TRACEBACK,
                   pids=[PidsReading(t=1.0, current=4, limit=pids_cgroup.PIDS, refused=0),
                         PidsReading(t=2.0, current=peak, limit=pids_cgroup.PIDS, refused=refused)],
                   pids_source="host cgroup files (/sys/fs/cgroup/pids/docker/abc)")
    return record


def test_pids_cgroup_root_passes_nproc_and_stops_at_the_cgroup():
    verdict = pids_cgroup.judge(observations(pids_trial("root", 0, 196, 200, 1), pids_trial("nproc", UID, 99, 106, 0)))
    assert verdict.reproduced
    n = verdict.numbers
    assert (n["root_processes_at_death"], n["root_pids_peak"], n["root_pids_refused"]) == (197, 200, 1)
    assert (n["user_processes_at_death"], n["user_pids_peak"]) == (100, 106)


def test_pids_cgroup_root_stopped_at_nproc_is_not_the_lesson():
    # Under userns-remap the container's root is an ordinary UID of the host: nproc stops it at 100.
    verdict = pids_cgroup.judge(observations(pids_trial("root", 0, 99, 103, 0), pids_trial("nproc", UID, 99, 106, 0)))
    assert not verdict.reproduced


def readers_pids_runs(root_peak):
    """A reader's 3d in both trials, the root one's cgroup peaking at root_peak, the UID's at 106."""
    root, user = pids_trial("root", 0, 0, root_peak, 1), pids_trial("nproc", UID, 0, 106, 0)
    user.samples = samples([(1.0, 50, 1, 40), (1.5, 101, 2, 97), (1.7, None, 0, 0)])
    for record in (root, user):
        record.server_file, record.logs = "/srv/webserver3d.py", EAGAIN_TRACEBACK
    return observations(root, user)


def test_pids_cgroup_with_a_readers_3d_counts_root_from_outside_and_the_uid_from_its_samples():
    # As measured with tests/servers/webserver3d.py: the cgroup peaked at 200 and 106, probes included.
    verdict = pids_cgroup.judge(readers_pids_runs(200))
    assert verdict.reproduced
    assert (verdict.numbers["root_processes_at_death"], verdict.numbers["user_processes_at_death"]) == (200, 100)


def test_a_readers_root_3d_is_counted_at_the_cgroups_limit_when_probes_pass_it():
    # Measured: 206 of 200. fork() stops at the limit, but docker exec moves its probe into the full cgroup.
    verdict = pids_cgroup.judge(readers_pids_runs(206))
    assert verdict.reproduced, verdict.observed
    assert (verdict.numbers["root_processes_at_death"], verdict.numbers["root_pids_peak"]) == (200, 206)


def test_pids_cgroup_never_read_is_named():
    root = pids_trial("root", 0, 196, 200, 1)
    root.pids, root.pids_source = [], "the engine's stats API"
    verdict = judge(pids_cgroup.SCENARIO, observations(root, pids_trial("nproc", UID, 99, 106, 0)))
    assert verdict.observed.startswith("the judge lacks a reading (root: the pids cgroup was never read (the "
                                       "engine's stats API)). What was recorded: root (3d) exited with status 1")


def shared_trial(key, same_uid, answered, fork_failures, died_in_fork=False):
    neighbour_uid = UID if same_uid else UID + 1
    hog = trial(f"{key}/neighbour", "3d", uid=neighbour_uid, results={
        "zombies": SnapshotResult(children=tuple(Proc(10 + n, 1, "Z", neighbour_uid, "lbaws")
                                                 for n in range(nproc_shared_uid.ZOMBIES)))})
    curls = tuple(CurlResult(n=n, exit=0 if n <= answered else 52, status=200 if n <= answered else None,
                             ttfb_s=0.01, total_s=0.02, body="Hello, World!" if n <= answered else "")
                  for n in range(1, nproc_shared_uid.CURLS + 1))
    logs = "".join("fork() failed: [Errno 11] Resource temporarily unavailable; dropping 10.0.0.3:4000\n"
                   for _ in range(fork_failures))
    record = trial(key, "3g", uid=UID, neighbour=hog, results={"curl": CurlsResult(curls=curls)},
                   logs=logs + (EAGAIN_TRACEBACK if died_in_fork else ""), exit_code=1 if died_in_fork else None)
    return record


def test_nproc_shared_uid_fails_the_neighbours_forks_only_with_the_same_uid():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 0, 5), shared_trial("own", False, 5, 0)))
    assert verdict.reproduced
    n = verdict.numbers
    assert (n["shared_forks_failed"], n["shared_answered"], n["own_answered"]) == (5, 0, 5)
    assert n["shared_uid"] == n["shared_neighbour_uid"] != n["own_neighbour_uid"]


def test_nproc_shared_uid_counts_the_texts_3g_dying_in_fork_as_a_failed_fork():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 0, 0, died_in_fork=True),
                                                  shared_trial("own", False, 5, 0)))
    assert verdict.reproduced and verdict.numbers["shared_forks_failed"] == 1


def test_nproc_shared_uid_without_its_neighbour_says_so():
    lone = shared_trial("shared", True, 0, 5)
    lone = dataclasses.replace(lone, neighbour=None, error="the server never listened on port 8888")
    verdict = judge(nproc_shared_uid.SCENARIO, observations(lone, shared_trial("own", False, 5, 0)))
    assert verdict.observed.startswith("the judge lacks a reading (shared: its neighbour server never ran: the "
                                       "server never listened on port 8888). What was recorded: shared (3g) ")


def test_a_neighbours_record_is_written_with_its_trials():
    record = shared_trial("shared", True, 0, 5)
    written = record.as_dict()
    assert written["neighbour"]["key"] == "shared/neighbour"
    assert written["neighbour"]["results"]["zombies"]["kind"] == "SnapshotResult"
    assert isinstance(record, TrialRecord)


def short_neighbour(record, zombies):
    """The 3d neighbour's load got only `zombies` of its connections to accept() (a busy machine)."""
    hog = record.neighbour
    hog.results["zombies"] = SnapshotResult(children=hog.results["zombies"].children[:zombies])
    return record


def test_nproc_shared_uid_with_a_neighbour_short_of_zombies_is_the_machines_error():
    verdict = nproc_shared_uid.judge(observations(short_neighbour(shared_trial("shared", True, 5, 0), 50),
                                                  shared_trial("own", False, 5, 0)))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("The 3d neighbour was to make 58 zombies and made fewer (shared: 50): its "
                                       "load did not get all its connections to accept() before the deadline. "
                                       "That is this machine")


def test_a_readers_server_that_never_forks_beside_a_short_neighbour_is_not_told_it_differs():
    """Another shape in 3g's place (answers every curl without forking): beside a full neighbour that is
    DIFFERS (it forks no process per connection); beside one the machine left short, nothing is said."""
    runs = [shared_trial("shared", True, 5, 0), shared_trial("own", False, 5, 0)]
    for record in runs:
        record.server_file = "/srv/selectors_webserver3g.py"
    assert nproc_shared_uid.judge(observations(*runs)).verdict is Verdict.NOT_REPRODUCED
    short_neighbour(runs[0], 40)
    assert nproc_shared_uid.judge(observations(*runs)).verdict is Verdict.ERROR


def test_pids_cgroup_whose_uid_trial_the_queue_starved_is_the_machines_error():
    # The UID's 3d got 80 of its 99 connections before the deadline: the backlog of 5 overflowed 120 times.
    user = pids_trial("nproc", UID, 80, 86, 0)
    user = dataclasses.replace(user, exit_code=None, logs="".join(f"{n}\n" for n in range(1, 81)),
                               baseline=SnapshotResult(fd_count=4, tcp=TcpCounters(0, 0, 0)),
                               final=SnapshotResult(fd_count=84, tcp=TcpCounters(80, 120, 120)),
                               results={"load": dataclasses.replace(
                                   load(connected=80, connections_attempted=300), pattern="lab")},
                               planned=("load", "settle"))
    verdict = pids_cgroup.judge(observations(pids_trial("root", 0, 196, 200, 1), user))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("trial nproc: only 80 of 300 connections reached accept(): the listen "
                                       "backlog of 5 overflowed 120 times")
    assert "UID 42982 with nproc=100: 3d was still running with 81 processes" in verdict.observed
