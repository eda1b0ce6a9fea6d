"""The judges on recorded observations of a reader's file in a stage's place: any response counts, the
sentences name "your server", each outcome names the text's fix, and each trial is judged on its own."""
import pytest

from scenarios.catalog import client_hang, fd_exhaustion, served_at_once, waitpid_reaper
from scenarios.catalog.lessons import DIES, KEEPS_COPY, NEVER_WAITS, ONE_AT_A_TIME, REAPS_ONE
from scenarios.vocabulary.results import CurlResult, CurlsResult, LoadResult, SnapshotResult
from scenarios.executor.runner import ScenarioRunner, judge
from scenarios.vocabulary.verdict import Verdict

from recorded import EMFILE_TRACEBACK, fd_exhaustion as fd_obs, load, observations, samples, trial

LISTENER = "lrwx------ 1 u u 64 Jan 1 00:00 3 -> socket:[100]"
CLIENT = "lrwx------ 1 u u 64 Jan 1 00:00 5 -> socket:[200]"
STDIO = "\n".join(f"lrwx------ 1 u u 64 Jan 1 00:00 {n} -> /dev/null" for n in range(3))
EPOLL = "lrwx------ 1 u u 64 Jan 1 00:00 4 -> anon_inode:[eventpoll]"


def fds(*lines):
    listing = "\n".join(lines)
    return SnapshotResult(fd_count=len(listing.splitlines()), fd_listing=listing)


def curl(status=200, body="Hello, World!", exit=0, ttfb=0.01, total=0.02):
    return CurlsResult(curls=(CurlResult(n=1, exit=exit, status=status, ttfb_s=ttfb, total_s=total, body=body),))


def hang_trial(key, yours=False, kept=False, **curl_fields):
    start = fds(STDIO, LISTENER, EPOLL)
    end = fds(STDIO, LISTENER, EPOLL, CLIENT) if kept else fds(STDIO, LISTENER, EPOLL)
    return trial(key, key, baseline=start, final=end, results={"curl": curl(**curl_fields)},
                 server_file="/home/me/server.py" if yours else "")


LAB_3D = dict(kept=True, exit=28, total=5.0)


@pytest.mark.parametrize("yours_3g,held", [
    (dict(body="<h1>hi</h1>", status=203), True),  # another body and status line, FIN sent: as 3g
    (dict(kept=True, exit=28, total=5.0), False),  # no length, copy kept: curl hangs
    (dict(kept=True, body="with a length"), False),  # a length lets curl finish; the kept socket shows
])
def test_client_hang_judges_the_copy_not_the_bytes(yours_3g, held):
    obs = observations(hang_trial("3d", **LAB_3D), hang_trial("3g", yours=True, **yours_3g))
    verdict = client_hang.judge(obs)
    assert verdict.reproduced is held
    assert verdict.observed.startswith("against your server (in 3g's place) curl got status ")
    assert "Against 3d, which keeps the parent's copy, curl got" in verdict.observed
    assert verdict.lessons == (() if held else (KEEPS_COPY.key,))
    assert "None" not in verdict.observed
    if not held and yours_3g.get("exit") != 28:
        assert "told curl its length (Content-Length)" in verdict.observed


def test_client_hang_in_the_labs_own_run_reads_as_the_stages():
    verdict = client_hang.judge(observations(hang_trial("3d", **LAB_3D), hang_trial("3g")))
    assert verdict.reproduced and verdict.observed.startswith("against 3d curl got status 200")
    assert "your server" not in verdict.observed and "which" not in verdict.observed


def test_client_hang_a_3d_file_that_closes_its_copy_differs_from_3d():
    verdict = client_hang.judge(observations(hang_trial("3d", yours=True), hang_trial("3g")))
    assert not verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.endswith("Your server does not keep the copy that is 3d's lesson.")


def test_fd_exhaustion_a_file_that_dies_of_emfile_in_3gs_place_is_told_it_keeps_copies():
    obs = fd_obs(fixed_died=True)
    obs["3g"].server_file, obs["3g"].logs = "/home/me/server.py", EMFILE_TRACEBACK
    verdict = fd_exhaustion.judge(obs)
    assert not verdict.reproduced and verdict.lessons == (KEEPS_COPY.key,)
    assert verdict.observed.startswith("Your server (in 3g's place) under the same limit died with status 1 "
                                       "(OSError: [Errno 24] Too many open files)")
    assert "None" not in verdict.observed and "answered curl" not in verdict.observed.split(". 3d")[0]


def test_fd_exhaustion_a_file_that_survives_with_any_body_behaves_as_3g():
    obs = fd_obs()
    obs["3g"].server_file = "/home/me/server.py"
    obs["3g"].results["curl"] = curl(body="something else", status=200)
    verdict = fd_exhaustion.judge(obs)
    assert verdict.reproduced and verdict.lessons == ()
    assert "answered curl with status 200 with 'something else'" in verdict.observed


def test_fd_exhaustion_a_failed_load_client_is_named_with_its_exit_and_last_line():
    obs = fd_obs()
    obs["3g"].results["load"] = LoadResult("lbaws-client", 137, None, 40.0, "connecting\nKilled")
    verdict = fd_exhaustion.judge(obs)
    assert "the load client printed no summary (exit 137): Killed" in verdict.observed
    assert verdict.numbers["3g_connected"] is None


def reaper_trial(key, clients, zombies, final_fds=4, load_result=None, yours=True, died=False):
    return trial(key, "3g", baseline=SnapshotResult(fd_count=4),
                 final=None if died else SnapshotResult(fd_count=final_fds),
                 exit_code=1 if died else None, logs=EMFILE_TRACEBACK if died else "",
                 samples=samples([(1.0, 40, 30, 0), (2.0, final_fds, 0, zombies)]),
                 results={"load": load_result or load(responses=clients)}, planned=("load", "settle", "after"),
                 server_file="/home/me/server.py" if yours else "")


KILLED = LoadResult("lbaws-client --max-clients 1000", 137, None, 60.0, "open 900\nKilled")


@pytest.mark.parametrize("small,large,lessons", [
    ((0, 4), (0, 4), ()),
    ((17, 4), (300, 4), (REAPS_ONE.key,)),
    ((128, 4), (1000, 4), (NEVER_WAITS.key,)),
    ((128, 132), (1000, 1004), (NEVER_WAITS.key, KEEPS_COPY.key)),
])
def test_waitpid_reaper_names_the_fault_each_trial_shows(small, large, lessons):
    obs = observations(reaper_trial("3g-128", 128, *small), reaper_trial("3g-1000", 1000, *large))
    verdict = waitpid_reaper.judge(obs)
    assert verdict.reproduced is (lessons == ())
    assert verdict.lessons == lessons
    assert verdict.observed.startswith(f"your server (in 3g's place), 128 clients: 128 responses, {small[0]} zombies")
    assert "leaves 0 zombies and returns to the descriptors it started with" in verdict.observed


def test_waitpid_reaper_keeps_the_128_client_trial_when_the_1000_client_load_client_is_killed():
    obs = observations(reaper_trial("3g-128", 128, 128, 132),
                       reaper_trial("3g-1000", 1000, 0, 4, load_result=KILLED))
    verdict = waitpid_reaper.judge(obs)
    assert not verdict.reproduced and "could not judge" not in verdict.observed
    assert verdict.lessons == (NEVER_WAITS.key, KEEPS_COPY.key)
    assert "1000 clients: the load client failed (the load client printed no summary (exit 137): Killed)" \
        in verdict.observed
    assert verdict.numbers["128_zombies_after"] == 128 and verdict.numbers["128_final_fds"] == 132
    assert verdict.numbers["1000_responses"] is None


def test_waitpid_reaper_a_server_that_died_is_told_so():
    obs = observations(reaper_trial("3g-128", 128, 0), reaper_trial("3g-1000", 1000, 0, died=True))
    verdict = waitpid_reaper.judge(obs)
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "the server exited with status 1 (OSError: [Errno 24] Too many open files)" in verdict.observed


def test_waitpid_reaper_in_the_labs_own_run_reads_as_3g():
    obs = observations(reaper_trial("3g-128", 128, 0, yours=False), reaper_trial("3g-1000", 1000, 0, yours=False))
    verdict = waitpid_reaper.judge(obs)
    assert verdict.reproduced and verdict.observed.startswith("3g, 128 clients: 128 responses, 0 zombies after")
    assert "your server" not in verdict.observed


def test_waitpid_reaper_a_load_the_machine_could_not_finish_in_time_is_an_error_said_as_the_machines():
    obs = observations(reaper_trial("3g-128", 128, 0, yours=False),
                       reaper_trial("3g-1000", 1000, 0, yours=False, load_result=load(responses=770)))
    verdict = waitpid_reaper.judge(obs)
    assert verdict.verdict is Verdict.ERROR and verdict.lessons == ()
    assert verdict.observed.startswith("The load ended before every client was answered (each may wait 30 s for "
                                       "its response, and the load 60 s for 128 clients or 150 s for 1000 "
                                       "clients), while 3g left no zombie")
    assert "That is this machine, too busy to deliver the flood in time, not the server" in verdict.observed
    assert "1000 clients: 770 responses, 0 zombies after" in verdict.observed


def silent_trial(key, ttfb, yours=False, status=200):
    return trial(key, key, results={"curl": curl(status=status, ttfb=ttfb, total=ttfb + 0.01)},
                 server_file="/home/me/server.py" if yours else "")


@pytest.mark.parametrize("ttfb,held", [(0.02, True), (3.6, False)])
def test_served_at_once_tells_a_server_that_waits_for_the_silent_client_its_3b_lesson(ttfb, held):
    obs = observations(silent_trial("3b", 3.6), silent_trial("3g", ttfb, yours=True))
    verdict = served_at_once.judge(obs)
    assert verdict.reproduced is held
    assert verdict.lessons == (() if held else (ONE_AT_A_TIME.key,))
    assert verdict.observed.startswith("against your server (in 3g's place) curl got status 200")
    assert ("Your server served one client at a time, as the text's 3b does." in verdict.observed) is not held


def test_served_at_once_needs_3b_to_make_curl_wait():
    verdict = served_at_once.judge(observations(silent_trial("3b", 0.02), silent_trial("3g", 0.02)))
    assert not verdict.reproduced and verdict.observed.startswith("against 3b curl got status 200")


def test_a_judge_that_names_a_lesson_its_scenario_does_not_list_is_an_error():
    bad = served_at_once.SCENARIO.__class__(**{**served_at_once.SCENARIO.__dict__, "lessons": ()})
    runner = ScenarioRunner.__new__(ScenarioRunner)
    runner.scenario = bad
    obs = observations(silent_trial("3b", 3.6), silent_trial("3g", 3.6, yours=True))
    verdict, error = runner.conclude_run(obs, "")
    assert verdict.verdict.name == "ERROR" and "does not list" in verdict.observed
    assert "Traceback" in error
    assert judge(served_at_once.SCENARIO, obs).lessons == (ONE_AT_A_TIME.key,)


def test_when_only_the_labs_own_trial_misses_its_part_the_check_says_error_not_differs():
    # Seen on a busy machine: the lab's 3d lost handshakes to its backlog of 5 and never reached EMFILE,
    # while the reader's server in 3g's place survived the load as 3g does.
    obs = fd_obs()
    obs["3g"].server_file = "/home/me/server.py"
    obs["3d"].exit_code, obs["3d"].logs, obs["3d"].final = None, "", SnapshotResult(fd_count=221)
    verdict = fd_exhaustion.judge(obs)
    assert verdict.verdict.name == "ERROR"
    assert verdict.observed.startswith("the lab's own 3d did not show its part this time")
    # The same readings in the lab's own run: the scenario did not reproduce.
    obs["3g"].server_file = ""
    assert fd_exhaustion.judge(obs).verdict.name == "NOT_REPRODUCED"
