"""`lbaws scenario --limits entrypoint`: no engine ulimit at all, the server's entrypoint (`lbaws limits`)
lowers its own nofile and nproc, and the experiments that need those limits reproduce the same way."""
from pathlib import Path

import pytest
from test_lockdown import engine, run, start_trial  # noqa: F401 (fixtures)
from test_scenarios import CHECKS, run_scenario

from scenarios import catalog
from scenarios.vocabulary import spec
from scenarios.executor.containers import RunContainers
from scenarios.vocabulary.spec import LimitsFrom


SERVERS = Path(__file__).resolve().parents[1] / "servers"
LIMITED = ("fd-exhaustion", "nproc-exhaustion", "zombies")


def test_the_wrapper_comes_first_and_the_engine_gets_no_ulimit():
    runs = RunContainers(engine=None, scenario="x", run_id="x-1", limits_from=LimitsFrom.ENTRYPOINT)
    server = spec.ServerSpec(stage="3d", limits=spec.Limits(nofile=256, nproc=400), shell_form=True)
    command, _ = runs.pid1_command(server, None)
    assert command == ["lbaws", "limits", "--nofile", "256", "--nproc", "400", "--",
                       "/bin/sh", "-c", "lbaws serve 3d --port 8888"]
    assert runs.ulimits(server) is None
    engine_set = RunContainers(engine=None, scenario="x", run_id="x-1")
    assert engine_set.pid1_command(server, None)[0][0] == "/bin/sh"
    assert [(u["Name"], u["Soft"], u["Hard"]) for u in engine_set.ulimits(server)] == [("nofile", 256, 256),
                                                                                       ("nproc", 400, 400)]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", LIMITED)
@pytest.mark.scenario
@pytest.mark.container
def test_reproduces_with_the_limits_from_the_entrypoint(run_cli, tmp_path, name):
    result, report = run_scenario(run_cli, tmp_path, name, "--limits", "entrypoint")
    assert report["verdict"]["word"] == "REPRODUCED", report["verdict"]["observed"]
    assert result.returncode == 0
    CHECKS[name](report["verdict"]["numbers"])
    assert report["limits_set_by"]["from"] == "entrypoint"
    assert "lbaws limits" in report["limits_set_by"]["how"]
    for runs in report["observations"].values():
        for record in runs:  # read inside, from /proc/PID/limits of the server the wrapper became
            in_force = record["baseline"]["limits"]
            assert record["limits"]["set_by"] == "entrypoint"
            assert in_force["Max open files"] == [str(record["limits"]["nofile"])] * 2
            assert in_force["Max processes"] == [str(record["limits"]["nproc"])] * 2
    markdown = (tmp_path / name / "report.md").read_text()
    assert "Limits set by the server's entrypoint: no engine ulimit" in markdown
    nofile = catalog.get(name).trials[0].server.limits.nofile
    assert f"Max open files {nofile}/{nofile}" in markdown


@pytest.mark.scenario
@pytest.mark.container
def test_the_engine_sets_no_ulimit_and_pid_1_is_still_what_the_trial_states(run, engine):  # noqa: F811
    containers = run("fd-exhaustion")
    containers.limits_from = LimitsFrom.ENTRYPOINT
    limits = spec.Limits(nofile=256, nproc=300)
    cases = {
        "server-lab": (spec.ServerSpec(stage="3d", limits=limits), "lbaws"),
        # A reader's file runs behind the same wrapper: `python3 FILE` is what it execs.
        "server-file": (spec.ServerSpec(stage="3d", limits=limits, file=str(SERVERS / "webserver3d.py")), "python3"),
        # A shell-form CMD keeps the shell as PID 1, the server its child, both under the lowered limits.
        "server-sh": (spec.ServerSpec(stage="3d", limits=limits, shell_form=True), "sh"),
    }
    for alias, (server_spec, pid1) in cases.items():
        server, uid, probe, pid = start_trial(containers, server_spec, alias)
        attrs = engine.api.inspect_container(server.id)
        assert not attrs["HostConfig"]["Ulimits"], attrs["HostConfig"]["Ulimits"]
        assert attrs["Config"]["Cmd"][:7] == ["lbaws", "limits", "--nofile", "256", "--nproc", "300", "--"]
        assert attrs["HostConfig"]["PidsLimit"] == limits.pids_limit  # the cgroup's safety net stays
        assert probe.run("cat /proc/1/comm").stdout.strip() == pid1
        for each in {1, pid}:
            in_force = probe.run(f"cat /proc/{each}/limits").stdout
            assert "Max open files            256                  256" in in_force
            assert "Max processes             300                  300" in in_force
        server.remove(force=True)
