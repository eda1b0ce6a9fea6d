"""`lbaws check --command CMD DIR` and `--image IMAGE`: servers in other languages, judged by the same
experiments. C ports of the text's 3d and 3g, written for these tests and compiled here with the host's
`gcc -static`; a shell-script server in an image built from the lab's server image (languages.py)."""
import json
from pathlib import Path

import pytest

from scenarios.catalog.lessons import KEEPS_COPY

# The C ports run every experiment of their stage, the floods among them, so their checks share
# test_check.py's pool (flood_checks.py), on one xdist worker.
pytestmark = [pytest.mark.container, pytest.mark.flood, pytest.mark.xdist_group("flood-checks")]


@pytest.fixture
def checked(flood_checks):
    return flood_checks


@pytest.mark.timeout(1800)
def test_a_c_port_of_3g_behaves_as_3g(checked):
    run = checked["c3g"]
    assert run.process.returncode == 0, run.out()
    assert set(run.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3G"}
    report = json.loads(Path(run.row("client-hang")["report"]).read_text())
    assert report["observations"]["3g"][0]["server_file"] == "c3g/ (./webserver3g)"


def test_a_c_port_of_3d_behaves_as_3d(checked):
    run = checked["c3d"]
    assert run.process.returncode == 0, run.out()
    assert set(run.verdicts().values()) == {"BEHAVES AS THE TEXT'S 3D"}
    assert "accept: [Errno 24] Too many open files" in run.row("fd-exhaustion")["observed"]


def test_the_c_3d_in_3gs_place_differs_with_the_fault_and_the_fix(checked):
    run = checked["c3d-as-3g"]
    assert run.process.returncode == 1, run.out()
    assert run.verdicts()["client-hang"] == "DIFFERS"
    observed = run.row("client-hang")["observed"]
    assert observed.startswith("against your server (in 3g's place) curl got status 200 with 'Hello, World!'")
    assert "then hung until its own --max-time 5" in observed and "1 client connection it never closed" in observed
    assert run.row("client-hang")["fix"] == [KEEPS_COPY.fix]


def test_a_shell_script_server_in_its_own_image_behaves_as_the_texts_first_server(checked):
    run = checked["shell"]
    assert run.process.returncode == 0, run.out()
    assert run.verdicts() == {"starts": "BEHAVES AS THE TEXT'S 1", "hello": "BEHAVES AS THE TEXT'S 1"}
    assert "'Hello from a shell script!'" in run.row("hello")["observed"]
    assert run.summary["file"].startswith("image lbaws-test-shell-server:")
