"""The scenario vocabulary refuses a typo where it is written, not halfway through a run."""
import pytest

from scenarios import catalog
from scenarios.executor.containers import RunContainers
from scenarios.vocabulary.spec import (Curl, Grant, Limits, Load, Needs, Neighbour, Scenario, ServerSpec, Settle,
                                       Sigterm, Snapshot, Stop, Trial, Until, Watch)
from scenarios.vocabulary.verdict import Judgment


def test_a_mistyped_settle_condition_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(TypeError, match=r"Settle.until must be one of Until.EXITED, Until.NO_LIVE_CHILDREN"):
        Settle(until="exitted")
    with pytest.raises(TypeError, match="Settle.until"):
        Settle(until="exited")  # the right word, but a string: the old default path took any string


def test_a_mistyped_watch_is_refused():
    with pytest.raises(TypeError, match=r"Trial.watch must be one of Watch.NOTHING, Watch.NOFILE, Watch.NPROC, Watch."):
        Trial("3d", ServerSpec(stage="3d"), (Curl(),), watch="nofle")


def test_a_server_spec_names_a_real_stage_and_a_real_image_role():
    with pytest.raises(ValueError, match="'3z' is no stage"):
        ServerSpec(stage="3z")
    with pytest.raises(ValueError, match="'flsk' is no image role"):
        ServerSpec(stage="2", app="flaskapp:app", image="flsk")
    assert ServerSpec(stage="webserver3d").stage == "webserver3d"


def test_two_actions_of_a_trial_cannot_store_under_one_key():
    with pytest.raises(ValueError, match="same key"):
        Trial("3c", ServerSpec(stage="3c"), (Snapshot(), Snapshot()))
    with pytest.raises(TypeError, match="not an action"):
        Trial("3c", ServerSpec(stage="3c"), ("curl",))


def test_two_trials_of_a_scenario_cannot_share_a_key():
    trial = Trial("3d", ServerSpec(stage="3d"), (Curl(),))
    with pytest.raises(ValueError, match="share a key"):
        Scenario("x", "", "", "", "", (trial, trial), judge=lambda obs: Judgment.of(True, ""))


def test_every_catalog_switch_is_a_member_of_its_enum():
    for scenario in catalog.all_scenarios().values():
        for trial in scenario.trials:
            assert isinstance(trial.watch, Watch)
            assert isinstance(trial.server.limits, Limits)
            for action in trial.actions:
                if isinstance(action, Settle):
                    assert isinstance(action.until, Until)


def test_a_grant_names_a_docker_capability_and_says_why():
    with pytest.raises(ValueError):
        Grant("CAP_KILL", "Docker's names have no CAP_ prefix")
    with pytest.raises(ValueError):
        Grant("KILL", " ")
    with pytest.raises(TypeError):
        ServerSpec(stage="3d", grants=("KILL",))


def test_what_runs_as_pid1_is_data_of_the_server_spec():
    runs = RunContainers(engine=None, scenario="x", run_id="x-1")
    assert runs.pid1_command(ServerSpec(stage="3g"), None)[0] == ["lbaws", "serve", "3g", "--port", "8888"]
    shell, _ = runs.pid1_command(ServerSpec(stage="3d", app="orphans:app", image="wsgi", shell_form=True), None)
    assert shell == ["/bin/sh", "-c", "lbaws serve 3d orphans:app --port 8888"]
    bare, _ = runs.pid1_command(ServerSpec(stage="3g", sigterm=Sigterm.DEFAULT), None)
    assert bare[-1] == "--no-sigterm-handler"
    with pytest.raises(TypeError, match="ServerSpec.sigterm must be one of Sigterm.ANY"):
        ServerSpec(stage="3g", sigterm="default")


def test_a_trial_that_relies_on_the_labs_handler_or_an_app_keeps_the_labs_stage():
    assert ServerSpec(stage="3g", sigterm=Sigterm.HANDLED).lab_only_switches == [
        "a SIGTERM handler, which the text's files do not have"]
    assert ServerSpec(stage="3g", sigterm=Sigterm.DEFAULT, init=True, shell_form=True).lab_only_switches == []
    assert ServerSpec(stage="3d", app="orphans:app", image="wsgi").lab_only_switches == [
        "an app, which the text's webserver3d.py does not serve"]
    assert ServerSpec(stage="3h", app="wsgiapp:app", image="wsgi").lab_only_switches == []


def test_a_neighbour_and_a_pids_watch_are_checked_where_written():
    with pytest.raises(TypeError, match="not an action"):
        Neighbour(ServerSpec(stage="3d"), ("load",), same_uid=True)
    with pytest.raises(ValueError, match="needs Limits.pids stated"):
        Trial("3d", ServerSpec(stage="3d"), (Stop(),), watch=Watch.PIDS)
    with pytest.raises(TypeError, match="needs holds members of Needs"):
        Scenario("x", "", "", "", "", (), judge=lambda obs: Judgment.of(True, ""), needs=("init",))
    assert Trial("3g", ServerSpec(stage="3g"), (Curl(),),
                 neighbour=Neighbour(ServerSpec(stage="3d"), (Load(clients=2),), same_uid=True)).neighbour.same_uid
    assert all(isinstance(need, Needs) for s in catalog.all_scenarios().values() for need in s.needs)
