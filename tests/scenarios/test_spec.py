"""The scenario vocabulary refuses a typo where it is written, not halfway through a run."""
import pytest

from scenarios import catalog
from scenarios.spec import (Curl, Grant, Limits, Scenario, ServerSpec, Settle, Snapshot, Trial, Until, Verdict,
                            Watch)


def test_a_mistyped_settle_condition_is_refused_naming_the_field_and_the_choices():
    with pytest.raises(TypeError, match=r"Settle.until must be one of Until.EXITED, Until.NO_LIVE_CHILDREN"):
        Settle(until="exitted")
    with pytest.raises(TypeError, match="Settle.until"):
        Settle(until="exited")  # the right word, but a string: the old default path took any string


def test_a_mistyped_watch_is_refused():
    with pytest.raises(TypeError, match=r"Trial.watch must be one of Watch.NOTHING, Watch.NOFILE, Watch.NPROC"):
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
        Scenario("x", "", "", "", "", (trial, trial), judge=lambda obs: Verdict(True, ""))


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
