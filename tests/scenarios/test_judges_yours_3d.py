"""The process judges (zombies, forks, nproc, the pids cgroup, PID 1's signals) on recorded observations
of a reader's file in a stage's place: what their server did beside what the lab's stage does, the
text's lesson named by key where it differs, each trial on its own, and the lab's own runs worded as
before."""
import dataclasses

import pytest

from scenarios.catalog import (concurrent_fork, iterative_blocking, nproc_exhaustion, nproc_shared_uid,
                               orphan_reaping, pid1_signals, pids_cgroup, zombies)
from scenarios.catalog.lessons import (DIES, HANDLES_SIGTERM, IGNORES_SIGTERM, NO_ANSWER, NO_FORK,
                                       NOT_KEPT_WAITING, ONE_AT_A_TIME, SLEEPS_FIRST, WAITS)
from scenarios.executor.cgroups import PidsReading
from scenarios.vocabulary.results import (CurlResult, CurlsResult, KillResult, LoadResult, Missing, Proc,
                                          SnapshotResult, StopResult)
from scenarios.executor.runner import judge
from scenarios.vocabulary.verdict import Verdict

from recorded import EAGAIN_TRACEBACK, EMFILE_TRACEBACK, load, observations, samples, trial
from recorded import fd_exhaustion as fd_exhaustion_obs
from scenarios.catalog import fd_exhaustion as fd_exhaustion_scenario

MINE = "/home/me/webserver3d.py"
KILLED = LoadResult("lbaws-client --max-clients 5", 137, None, 15.0, "open 3\nKilled")
UID = 42982


def one(status=200, body="Hello, World!", exit=0, ttfb=0.01, total=0.02, n=1):
    return CurlResult(n=n, exit=exit, status=status, ttfb_s=ttfb, total_s=total, body=body)


def curls(*each):
    return CurlsResult(curls=tuple(each), wall_s=0.1, exec_rc=0)


def assert_readable(verdict):
    assert "None" not in verdict.observed and "could not judge" not in verdict.observed, verdict.observed


# zombies: 5 requests, then ps and kill -9 on the zombies.

def zombie_trial(count=5, survivors=None, yours=True, load_result=None, died=False, before=None):
    pids = list(range(7, 7 + count))
    before = pids if before is None else before
    survivors = before if survivors is None else survivors
    kill = KillResult(zombies_before=tuple(before), kill_exit=0 if before else None, kill_stderr="",
                      zombies_after=tuple(survivors), survivors=tuple(survivors))
    return observations(trial("3d", "3d", server_file=MINE if yours else "", exit_code=1 if died else None,
                              results={"load": load_result or load(connected=5, responses=5),
                                       "zombies": SnapshotResult(children=tuple(Proc(p, 1, "Z", UID, "python3")
                                                                                for p in pids)),
                                       "kill": kill},
                              planned=("load", "pause", "zombies", "kill")))


def test_zombies_in_the_labs_own_run_reads_as_before():
    verdict = zombies.judge(zombie_trial(yours=False))
    assert verdict.reproduced
    assert verdict.observed == ("after 5 requests ps showed 5 processes in state Z (<defunct>) whose parent is the "
                                "server (PID 1); kill -9 on them exited 0 and 5 of 5 were still there a second later.")
    assert verdict.numbers["zombies"] == 5 and verdict.numbers["survived_kill_9"] == 5


def test_zombies_a_3d_that_never_waits_behaves_as_3d():
    verdict = zombies.judge(zombie_trial())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("your server (in 3d's place) left 5 zombies (processes in state Z whose "
                                       "parent it is) after 5 requests; kill -9 on them exited 0 and 5 of 5 were "
                                       "still there a second later.")
    assert "3d, which never waits, leaves one zombie per connection (5)" in verdict.observed


def test_zombies_a_3d_whose_client_opened_more_connections_is_judged_by_its_connections():
    obs = zombie_trial(count=10, load_result=load(connected=10, responses=10))
    verdict = zombies.judge(obs)
    assert verdict.reproduced
    assert "after 5 requests (10 connections)" in verdict.observed


def test_zombies_a_3d_that_waits_leaves_none_and_is_given_the_lesson():
    verdict = zombies.judge(zombie_trial(count=0))
    assert not verdict.reproduced and verdict.lessons == (WAITS.key,)
    assert verdict.observed.startswith("your server (in 3d's place) left 0 zombies (processes in state Z whose "
                                       "parent it is) after 5 requests; there was no zombie for kill -9: it waits")
    assert "3d, which never waits, leaves one zombie per connection (5), and kill -9 removes none" in verdict.observed
    assert_readable(verdict)


def test_zombies_a_3d_that_waits_for_some_of_them_later_is_told_kill_9_did_not_do_it():
    verdict = zombies.judge(zombie_trial(survivors=[7, 8]))
    assert not verdict.reproduced and verdict.lessons == (WAITS.key,)
    assert ("kill -9 on them exited 0 and 2 of 5 were still there a second later: the others were gone because "
            "your server waited for them meanwhile") in verdict.observed


def test_zombies_a_3d_that_died_is_told_with_its_exit_status():
    verdict = zombies.judge(zombie_trial(died=True))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "; it then exited with status 1 (no traceback)." in verdict.observed


def test_zombies_a_failed_load_client_is_said_and_the_zombies_still_judge():
    verdict = zombies.judge(zombie_trial(load_result=KILLED))
    assert verdict.reproduced
    assert ("after 5 requests (the load client failed: the load client printed no summary (exit 137): Killed)"
            in verdict.observed)
    assert verdict.numbers["load_client"].startswith("the load client printed no summary")
    nothing = zombies.judge(zombie_trial(count=0, load_result=KILLED))
    assert not nothing.reproduced and nothing.lessons == (NO_ANSWER.key,)
    lab = zombies.judge(zombie_trial(yours=False, load_result=KILLED))
    assert lab.observed.endswith("The load client failed (the load client printed no summary (exit 137): Killed).")


def test_zombies_a_snapshot_the_server_did_not_live_to_give_is_named_with_what_was_recorded():
    obs = zombie_trial()
    record = obs["3d"]
    record.results["zombies"] = Missing("the server had exited")
    record.exit_code = 1
    verdict = judge(zombies.SCENARIO, obs)
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert verdict.observed.startswith("the judge lacks a reading (3d: no 'zombies' result: the server had exited)")
    assert "What was recorded: your server (in 3d's place) exited with status 1" in verdict.observed


# nproc-exhaustion: 500 clients against nproc=400 and nofile=500.

def nproc_trial(yours=True, logs=EAGAIN_TRACEBACK, died=True, last=(1.2, 401, 2, 395), load_result=None):
    return observations(trial("3d", "3d", nofile=500, nproc=400, exit_code=1 if died else None, logs=logs,
                              server_file=MINE if yours else "",
                              samples=samples([(1.0, 300, 3, 290), last] + ([(1.4, None, 0, 0)] if died else [])),
                              results={"load": load_result or load(connected=500)}, planned=("load", "settle")))


def test_nproc_exhaustion_in_the_labs_own_run_reads_as_before():
    logs = "".join(f"{n}\n" for n in range(1, 400)) + EAGAIN_TRACEBACK
    verdict = nproc_exhaustion.judge(nproc_trial(yours=False, logs=logs))
    assert verdict.reproduced
    assert verdict.observed == ("fork() failed with 'BlockingIOError: [Errno 11] Resource temporarily unavailable' "
                                "after 399 children (zombies and live, all of UID 23456); with the server itself "
                                "that is 400 processes against nproc=400. The last sample before death saw 397 "
                                "children (395 zombies) and 401 open descriptors (nofile=500).")


def test_nproc_exhaustion_a_3d_that_dies_in_fork_behaves_as_3d_counted_by_its_samples():
    verdict = nproc_exhaustion.judge(nproc_trial())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("your server (in 3d's place) died (status 1) when fork() failed with "
                                       "'BlockingIOError: [Errno 11] Resource temporarily unavailable', the last "
                                       "sample before the end seeing 397 children (395 zombies, all of UID 23456): "
                                       "with the server itself 398 processes against nproc=400")
    assert "3d, which never waits, piles up zombies until fork() fails with EAGAIN" in verdict.observed
    assert verdict.numbers["children_at_death"] == 397


def test_nproc_exhaustion_a_c_3d_that_logs_the_refused_fork_and_carries_on_shows_the_lesson():
    verdict = nproc_exhaustion.judge(nproc_trial(logs="fork: Resource temporarily unavailable\n", died=False,
                                                 last=(2.0, 420, 0, 399)))
    assert verdict.reproduced and verdict.lessons == ()
    assert ("your server (in 3d's place) had fork() fail ('fork: Resource temporarily unavailable') and carried on, "
            "the last sample at the end seeing 399 children") in verdict.observed


def test_nproc_exhaustion_a_3d_that_waits_lives_on_and_is_given_the_lesson():
    verdict = nproc_exhaustion.judge(nproc_trial(logs="", died=False, last=(2.0, 6, 2, 0)))
    assert not verdict.reproduced and verdict.lessons == (WAITS.key,)
    assert ("your server (in 3d's place) was still running at the end, the last sample at the end seeing 2 children "
            "(0 zombies, all of UID 23456): with the server itself 3 processes against nproc=400, and 6 open "
            "descriptors (nofile=500): its zombies did not pile up, so it waits for its children. 3d") \
        in verdict.observed
    assert_readable(verdict)


def test_nproc_exhaustion_a_3d_that_waits_but_keeps_its_copies_dies_of_emfile_instead():
    verdict = nproc_exhaustion.judge(nproc_trial(logs=EMFILE_TRACEBACK, last=(1.2, 498, 3, 1)))
    assert not verdict.reproduced and verdict.lessons == (DIES.key, WAITS.key)
    assert ("your server (in 3d's place) exited with status 1 (OSError: [Errno 24] Too many open files), the last "
            "sample before the end seeing 4 children (1 zombie,") in verdict.observed


def test_nproc_exhaustion_a_failed_load_client_is_said_and_the_fork_still_judges():
    verdict = nproc_exhaustion.judge(nproc_trial(load_result=KILLED))
    assert verdict.reproduced
    assert "; the load client failed (the load client printed no summary (exit 137): Killed)" in verdict.observed
    assert verdict.numbers["load_client"].startswith("the load client printed no summary")


def test_nproc_exhaustion_no_sample_alive_is_named_with_what_was_recorded():
    obs = nproc_trial()
    obs["3d"].samples = samples([(1.0, None, 0, 0)])
    verdict = judge(nproc_exhaustion.SCENARIO, obs)
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert verdict.observed.startswith("the judge lacks a reading (3d: no sample saw the server alive")
    assert "What was recorded: your server (in 3d's place) exited with status 1" in verdict.observed


# pids-cgroup: a reader's 3d as root (past nproc, up to the cgroup) and as a UID (nproc first).

def pids_trial(key, uid, peak, last, yours=True, logs=EAGAIN_TRACEBACK, died=True, load_result=None, pids=True):
    readings = [PidsReading(t=1.0, current=4, limit=pids_cgroup.PIDS, refused=0),
                PidsReading(t=2.0, current=peak, limit=pids_cgroup.PIDS, refused=1 if key == "root" else 0)]
    return trial(key, "3d", nproc=pids_cgroup.NPROC, uid=uid, exit_code=1 if died else None, logs=logs,
                 pids=readings if pids else [], pids_source="host cgroup files (/sys/fs/cgroup/pids/docker/abc)",
                 server_file=MINE if yours else "",
                 samples=samples([(1.0, 50, 1, 40), last] + ([(1.7, None, 0, 0)] if died else [])),
                 results={"load": load_result or load(connected=300)}, planned=("load", "settle"))


def pids_obs(root=None, user=None, **both):
    return observations(root or pids_trial("root", 0, 200, (1.5, 150, 2, 150), **both),
                        user or pids_trial("nproc", UID, 106, (1.5, 101, 2, 97), **both))


def test_pids_cgroup_in_the_labs_own_run_reads_as_before():
    root = pids_trial("root", 0, 200, (1.5, 150, 2, 150), yours=False,
                      logs="".join(f"{n}\n" for n in range(1, 197)) + EAGAIN_TRACEBACK)
    user = pids_trial("nproc", UID, 106, (1.5, 101, 2, 97), yours=False,
                      logs="".join(f"{n}\n" for n in range(1, 100)) + EAGAIN_TRACEBACK)
    verdict = pids_cgroup.judge(observations(root, user))
    assert verdict.reproduced
    assert verdict.observed.startswith("root (UID 0, no capability, nproc=100): fork() failed with 'BlockingIOError: "
                                       "[Errno 11] Resource temporarily unavailable' with 197 processes of 3d;")
    assert "your server" not in verdict.observed


def test_pids_cgroup_a_3d_refused_in_both_trials_behaves_as_3d():
    verdict = pids_cgroup.judge(pids_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("root (UID 0, no capability, nproc=100): your server (in 3d's place) died when "
                                       "fork() failed with 'BlockingIOError: [Errno 11] Resource temporarily "
                                       "unavailable' with 200 processes in its container; the pids cgroup, read "
                                       "from outside (host cgroup files")
    assert ("UID 42982 with nproc=100: your server (in 3d's place) died when fork() failed with 'BlockingIOError: "
            "[Errno 11] Resource temporarily unavailable' with 100 processes, the cgroup at 106 of 200") \
        in verdict.observed
    assert verdict.observed.endswith("3d, which never waits, passes nproc=100 as root until the cgroup stops it at "
                                     "200 processes; as a UID, nproc stops it at 100.")


def test_pids_cgroup_a_3d_that_waits_is_refused_nowhere_and_is_given_the_lesson():
    verdict = pids_cgroup.judge(pids_obs(root=pids_trial("root", 0, 8, (1.5, 6, 2, 0), logs="", died=False),
                                         user=pids_trial("nproc", UID, 8, (1.5, 6, 2, 0), logs="", died=False)))
    assert not verdict.reproduced and verdict.lessons == (WAITS.key,)
    assert ("your server (in 3d's place) was still running at the end (fork() never refused) with 3 processes"
            in verdict.observed)
    assert_readable(verdict)


def test_pids_cgroup_each_trial_on_its_own_a_death_of_another_cause_in_one():
    user = pids_trial("nproc", UID, 106, (1.5, 101, 2, 97), logs=EMFILE_TRACEBACK)
    verdict = pids_cgroup.judge(pids_obs(user=user))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "root (UID 0, no capability, nproc=100): your server (in 3d's place) died when fork() failed" \
        in verdict.observed
    assert ("UID 42982 with nproc=100: your server (in 3d's place) exited with status 1 (OSError: [Errno 24] Too "
            "many open files) with 100 processes") in verdict.observed


def test_pids_cgroup_refused_where_the_engine_should_not_refuse_is_an_error_not_a_difference():
    # Under userns-remap the container's root is an ordinary UID of the host: nproc stops it at 100.
    root = pids_trial("root", 0, 101, (1.5, 101, 2, 97))
    root.pids = [PidsReading(t=2.0, current=101, limit=pids_cgroup.PIDS, refused=0)]
    verdict = pids_cgroup.judge(pids_obs(root=root))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("your server's fork() was refused in both trials, as 3d's is, but not where "
                                       "this engine should refuse it")


def test_pids_cgroup_a_failed_load_client_is_said_for_its_trial():
    verdict = pids_cgroup.judge(pids_obs(user=pids_trial("nproc", UID, 106, (1.5, 101, 2, 97), load_result=KILLED)))
    assert verdict.reproduced
    assert ("with 100 processes (its load client failed: the load client printed no summary (exit 137): Killed), "
            "the cgroup at 106 of 200") in verdict.observed


def test_pids_cgroup_the_labs_watch_missing_beside_a_readers_3d_is_an_error():
    verdict = judge(pids_cgroup.SCENARIO, pids_obs(root=pids_trial("root", 0, 200, (1.5, 150, 2, 150), pids=False)))
    assert verdict.verdict is Verdict.ERROR
    assert "the lab's watch never read the pids cgroup of trial root's container" in verdict.observed
    assert "What was recorded: your server (in 3d's place) exited with status 1" in verdict.observed


# nproc-shared-uid: a reader's 3g beside the lab's 3d neighbour, of the same UID and of another.

def shared_trial(key, same_uid, answered, logs="", died=False, yours=True, zombies=nproc_shared_uid.ZOMBIES):
    neighbour_uid = UID if same_uid else UID + 1
    hog = trial(f"{key}/neighbour", "3d", uid=neighbour_uid, results={
        "zombies": SnapshotResult(children=tuple(Proc(10 + n, 1, "Z", neighbour_uid, "lbaws")
                                                 for n in range(zombies)))})
    got = tuple(one(n=n, status=203, body="hi") if n <= answered else one(n=n, status=None, body="", exit=52)
                for n in range(1, nproc_shared_uid.CURLS + 1))
    return trial(key, "3g", uid=UID, neighbour=hog, results={"curl": CurlsResult(curls=got)}, logs=logs,
                 exit_code=1 if died else None, server_file=MINE.replace("3d", "3g") if yours else "")


REFUSED = "".join(f"cannot fork: Resource temporarily unavailable (client {n})\n" for n in range(5))


def test_nproc_shared_uid_in_the_labs_own_run_reads_as_before():
    logs = "fork() failed: [Errno 11] Resource temporarily unavailable; dropping 10.0.0.3:4000\n" * 5
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 0, logs, yours=False),
                                                  shared_trial("own", False, 5, yours=False)))
    assert verdict.reproduced
    assert verdict.observed == ("A 3d neighbour made 58 zombies as UID 42982. 3g in another container as the same "
                                "UID answered 0 of 5 curls, with 5 failed forks. With a UID of its own (42982, the "
                                "neighbour's 42983 with 58 zombies) it answered 5 of 5, with 0 failed forks.")


def test_nproc_shared_uid_a_3g_that_loses_answers_at_the_shared_nproc_behaves_as_3g_whatever_it_logs():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 1, REFUSED),
                                                  shared_trial("own", False, 5)))
    assert verdict.reproduced and verdict.lessons == ()
    assert ("Your server (in 3g's place), in another container as the same UID, answered 1 of 5 curls and logged 5 "
            "failed forks. With a UID of its own (42982, the neighbour's 42983 with 58 zombies) it answered 5 of 5 "
            "and logged no failed fork.") in verdict.observed
    assert verdict.observed.endswith("3g forks a child for every request, so with the shared UID at nproc=60 its "
                                     "fork() fails (the text's 3g dies of EAGAIN), and with a UID of its own it "
                                     "answers all 5.")
    assert verdict.numbers["shared_forks_failed"] == 5 and verdict.numbers["own_answered"] == 5


def test_nproc_shared_uid_a_3g_that_dies_of_eagain_as_the_texts_does_behaves_as_3g():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 0, EAGAIN_TRACEBACK, died=True),
                                                  shared_trial("own", False, 5)))
    assert verdict.reproduced
    assert ("answered 0 of 5 curls and logged 1 failed fork, then exited with status 1 (BlockingIOError: [Errno 11] "
            "Resource temporarily unavailable)") in verdict.observed


def test_nproc_shared_uid_a_server_that_answers_at_nproc_forks_no_process_per_client():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 5), shared_trial("own", False, 5)))
    assert not verdict.reproduced and verdict.lessons == (NO_FORK.key,)
    assert "It answered every curl with its UID at nproc=60: it forks no process per connection" in verdict.observed


@pytest.mark.parametrize("own,lesson,said", [
    (shared_trial("own", False, 2), NO_ANSWER, "it answered 2 of 5 and logged no failed fork."),
    (shared_trial("own", False, 1, EMFILE_TRACEBACK, died=True), DIES,
     "it answered 1 of 5 and logged no failed fork, then exited with status 1 (OSError: [Errno 24] Too many open "
     "files)."),
])
def test_nproc_shared_uid_a_3g_that_fails_with_its_own_uid_too_is_told_so(own, lesson, said):
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 0, REFUSED), own))
    assert not verdict.reproduced and verdict.lessons == (lesson.key,)
    assert said in verdict.observed
    assert_readable(verdict)


def test_nproc_shared_uid_a_neighbour_short_of_its_zombies_beside_a_good_3g_is_an_error():
    verdict = nproc_shared_uid.judge(observations(shared_trial("shared", True, 1, REFUSED, zombies=40),
                                                  shared_trial("own", False, 5, zombies=40)))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("The 3d neighbour was to make 58 zombies and made fewer (shared: 40, own: 40)")
    assert "That is this machine, too busy to deliver the flood in time, not the server" in verdict.observed


def test_nproc_shared_uid_a_neighbour_that_never_ran_beside_a_readers_3g_is_an_error():
    lone = dataclasses.replace(shared_trial("shared", True, 0, REFUSED), neighbour=None,
                               error="the neighbour never listened on port 8888")
    verdict = judge(nproc_shared_uid.SCENARIO, observations(lone, shared_trial("own", False, 5)))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("the lab's own trial beside your server gave no reading, so this run says "
                                       "nothing about your server: the judge lacks a reading (the lab's 3d "
                                       "neighbour beside trial shared: its neighbour server never ran")


# pid1-signals: a reader's 3g as PID 1 and under docker-init; the lab's 3g with its handler beside it.

def stop_trial(key, seconds, exit_code, yours=False, got=None):
    return trial(key, "3g", server_file=MINE.replace("3d", "3g") if yours else "",
                 results={"curl": curls(got or one()),
                          "stop": StopResult(timeout_s=3, seconds=seconds, exit_code=exit_code)},
                 planned=("curl", "stop"))


def signal_obs(no_handler=(3.21, 137), init=(0.16, 143), handler=(0.25, 0), got=None, yours=True):
    return observations(stop_trial("no-handler", *no_handler, yours=yours, got=got),
                        stop_trial("no-handler-init", *init, yours=yours, got=got),
                        stop_trial("handler", *handler), stop_trial("handler-sh", 3.28, 137))


def test_pid1_signals_in_the_labs_own_run_reads_as_before():
    verdict = pid1_signals.judge(signal_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed == ("no-handler: docker stop -t 3 took 3.21s, exit 137 (SIGKILL). no-handler-init: docker "
                                "stop -t 3 took 0.16s, exit 143. handler: docker stop -t 3 took 0.25s, exit 0. "
                                "handler-sh: docker stop -t 3 took 3.28s, exit 137 (SIGKILL).")


def test_pid1_signals_a_3g_without_a_handler_behaves_as_3g_whatever_it_answers():
    verdict = pid1_signals.judge(signal_obs(got=one(status=200, body="Howdy")))
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("no-handler: your server (in 3g's place), as PID 1, answered curl with status "
                                       "200 with 'Howdy'; docker stop -t 3 took 3.21s, exit 137 (SIGKILL): SIGTERM "
                                       "did nothing to it, as to the text's 3g, and the engine had to kill it.")
    assert ("no-handler-init: your server (in 3g's place), under docker-init, answered curl with status 200 with "
            "'Howdy'; docker stop -t 3 took 0.16s, exit 143: SIGTERM's default action ended it") in verdict.observed
    assert ("handler: against 3g, which handles SIGTERM, as PID 1, docker stop -t 3 took 0.25s, exit 0."
            in verdict.observed)
    assert verdict.numbers["no-handler_exit"] == 137 and verdict.numbers["no-handler-init_stop_s"] == 0.16


def test_pid1_signals_a_server_that_handles_sigterm_stops_at_once_and_is_told_why_that_differs():
    verdict = pid1_signals.judge(signal_obs(no_handler=(0.2, 0), init=(0.2, 0)))
    assert not verdict.reproduced and verdict.lessons == (HANDLES_SIGTERM.key,)
    assert ("docker stop -t 3 took 0.20s, exit 0: it stopped of its own accord, so it handles SIGTERM; as PID 1 the "
            "text's 3g, which has no handler, is killed after the grace period (137)") in verdict.observed
    assert "it handles SIGTERM itself, where the text's 3g dies of it (143)" in verdict.observed


def test_pid1_signals_a_server_that_ignores_sigterm_is_killed_even_under_docker_init():
    verdict = pid1_signals.judge(signal_obs(init=(3.2, 137)))
    assert not verdict.reproduced and verdict.lessons == (IGNORES_SIGTERM.key,)
    assert ("took 3.20s, exit 137 (SIGKILL): even SIGTERM passed on by docker-init did not end it, where it ends the "
            "text's 3g at once (143)") in verdict.observed


def test_pid1_signals_a_server_that_gave_curl_nothing_is_told_so():
    verdict = pid1_signals.judge(signal_obs(got=one(status=None, body="", exit=52)))
    assert not verdict.reproduced and verdict.lessons == (NO_ANSWER.key,)
    assert "no-handler: your server (in 3g's place), as PID 1, gave curl no response (exit 52)" in verdict.observed
    assert_readable(verdict)


def test_pid1_signals_the_labs_handler_trial_going_wrong_beside_a_good_3g_is_an_error():
    verdict = pid1_signals.judge(signal_obs(handler=(3.2, 137)))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("the lab's own 3g with its SIGTERM handler did not show its part")


def test_pid1_signals_a_stop_that_never_came_is_named_with_what_was_recorded():
    obs = signal_obs()
    obs["no-handler"].results["stop"] = Missing("docker stop failed: the container was gone")
    obs["no-handler"].exit_code = 1
    verdict = judge(pid1_signals.SCENARIO, obs)
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert verdict.observed.startswith("the judge lacks a reading (no-handler: no 'stop' result: docker stop failed")
    assert "What was recorded: your server (in 3g's place) exited with status 1" in verdict.observed


# iterative-blocking: two curls 0.5 s apart against 3b, which sleeps 60 s after each response.

def blocking_obs(first_ttfb=0.01, second_ttfb=59.52, yours=True, second=None, died=False):
    got = curls(one(ttfb=first_ttfb, total=60.0, body="Hi from 3b"),
                second or one(ttfb=second_ttfb, total=second_ttfb + 60, body="Hi from 3b", n=2))
    return observations(trial("3b", "3b", sleep=60.0, results={"curl": got}, server_file=MINE if yours else "",
                              exit_code=1 if died else None))


def test_iterative_blocking_in_the_labs_own_run_reads_as_before():
    verdict = iterative_blocking.judge(blocking_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed == ("against 3b the first curl got status 200 with 'Hi from 3b' after 0.01s; the second, "
                                "started 0.5s later, got its response 60.01s after the first one (server sleep 60s): "
                                "it waited in the listen queue for the whole sleep.")
    assert iterative_blocking.judge(blocking_obs(second_ttfb=0.02, yours=False)).observed.endswith(
        "(server sleep 60s): it did not wait for the sleep.")


def test_iterative_blocking_a_3b_that_keeps_the_second_client_waiting_behaves_as_3b():
    verdict = iterative_blocking.judge(blocking_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("against your server (in 3b's place) the first curl got status 200 with 'Hi "
                                       "from 3b' after 0.01s; the second, started 0.5s later, got its response "
                                       "60.01s after the first one")
    shorter = iterative_blocking.judge(blocking_obs(second_ttfb=9.6))
    assert shorter.reproduced
    assert "it waited in the listen queue while the first was handled, a shorter wait than 3b's 60s sleep" \
        in shorter.observed


def test_iterative_blocking_a_server_that_serves_both_at_once_is_given_3bs_lesson():
    verdict = iterative_blocking.judge(blocking_obs(second_ttfb=0.02))
    assert not verdict.reproduced and verdict.lessons == (NOT_KEPT_WAITING.key,)
    assert ("got its response 0.51s after the first one (server sleep 60s): it did not wait for the first one; 3b, "
            "which handles one client at a time and sleeps 60s after each response, makes it wait the whole sleep."
            ) in verdict.observed


def test_iterative_blocking_a_server_that_sleeps_before_answering_is_told_so():
    verdict = iterative_blocking.judge(blocking_obs(first_ttfb=60.0, second_ttfb=119.6))
    assert not verdict.reproduced and verdict.lessons == (SLEEPS_FIRST.key,)
    assert verdict.observed.endswith("; the first waited too, where 3b answers it at once and sleeps afterwards.")


@pytest.mark.parametrize("died,lesson,said", [
    (False, NO_ANSWER, "and no response (curl exits 0, 28): a response to both curls is needed to time them."),
    (True, DIES, "the server exited with status 1 (no traceback): a response to both curls"),
])
def test_iterative_blocking_a_second_curl_without_an_answer_is_told_so(died, lesson, said):
    verdict = iterative_blocking.judge(blocking_obs(second=one(status=None, body="", exit=28, ttfb=None, total=64,
                                                               n=2), died=died))
    assert not verdict.reproduced and verdict.lessons == (lesson.key,)
    assert said in verdict.observed
    assert_readable(verdict)


def test_iterative_blocking_a_curl_that_never_reported_is_named():
    obs = blocking_obs()
    obs["3b"].results["curl"] = curls(one())
    verdict = judge(iterative_blocking.SCENARIO, obs)
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert verdict.observed.startswith("the judge lacks a reading (3b: 1 of the 2 curls reported back). What was "
                                       "recorded: your server (in 3b's place) was still running at the end")


# concurrent-fork: 10 curls at once against 3c, whose children sleep 60 s.

def fork_obs(ttfbs=None, children=10, zombies=10, yours=True, died=False, statuses=None):
    ttfbs = ttfbs or [0.02 + n / 100 for n in range(10)]
    statuses = statuses or [200] * 10
    got = curls(*[one(status=s, body="Hi from 3c" if s else "", exit=28, ttfb=t if s else None, total=2.0, n=n)
                  for n, (t, s) in enumerate(zip(ttfbs, statuses))])
    snapshot = SnapshotResult(children=tuple(Proc(100 + n, 1, "S", UID, "python3") for n in range(children)))
    return observations(trial("3c", "3c", sleep=60.0, server_file=MINE if yours else "", exit_code=1 if died else None,
                              results={"curl": got, "children": snapshot},
                              samples=samples([(1.0, 14, children, 0), (62.0, 4, 0, zombies)]),
                              planned=("curl", "children", "settle")))


def test_concurrent_fork_in_the_labs_own_run_reads_as_before():
    verdict = concurrent_fork.judge(fork_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed == ("10/10 curls got a response from 3c, the slowest after 0.11s while each child sleeps "
                                "60s; the watch saw 10 live children at once whose parent is the server (PID 1); after the "
                                "sleeps, 10 zombies remain because 3c never waits for its children.")


def test_concurrent_fork_a_3c_with_a_child_per_client_behaves_as_3c_waiting_or_not():
    verdict = concurrent_fork.judge(fork_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed == ("10/10 curls got a response from your server (in 3c's place) (the first: status 200 "
                                "with 'Hi from 3c'), the slowest after 0.11s; the watch saw 10 live children at once whose parent "
                                "is the server (PID 1): a child each, as 3c forks them; after the sleeps 10 zombies "
                                "remained: it never waits for them, as 3c does not.")
    reaps = concurrent_fork.judge(fork_obs(zombies=0))
    assert reaps.reproduced
    assert reaps.observed.endswith("after the sleeps no zombie remained: it waits for its children, which 3c leaves "
                                   "to the text's 3e.")


def test_concurrent_fork_counts_the_children_a_sample_saw_when_the_snapshot_came_after_their_sleep():
    obs = fork_obs(yours=False, children=0)
    obs["3c"].samples = samples([(1.0, 14, 4, 0), (1.5, 14, 10, 0), (8.0, 4, 0, 10)])
    verdict = concurrent_fork.judge(obs)
    assert verdict.reproduced and verdict.numbers["children_seen"] == 10, verdict.observed


def test_concurrent_fork_a_server_that_serves_one_client_at_a_time_is_given_3bs_lesson():
    verdict = concurrent_fork.judge(fork_obs(ttfbs=[0.02] + [None] * 9, statuses=[200] + [None] * 9, children=1))
    assert not verdict.reproduced and verdict.lessons == (ONE_AT_A_TIME.key,)
    assert ("1/10 curls got a response from your server (in 3c's place) (the first: status 200 with 'Hi from 3c') "
            "within curl's --max-time of half the sleep (30s); the watch saw 1 live child at once") in verdict.observed
    assert ("it served the clients one after another; 3c, which forks a child per client and goes straight back to "
            "accept(), answers all 10 at once while each child sleeps 60s") in verdict.observed


def test_concurrent_fork_a_threaded_server_serves_them_together_without_children():
    verdict = concurrent_fork.judge(fork_obs(children=0, zombies=0))
    assert not verdict.reproduced and verdict.lessons == (NO_FORK.key,)
    assert "the watch saw 0 live children at once whose parent is the server (PID 1): it served them together but not with a " \
           "child each; 3c forks one per client, 10 children here" in verdict.observed


def test_concurrent_fork_a_3c_that_died_and_left_no_sample_alive_is_said_without_none():
    obs = fork_obs(died=True)
    obs["3c"].samples = samples([(1.0, None, 0, 0)])
    verdict = concurrent_fork.judge(obs)
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert verdict.observed.endswith("; it then exited with status 1 (no traceback).")
    assert_readable(verdict)


def test_concurrent_fork_a_snapshot_the_server_did_not_live_to_give_is_named():
    obs = fork_obs(died=True)
    obs["3c"].results["children"] = Missing("the server had exited")
    verdict = judge(concurrent_fork.SCENARIO, obs)
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert "What was recorded: your server (in 3c's place) exited with status 1" in verdict.observed


# orphan-reaping: every trial serves the lab's orphans app, so a reader's 3d or 3g never runs in it.

@pytest.mark.parametrize("stage", ["3d", "3g"])
def test_orphan_reaping_keeps_the_labs_stage_in_every_trial_of_a_check(stage, tmp_path):
    from pathlib import Path

    from lbaws import stages
    from scenarios.executor.substitute import substitute

    mine = tmp_path / f"webserver{stage}.py"
    mine.write_text("print('hi')\n")
    sub = substitute(orphan_reaping.SCENARIO, Path(mine), stages.find(stage))
    assert sub.yours == ()
    assert all("an app, which the text's" in why for why in sub.kept.values()) and sub.kept


def test_orphan_reaping_in_the_labs_own_run_reads_as_before():
    from test_judges_container import orphan_runs

    verdict = orphan_reaping.judge(orphan_runs())
    assert verdict.reproduced
    assert verdict.observed.startswith("5 requests, each leaving an orphan that exits 5s later. 3d: PID 1 is lbaws "
                                       "(the server is PID 1); 5 orphans were its children after the load; "
                                       "afterwards 5 orphan zombies of PID 1 and 5 zombies of the server's own.")


@pytest.mark.parametrize("words", ["accept: Too many open files",          # C's perror
                                   "accept tcp [::]:8888: accept4: too many open files",  # Go
                                   "Error: accept EMFILE"])                 # Node
def test_a_readers_server_that_runs_out_of_descriptors_in_accept_is_3d_whatever_its_words(words):
    obs = fd_exhaustion_obs()
    leaky = obs["3d"]
    # A server of its own shape: its own greeting, no bare counts, its error in its own language's words,
    # and a last sample (0.25 s apart) well short of the limit it reached.
    leaky.server_file, leaky.logs, leaky.errors = "mine/ (./srv)", "my C server\nserved 1\nserved 2\n", words + "\n"
    leaky.samples = samples([(0.5, 4, 0, 0), (1.0, 142, 0, 138), (1.3, None, 0, 0)])
    judgment = fd_exhaustion_scenario.judge(obs)
    assert judgment.reproduced, judgment.observed
    assert judgment.numbers["accepted"] == 252 and judgment.numbers["fds_at_death"] == 256
    assert judgment.numbers["peak_sampled_fds"] == 142


def test_a_readers_server_that_died_of_something_else_is_not_3d():
    obs = fd_exhaustion_obs()
    leaky = obs["3d"]
    leaky.server_file, leaky.logs, leaky.errors = "mine/ (./srv)", "served 1\n", "accept: Invalid argument\n"
    assert not fd_exhaustion_scenario.judge(obs).reproduced
