"""The judges on recorded observations: the thresholds and readings that decide a verdict."""
import pytest

from scenarios.catalog import (client_hang, fd_exhaustion, iterative_blocking, missed_signals, nproc_exhaustion,
                               zombies)
from scenarios.vocabulary.results import CurlsResult, KillResult, Missing, MissingResult, Proc, SnapshotResult
from scenarios.executor.runner import judge
from scenarios.vocabulary.spec import Curl, Scaled, Scenario, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment, Verdict

from recorded import EAGAIN_TRACEBACK, EMFILE_TRACEBACK, curl, fd_exhaustion as fd_obs, load, observations, one_curl, samples, trial


def test_fd_exhaustion_counts_what_3d_accepted_and_the_descriptors_at_death():
    verdict = fd_exhaustion.judge(fd_obs(accepted=252))
    assert verdict.reproduced
    assert verdict.numbers["accepted"] == 252
    assert verdict.numbers["fds_at_death"] == 256
    assert verdict.numbers["error"] == "OSError: [Errno 24] Too many open files"
    assert verdict.numbers["peak_sampled_fds"] == 250


def test_fd_exhaustion_is_not_reproduced_when_3d_dies_of_something_else():
    assert not fd_exhaustion.judge(fd_obs(error_traceback=EAGAIN_TRACEBACK)).reproduced


def test_fd_exhaustion_needs_the_fix_to_survive():
    verdict = fd_exhaustion.judge(fd_obs(fixed_died=True))
    assert not verdict.reproduced
    assert verdict.numbers["3g_survived"] is False


def test_nproc_exhaustion_reports_the_children_3d_had_when_fork_failed():
    record = trial("3d", "3d", nofile=500, nproc=400, exit_code=1,
                   logs="".join(f"{n}\n" for n in range(1, 400)) + EAGAIN_TRACEBACK,
                   samples=samples([(1.0, 300, 3, 290), (1.2, 401, 2, 395), (1.4, None, 0, 0)]))
    verdict = nproc_exhaustion.judge(observations(record))
    assert verdict.reproduced
    assert verdict.numbers["children_at_death"] == 399
    assert verdict.numbers["last_sample_children"] == 397


def test_missed_signals_rate_is_judged_against_the_threshold_stated_up_front():
    def runs(zombie_counts):
        return observations(*[
            trial("3f", "3f", samples=samples([(1.0, 4, 0, z)]), results={"load": load(responses=128)})
            for z in zombie_counts])

    hit = missed_signals.judge(runs([3, 0, 5, 0, 2]))
    assert hit.reproduced and hit.numbers["rate"] == 0.6 and hit.numbers["zombies_per_run"] == [3, 0, 5, 0, 2]
    assert not missed_signals.judge(runs([0, 0, 1, 0, 0])).reproduced


def test_zombies_must_survive_kill_9_to_reproduce():
    def obs(survivors):
        return observations(trial("3d", "3d", results={
            "zombies": SnapshotResult(children=tuple(Proc(p, 1, "Z", 23456, "lbaws") for p in range(7, 12))),
            "kill": KillResult(zombies_before=tuple(range(7, 12)), kill_exit=0, kill_stderr="",
                               zombies_after=tuple(survivors), survivors=tuple(survivors))}))

    assert zombies.judge(obs(list(range(7, 12)))).reproduced
    assert not zombies.judge(obs([7, 8])).reproduced


def test_iterative_blocking_measures_the_delay_between_the_two_responses():
    def obs(second_ttfb):
        curls = CurlsResult(curls=(one_curl(ttfb=0.01), one_curl(ttfb=second_ttfb, n=2)))
        return observations(trial("3b", "3b", sleep=6.0, results={"curl": curls}))

    waited = iterative_blocking.judge(obs(5.52))
    assert waited.reproduced and waited.numbers["delay_between_responses_s"] == 6.01
    assert not iterative_blocking.judge(obs(0.05)).reproduced


def test_scaled_sleeps_keep_a_floor_and_add_their_margin():
    assert Scaled(60).resolve(1.0) == 60
    assert Scaled(60).resolve(0.1) == 6
    assert Scaled(3).resolve(0.1) == 1.0
    assert Scaled(60, plus=4).resolve(0.1) == 10


def test_a_c_server_that_died_is_read_by_what_it_wrote_to_stderr_not_its_buffered_counts():
    # C buffers stdout to a pipe and flushes it at exit(): the counts land after the error in the merged log.
    counts = "".join(f"{n}\n" for n in range(1, 253))
    died = trial("3d", "3d", exit_code=1, server_file="c3d/ (./webserver3d)",
                 logs="Serving HTTP on port 8888 ...\naccept: [Errno 24] Too many open files\n" + counts,
                 errors="accept: [Errno 24] Too many open files\n")
    assert died.error_line() == "accept: [Errno 24] Too many open files"
    assert died.died_in("accept") and not died.died_in("fork")
    assert died.counts_printed()[-1] == 252
    # With nothing on stderr, the last line it wrote at all is the best there is.
    quiet = trial("3d", "3d", exit_code=1, server_file="c3d/ (./webserver3d)", logs="Serving\nbye\n")
    assert quiet.error_line() == "bye"


def test_the_traceback_is_read_through_the_lines_children_wrote_into_it():
    interleaved = ("251\n252\nTraceback (most recent call last):\n  File \"/usr/lib/python3.11/socket.py\", "
                   "line 294, in accept\nGET /hello HTTP/1.1\nHost: server-3d:8888\n\n    fd, addr = "
                   "self._accept()\nOSError: [Errno 24] Too many open files\nGET /hello HTTP/1.1\n")
    record = trial("3d", "3d", logs=interleaved, exit_code=1)
    assert record.error_line() == "OSError: [Errno 24] Too many open files"
    assert record.traceback().splitlines()[1:3] == [
        '  File "/usr/lib/python3.11/socket.py", line 294, in accept', "    fd, addr = self._accept()"]
    assert record.counts_printed() == [251, 252]


def test_a_reading_the_experiment_never_produced_is_named_in_the_verdict():
    # 3d died of EMFILE before its curl ran: the judge cannot read a body, and says why.
    died = trial("3d", "3d", exit_code=1, logs=EMFILE_TRACEBACK, planned=("curl",))
    control = trial("3g", "3g", results={"curl": curl()})
    verdict = judge(client_hang.SCENARIO, observations(died, control))
    assert not verdict.reproduced
    assert verdict.observed.startswith("the judge lacks a reading (3d: no 'curl' result: the server had exited "
                                       "with status 1: OSError: [Errno 24] Too many open files). What was recorded: ")
    assert "3d exited with status 1 (OSError: [Errno 24] Too many open files)" in verdict.observed
    assert "3g was still running at the end" in verdict.observed and "could not judge" not in verdict.observed


def test_a_reading_missing_from_a_readers_trial_differs_and_from_the_labs_beside_it_is_error():
    died = trial("3d", "3d", exit_code=1, logs=EMFILE_TRACEBACK, planned=("curl",), server_file="/me/s.py")
    verdict = judge(client_hang.SCENARIO, observations(died, trial("3g", "3g", results={"curl": curl()})))
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert "What was recorded: your server (in 3d's place) exited with status 1" in verdict.observed
    lab_died = trial("3d", "3d", exit_code=1, logs=EMFILE_TRACEBACK, planned=("curl",))
    yours = trial("3g", "3g", results={"curl": curl()}, server_file="/me/s.py")
    verdict = judge(client_hang.SCENARIO, observations(lab_died, yours))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith("the lab's own trial beside your server gave no reading")
    assert "your server (in 3g's place) was still running at the end; 3d exited with status 1" in verdict.observed


def test_an_action_that_could_not_be_carried_out_says_why():
    gone = trial("3d", "3d", results={"kill": Missing("the server was no longer running"), "zombies": Missing("x")})
    verdict = judge(zombies.SCENARIO, observations(gone))
    assert verdict.observed == ("the judge lacks a reading (3d: no 'kill' result: the server was no longer running). "
                                "What was recorded: 3d was still running at the end.")


def test_a_judge_asking_for_an_action_the_trial_never_does_is_a_bug_and_raises():
    record = trial("3g", "3g", results={"curl": curl()})
    typo = Scenario("typo", "", "", "", "", (Trial("3g", ServerSpec(stage="3g"), (Curl(),)),),
                    judge=lambda obs: Judgment.of(obs["3g"].curl("crul").body == "x", ""))
    with pytest.raises(KeyError, match="no action with key 'crul'"):
        judge(typo, observations(record))
    wrong_trial = Scenario("typo", "", "", "", "", typo.trials, judge=lambda obs: Judgment.of(obs["3d"].died, ""))
    obs = observations(record)
    obs.planned = ("3g",)
    with pytest.raises(KeyError, match="no trial '3d'"):
        judge(wrong_trial, obs)


def test_a_judge_reading_a_result_as_the_wrong_kind_is_a_bug_and_raises():
    record = trial("3g", "3g", results={"curl": curl()})
    with pytest.raises(TypeError, match="is a CurlsResult, not a LoadResult"):
        record.load("curl")


def test_a_sample_of_a_live_server_is_needed_to_count_what_it_left():
    record = trial("3f", "3f", samples=samples([(1.0, None, 0, 0)]), error="the server never listened on port 8888")
    with pytest.raises(MissingResult, match="no sample saw the server alive .the server never listened"):
        record.last_alive()


def test_iterative_blocking_keeps_its_verdict_when_a_busy_shell_overshoots_the_gap():
    """The shell's `sleep 0.5` ran 0.8 s: the second's wait reads 0.3 s short of the sleep, still 3b's lesson;
    an answer at once (another shape of server, concurrent) still reads as not waiting."""
    def obs(first_ttfb, second_ttfb):
        curls = CurlsResult(curls=(one_curl(ttfb=first_ttfb), one_curl(ttfb=second_ttfb, n=2)))
        return observations(trial("3b", "3b", sleep=6.0, results={"curl": curls}))

    assert iterative_blocking.judge(obs(0.01, 5.21)).reproduced
    assert iterative_blocking.judge(obs(2.5, 7.7)).reproduced  # a slow first answer, still before the sleep
    assert not iterative_blocking.judge(obs(0.01, 0.05)).reproduced
