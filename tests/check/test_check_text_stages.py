"""`lbaws check` on the text's own listings of part 3 (tests/servers/webserver3a.py .. 3f.py, as the text
prints them): each behaves as its stage in the one experiment that shows its lesson, with its profile
measured; 3a, which no experiment has a trial of, is refused in one line.

3b and 3c sleep the text's 60 s in a check (a reader's sleep is not scaled), and 3b's profile waits out
that sleep once more: this module costs about three minutes, its four checks two at a time
(checking.run_all), 3b's the longest (about two).
"""
import subprocess

import pytest

from checking import LBAWS, ROOT, SERVERS, out, prepared, run_all
from scenarios.judging.profile import FORKING, ONE_PROCESS, PER_CONNECTION

# name -> the `lbaws check` arguments after the file; each its stage's quickest lesson (3f's own:
# sigchld-eintr runs a reader's 3f in no trial, its 3f there needs the lab's Python 2 emulation).
STAGES = {
    "3b": ("webserver3b.py", "--scenario", "iterative-blocking"),
    "3c": ("webserver3c.py", "--scenario", "concurrent-fork"),
    "3e": ("webserver3e.py", "--scenario", "sigchld-eintr"),
    "3f": ("webserver3f.py", "--scenario", "missed-signals"),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    return run_all(prepared(STAGES, tmp_path_factory))


def test_the_texts_3a_is_refused_in_one_line_as_no_experiment_has_a_3a_trial():
    result = subprocess.run([LBAWS, "check", str(SERVERS / "webserver3a.py")], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("lbaws check: no experiment of the lab can run a stage-3a file"), line
    assert result.stdout == ""


def behaves(check, stage):
    assert check.process.returncode == 0, out(check)
    assert set(check.verdicts().values()) == {f"BEHAVES AS THE TEXT'S {stage.upper()}"}, out(check)
    return check.summary["profile"]


@pytest.mark.container
def test_the_texts_3b_serves_one_client_at_a_time_for_its_whole_sleep(checked):
    measured = behaves(checked["3b"], "3b")
    assert measured["model"] == ONE_PROCESS and measured["peak_processes"] == 1, measured
    # Its 60 s sleep after each response: the CRLF request sent after the text's own waits it out.
    assert (measured["answers_text_request"], measured["answers_crlf"]) == (True, False)
    assert measured["reaping"] == "nothing to reap: it forks no child per connection"
    assert "it waited in the listen queue for the whole sleep" in checked["3b"].observed("iterative-blocking")


@pytest.mark.container
def test_the_texts_3c_forks_a_child_each_and_is_not_told_its_sleeping_children_never_exit(checked):
    measured = behaves(checked["3c"], "3c")
    # Its children sleep 60 s after their response, so they are all still there when the profile
    # looks again: for 3c, whose text does the same, that is no difference.
    assert measured["model"] in FORKING and measured["peak_processes"] >= 17, measured
    assert (measured["answers_text_request"], measured["answers_crlf"]) == (True, True)
    assert "a child each, as 3c forks them; after the sleeps 10 zombies remained: it never waits for them, as " \
           "3c does not" in checked["3c"].observed("concurrent-fork")


@pytest.mark.container
def test_the_texts_3e_reaps_one_child_per_signal_and_its_accept_comes_back_under_python_3(checked):
    measured = behaves(checked["3e"], "3e")
    assert measured["model"] == PER_CONNECTION and measured["sigchld"] == "caught", measured
    # Whether 16 children ending together coalesce their SIGCHLDs is a race: the profile may see none missed.
    assert measured["reaping"].startswith("reaps in its SIGCHLD handler"), measured
    said = checked["3e"].observed("sigchld-eintr")
    assert "accept() came back after the SIGCHLD; it left no zombie" in said, said


@pytest.mark.container
def test_the_texts_3f_leaves_zombies_when_signals_coalesce(checked):
    measured = behaves(checked["3f"], "3f")
    assert measured["model"] == PER_CONNECTION and measured["sigchld"] == "caught", measured
    assert measured["reaping"].startswith("reaps in its SIGCHLD handler"), measured  # the race: see 3e
    said = checked["3f"].observed("missed-signals")
    assert said.startswith("your server (in 3f's place), 5 runs of 128 simultaneous clients: zombies remained "
                           "after "), said
