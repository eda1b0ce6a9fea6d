"""The CLI's answers to wrong input: one line, the valid names, the documented exit status; and the
images a run asks for before it starts."""
import os
from pathlib import Path

import pytest

from commands.common import image_roles
from scenarios import catalog

ROOT = Path(__file__).resolve().parents[2]


def test_wrong_name_lists_the_valid_ones_and_exits_2(run_cli):
    result = run_cli("fd-exhaustoin")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "unknown scenario 'fd-exhaustoin'" in lines[0]
    for name in catalog.names():
        assert name in lines[0]


def test_no_name_asks_which_and_exits_2(run_cli):
    result = run_cli()
    assert result.returncode == 2
    assert "valid names: hello, frameworks" in result.stderr


def test_bad_sleep_scale_is_a_usage_error(run_cli):
    result = run_cli("hello", "--sleep-scale", "5")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["lbaws scenario: argument --sleep-scale: 5 is not in (0, 1]"]


def test_list_gives_every_scenario_a_summary_and_its_section(run_cli):
    result = run_cli("--list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2 * len(catalog.names())
    for name, (summary, section) in zip(catalog.names(), zip(lines[::2], lines[1::2])):
        assert summary.startswith(name + " ")
        assert section.strip().startswith(("text: Part ", "Beyond the text: "))


def test_missing_engine_is_one_line_and_non_zero(run_cli, tmp_path):
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    result = run_cli("hello", "--reports", str(tmp_path / "reports"), env=env)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lbaws scenario: the Docker engine does not answer")
    assert not (tmp_path / "reports").exists()


def test_rounds_on_a_scenario_that_is_not_racy_is_refused_in_one_line(run_cli):
    result = run_cli("zombies", "--rounds", "3")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lbaws scenario: --rounds applies only to a racy scenario (missed-signals); zombies is not one"]


def test_floods_chooses_the_six_scenarios_the_stress_command_runs():
    from commands.scenario import build_parser, chosen

    assert list(chosen(build_parser().parse_args(["--floods"]))) == [
        "fd-exhaustion", "nproc-exhaustion", "missed-signals", "waitpid-reaper", "pids-cgroup", "nproc-shared-uid"]


@pytest.mark.parametrize("args,message", [
    (("--all", "hello"), "give NAMEs or --all, not both"),
    (("--floods", "hello"), "give NAMEs or --floods, not both"),
    (("--floods", "--all"), "argument --all: not allowed with argument --floods"),
    (("hello", "nope", "--repeat", "2"), "unknown scenario 'nope'"),
    (("--all", "--jobs", "0"), "argument --jobs: '0' is not a whole number from 1 to 64"),
    (("hello", "--repeat", "0"), "argument --repeat: '0' is not a whole number from 1 to 1000"),
])
def test_wrong_runs_side_by_side_are_one_line_and_exit_2(run_cli, args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lbaws scenario: ") and message in lines[0]


@pytest.mark.parametrize("value", ["0", "three", "65"])
def test_a_wrong_lbaws_jobs_is_one_line_and_exit_2_before_the_engine_is_asked(run_cli, value, tmp_path):
    env = dict(os.environ, LBAWS_JOBS=value, DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    result = run_cli("hello", "zombies", env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"lbaws scenario: LBAWS_JOBS: {value!r} is not a whole number from 1 to 64"]


def test_trials_lists_each_trial_with_its_stage_and_what_only_the_lab_can_run(run_cli):
    result = run_cli("sigchld-eintr", "--trials")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["3e", "3e-py2", "3f-py2"]
    assert lines[1].endswith("lab's only (--python2-signals)") and "lab's only" not in lines[0]


SERVER_3G = str(ROOT / "tests" / "servers" / "webserver3g.py")


@pytest.mark.parametrize("args,message", [
    (("fd-exhaustion", "--server", "3x=" + SERVER_3G), "fd-exhaustion has no trial '3x'; its trials: 3d, 3g"),
    (("fd-exhaustion", "--server", SERVER_3G), f"--server takes TRIAL=PATH, not {SERVER_3G!r}"),
    (("sigchld-eintr", "--server", "3e-py2=" + SERVER_3G),
     "trial 3e-py2 keeps the lab's stage: it needs --python2-signals, which only the lab's server has"),
    (("fd-exhaustion", "--server", "3g=/nonexistent/webserver3g.py"), "/nonexistent/webserver3g.py: no such file"),
    (("--all", "--server", "3g=" + SERVER_3G), "--trials and --server go with one NAME, not --all"),
])
def test_a_server_the_trial_cannot_take_is_one_line_and_exit_2(run_cli, args, message):
    result = run_cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"lbaws scenario: {message}"]


@pytest.mark.parametrize("name,roles", [
    ("fd-exhaustion", {"server", "client"}),
    ("prefork-respawn", {"wsgi", "client"}),
    ("frameworks", {"flask", "pyramid", "django", "wsgi", "client"}),
])
def test_a_scenario_asks_for_the_images_its_containers_run(name, roles):
    assert image_roles([catalog.get(name)]) == roles


def test_the_images_of_a_role_come_with_the_images_they_build_on():
    from lab import images
    from lab.inventory import TAG

    assert images.needed(["server", "client"]) == {f"lbaws-lab/{n}:{TAG}" for n in ("runtime", "server", "client")}
    assert images.needed(["bench"]) == {f"lbaws-lab/{n}:{TAG}" for n in ("runtime", "server", "app-flask", "bench")}
    assert len(images.needed(image_roles(catalog.all_scenarios().values()))) == 7  # all but workbench, bench
