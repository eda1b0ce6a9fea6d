"""`--client {lab,text,repository}`: the Load's pattern, its command line, and the CLI's answers."""
import pytest

from lbaws.client.command import build_parser
from scenarios import catalog
from scenarios.executor import actions
from scenarios.executor.variants import with_client
from scenarios.vocabulary.spec import ClientPattern, Load, Scaled

URL = "http://server-3d:8888/hello"


def test_a_mistyped_pattern_is_refused_naming_the_choices():
    with pytest.raises(TypeError, match=r"Load.pattern must be one of ClientPattern.LAB, ClientPattern.TEXT, "
                                        r"ClientPattern.REPOSITORY"):
        Load(clients=3, pattern="text")


@pytest.mark.parametrize("load,conns", [
    (Load(clients=300), 1),
    (Load(clients=300, pattern=ClientPattern.TEXT), 66),      # 1024 each would pass the bound of 20000
    (Load(clients=5, pattern=ClientPattern.TEXT), 1024),      # the text's default, where it fits
    (Load(clients=1000, pattern=ClientPattern.TEXT), 20),
    (Load(clients=300, conns=2, pattern=ClientPattern.TEXT), 2),   # the scenario's own stands
    (Load(clients=300, conns=2, pattern=ClientPattern.REPOSITORY), 1),
])
def test_connections_per_client(load, conns):
    assert load.max_conns == conns
    assert load.clients * load.max_conns <= 20000


def test_the_lab_command_has_no_pattern_and_the_others_name_theirs():
    lab = actions.load_command(Load(clients=300, hold=Scaled(60)), URL, scale=0.1)
    assert "--pattern" not in lab and lab[lab.index("--hold") + 1] == "6.0"
    text = actions.load_command(Load(clients=300, hold=5, pattern=ClientPattern.TEXT), URL, scale=1.0)
    assert text[-2:] == ["--pattern", "text"]
    assert text[text.index("--max-conns") + 1] == "66" and "--hold" in text
    repo = actions.load_command(Load(clients=300, hold=5, pattern=ClientPattern.REPOSITORY), URL, scale=1.0)
    assert repo[-2:] == ["--pattern", "repository"]
    assert repo[repo.index("--max-conns") + 1] == "1" and "--hold" not in repo
    for command in (lab, text, repo):  # the client takes each as it is
        args = build_parser().parse_args(command[1:])
        assert args.max_clients * args.max_conns <= 20000


def test_every_load_of_a_scenario_gets_the_pattern_and_nothing_else_changes():
    scenario = catalog.get("fd-exhaustion")
    changed = with_client(scenario, "repository")
    assert sum(isinstance(a, Load) for trial in scenario.trials for a in trial.actions) >= 2  # 3d's and 3g's
    for before, after in zip(scenario.trials, changed.trials):
        assert len(before.actions) == len(after.actions)
        for old, new in zip(before.actions, after.actions):
            if isinstance(old, Load):
                assert new.pattern is ClientPattern.REPOSITORY and new.clients == old.clients
            else:
                assert new == old
    assert with_client(catalog.get("hello"), "text") is None


def test_every_catalog_load_plays_a_member_of_the_enum():
    loads = [action for scenario in catalog.all_scenarios().values() for trial in scenario.trials
             for action in trial.actions if isinstance(action, Load)]
    assert len(loads) >= 5  # fd-exhaustion, zombies, nproc-exhaustion, missed-signals, ... each run client3.py
    assert all(isinstance(load.pattern, ClientPattern) for load in loads)


def test_a_scenario_without_a_load_is_one_line_and_exit_2(run_cli):
    result = run_cli("hello", "--client", "text")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lbaws scenario: --client applies to a scenario that runs client3.py (fd-exhaustion, zombies, "
        "nproc-exhaustion, missed-signals, waitpid-reaper, orphan-reaping, pids-cgroup); hello does not"]


def test_an_unknown_client_is_a_usage_error(run_cli):
    result = run_cli("fd-exhaustion", "--client", "client4")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
