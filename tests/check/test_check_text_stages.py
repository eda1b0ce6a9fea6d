"""`lbaws check` on the text's own listings of part 3 (tests/servers/webserver3a.py .. 3f.py, as the text
prints them): each behaves as its stage in the one experiment that shows its lesson, with its profile
measured; 3a, which no experiment has a trial of, is refused in one line.

3b and 3c sleep the text's 60 s in a check (a reader's sleep is not scaled), so this module costs about
a minute and a half, its four checks two at a time (checking.run_all).
"""
import subprocess

import pytest

from checking import LBAWS, ROOT, SERVERS, out, prepared, row, run_all
from scenarios.profile import ONE_PROCESS, PER_CONNECTION

# name -> the `lbaws check` arguments after the file; each its stage's quickest lesson.
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
