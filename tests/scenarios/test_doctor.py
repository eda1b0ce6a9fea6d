"""`lbaws doctor` and the preflight: facts from the engine's answers, and which scenarios each engine rules out.

engine/lab.json is this lab machine's `docker version` and `docker info` as recorded; the other engines
are it with the fields those engines set changed (rootless and userns-remap add a SecurityOptions entry,
rootless on cgroup v1 has PidsLimit false, Docker Desktop names itself in OperatingSystem).
"""
import copy
import json
import subprocess
from pathlib import Path

import pytest

from commands import common
from scenarios import catalog
from scenarios.executor import preflight as doctor
from scenarios.vocabulary.spec import Needs

RECORDED = json.loads((Path(__file__).resolve().parent / "engine" / "lab.json").read_text())
DAEMON = ("20000/20000", "96363/96363", False)
SOURCE = "host cgroup files under /sys/fs/cgroup/pids"


def facts(daemon=DAEMON, **changes):
    version, info = copy.deepcopy(RECORDED["version"]), copy.deepcopy(RECORDED["info"])
    for key, value in changes.items():
        (version if key == "Components" else info)[key] = value
    return doctor.from_engine(version, info, daemon, SOURCE)


def blocked(found):
    return {name: reasons for name, scenario in catalog.all_scenarios().items()
            if (reasons := doctor.blockers(scenario, found))}


def test_the_lab_machine_is_a_rootful_native_v1_engine_that_runs_everything():
    lab = facts()
    assert (lab.rootless, lab.userns_remap, lab.desktop, lab.cgroup_version, lab.cgroup_driver) == (
        False, False, False, "1", "cgroupfs")
    assert lab.engine == "Docker Engine 20.10.24+dfsg1 (API 1.41)" and lab.init == "0.19.0" and lab.pids_limit
    assert blocked(lab) == {}
    assert f"scenarios    all {len(catalog.all_scenarios())} can reproduce here" in doctor.report(lab, catalog.all_scenarios())


def test_rootless_on_cgroup_v1_cannot_run_pids_cgroup_for_two_reasons():
    rootless = facts(SecurityOptions=["name=seccomp,profile=default", "name=rootless"], PidsLimit=False)
    assert rootless.rootless and not rootless.pids_limit
    found = blocked(rootless)
    assert list(found) == ["pids-cgroup"]
    assert "applies no pids_limit" in found["pids-cgroup"][0] and "rootless" in found["pids-cgroup"][1]
    assert doctor.cannot_line("pids-cgroup", found["pids-cgroup"]).startswith(
        "pids-cgroup cannot reproduce on this engine: the engine applies no pids_limit")


def test_userns_remap_makes_root_an_ordinary_uid():
    remapped = facts(SecurityOptions=["name=seccomp,profile=default", "name=userns"])
    assert remapped.userns_remap and not remapped.rootless
    assert {name: len(reasons) for name, reasons in blocked(remapped).items()} == {"pids-cgroup": 1}


def test_an_engine_without_docker_init_cannot_run_the_init_trials():
    no_init = facts(Components=[c for c in RECORDED["version"]["Components"] if c["Name"] != "docker-init"])
    assert no_init.init == ""
    needing = {name for name, s in catalog.all_scenarios().items() if Needs.INIT in s.needs}
    assert set(blocked(no_init)) == needing == {"orphan-reaping", "pid1-signals"}


def test_docker_desktop_is_named_and_its_daemon_is_out_of_reach():
    daemon = doctor.daemon_limits(desktop=True)
    desktop = facts(daemon=daemon, OperatingSystem="Docker Desktop", Name="docker-desktop")
    assert desktop.desktop and desktop.daemon_nofile.startswith("unknown (the engine runs in Docker Desktop's VM")
    assert desktop.daemon_raises_limits is None and blocked(desktop) == {}
    assert doctor.pids_source(desktop=True).startswith("the engine's stats API")


def test_a_daemon_that_cannot_give_the_client_its_descriptors_blocks_everything():
    low = facts(daemon=("1024/4096", "4096/4096", False))
    assert len(blocked(low)) == len(catalog.names())
    assert facts(daemon=("1024/4096", "4096/4096", True)).daemon_raises_limits is True
    assert blocked(facts(daemon=("1024/4096", "4096/4096", True))) == {}


@pytest.mark.container
def test_lbaws_doctor_prints_this_machines_facts(run_cli):
    result = subprocess.run([run_cli.command[0], "doctor"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    filesystem = subprocess.run(["stat", "-fc", "%T", "/sys/fs/cgroup"], capture_output=True, text=True).stdout
    assert lines["cgroup"].startswith("v2" if filesystem.strip() == "cgroup2fs" else "v1")
    dockerd = subprocess.run(["pidof", "dockerd"], capture_output=True, text=True).stdout.split()
    if dockerd:  # a native engine on this host: its own limit, as /proc says it
        limits = Path(f"/proc/{dockerd[0]}/limits").read_text()
        soft, hard = next(line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files"))
        assert f"open files {soft}/{hard}" in lines["dockerd"]
    as_json = json.loads(subprocess.run([run_cli.command[0], "doctor", "--json"], capture_output=True, text=True,
                                        timeout=60).stdout)
    assert as_json["cannot_reproduce"] == {} and as_json["facts"]["cgroup_version"] in ("1", "2")


def test_a_scenario_the_engine_cannot_reproduce_ends_in_one_line(monkeypatch, tmp_path, capsys):
    from commands import scenario as command
    from scenarios.executor import runner

    rootless = facts(SecurityOptions=["name=seccomp,profile=default", "name=rootless"], PidsLimit=False)
    # The engine as a rootless one on cgroup v1 answers: nothing of the run may start.
    monkeypatch.setattr(common, "ready_engine", lambda out, roles=None: object())
    monkeypatch.setattr(doctor, "gather", lambda engine: rootless)
    monkeypatch.setattr(runner.ScenarioRunner, "__init__", lambda *a, **k: pytest.fail("a run started"))
    assert command.main(["pids-cgroup", "--reports", str(tmp_path)]) == 4
    out, err = capsys.readouterr()
    assert err.splitlines() == ["lbaws scenario: pids-cgroup cannot reproduce on this engine: the engine applies no "
                                "pids_limit (docker info: PidsLimit false; a rootless engine on cgroup v1 has no "
                                "cgroups); under a rootless engine, UID 0 in a container is an ordinary UID of the "
                                "host, which RLIMIT_NPROC binds like any other"]
    assert "rootless" in out.splitlines()[-1] and not (tmp_path / "pids-cgroup").exists()


def test_all_goes_on_past_a_scenario_the_engine_cannot_reproduce(monkeypatch, tmp_path, capsys):
    from commands import scenario as command
    from scenarios.executor import runner
    from scenarios.reports import report
    from scenarios.vocabulary.verdict import Judgment

    no_init = facts(Components=[c for c in RECORDED["version"]["Components"] if c["Name"] != "docker-init"])
    ran = []

    class Ran:
        def __init__(self, scenario, options, progress, engine=None, stop=None, slots=None):
            self.scenario, self.options, self.run_id = scenario, options, f"{scenario.name}-0"

        def run(self):
            ran.append(self.scenario.name)
            return runner.RunResult(self.scenario, self.run_id, Judgment.of(True, "x"),
                                    runner.Observations(), 0.0, 0.5, self.options)

    monkeypatch.setattr(common, "ready_engine", lambda out, roles=None: object())
    monkeypatch.setattr(doctor, "gather", lambda engine: no_init)
    monkeypatch.setattr(runner, "ScenarioRunner", Ran)
    monkeypatch.setattr(report, "write", lambda result, words, told=None: tmp_path)
    assert command.main(["--all", "--reports", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "orphan-reaping" not in ran and "pid1-signals" not in ran and len(ran) == len(catalog.names()) - 2
    assert [line.split(":")[1].split()[0] for line in err.splitlines()] == ["orphan-reaping", "pid1-signals"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {r["scenario"]: r["verdict"] for r in summary["scenarios"]}["pid1-signals"] == "NOT ON THIS ENGINE"
    assert any(line.endswith("; 2 cannot reproduce on this engine") for line in out.splitlines())
