"""What the lab checks without an engine: failures as one line, the Makefile's Python check,
and compose.yaml and the wheelhouse agreeing with lab.inventory."""
import json
import os
import subprocess
import sys

import pytest

from lab import inventory, wheelhouse
from lab.compose import ComposeProject
from lab.paths import ROOT
from labhelp import project_env

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def test_connect_without_an_engine_raises_engine_missing(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE["DOCKER_HOST"])
    with pytest.raises(inventory.EngineMissing, match="the Docker engine does not answer"):
        inventory.connect(timeout=5)


@pytest.mark.parametrize("command", [["lab.status"], ["lab.clean"], ["lab.setup"], ["lab.setup", "images"],
                                     ["lab.images", "build"]])
def test_without_an_engine_each_command_fails_with_one_line(command):
    result = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env={**os.environ, **NO_ENGINE})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lab: the Docker engine does not answer")


def test_make_refuses_a_python_older_than_3_11_in_one_line(tmp_path):
    # Answers the Makefile the way a 3.10 interpreter would: the version test fails, -V names it.
    fake = tmp_path / "python3.10"
    fake.write_text('#!/bin/sh\ncase "$1" in -V|--version) echo "Python 3.10.14" ;; *) exit 1 ;; esac\n')
    fake.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), f"PYTHON={fake}", f"VENV={venv}",
                             f"{venv}/.installed"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs Python 3.11 or newer" in lines[0] and "Python 3.10.14" in lines[0]
    assert not venv.exists()


@pytest.mark.parametrize("target", ["scenario", "check", "images"])
def test_a_first_experiment_sets_up_the_harness_alone_and_no_browser(tmp_path, target):
    venv = tmp_path / "venv"
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-C", str(ROOT), f"VENV={venv}", target,
                           "SERVER=x.py"], capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    assert "-e ./server -e '.[lab]'" in plan.stdout and "lab.setup images" in plan.stdout
    assert "test,bench" not in plan.stdout and "-m lab.setup\n" not in plan.stdout


def test_make_test_sets_up_everything(tmp_path):
    venv = tmp_path / "venv"
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-C", str(ROOT), f"VENV={venv}", "test"],
                          capture_output=True, text=True, timeout=60)
    assert "'.[apps,lab,test,bench]'" in plan.stdout and f"{venv}/bin/python -m lab.setup\n" in plan.stdout


def test_each_framework_app_has_its_pin_from_the_apps_extra():
    pins = wheelhouse.framework_pins()
    assert set(pins) == {app.role for app in inventory.APPS if app.framework}
    assert all(pin.startswith(f"{role}==") for role, pin in pins.items())


def test_a_framework_app_without_a_pin_is_a_lab_error(monkeypatch):
    monkeypatch.setattr(wheelhouse, "project", lambda folder=ROOT: {
        "optional-dependencies": {"apps": ["Flask==3.1.3", "pyramid==2.1"]}})
    with pytest.raises(inventory.LabError, match="no pin for the framework django"):
        wheelhouse.framework_pins()


def test_the_bench_extra_pins_each_competitor_exactly():
    pins = wheelhouse.bench_pins()
    assert [pin.split("==")[0] for pin in pins] == ["cheroot", "granian", "gunicorn", "waitress"]
    constraints = wheelhouse.CONSTRAINTS.read_text().split()
    assert all(pin in constraints for pin in pins)


def test_a_loose_bench_pin_is_a_lab_error(monkeypatch):
    monkeypatch.setattr(wheelhouse, "project", lambda folder=ROOT: {
        "optional-dependencies": {"bench": ["gunicorn>=23", "waitress==3.0.2"]}})
    with pytest.raises(inventory.LabError, match="must pin each server exactly .*: not gunicorn>=23"):
        wheelhouse.bench_pins()


@pytest.fixture(scope="module")
def compose_config():
    """compose.yaml as compose itself reads it, with every LBAWS_ setting at its default."""
    project = ComposeProject("lbaws-test-config", project_env())
    return json.loads(project.run("config", "--format", "json", timeout=60).stdout)


def test_compose_services_run_lab_images_with_the_project_label(compose_config):
    # The tag is the session's LBAWS_IMAGE_TAG ("latest" by default), as lab.inventory reads it.
    images = set(inventory.IMAGES.values())
    for name, service in compose_config["services"].items():
        assert service["image"] in images, name
        assert service["labels"][inventory.PROJECT_LABEL] == inventory.PROJECT, name
    assert compose_config["networks"]["default"]["labels"] == inventory.LABELS


def test_each_app_has_a_compose_service_serving_it(compose_config):
    services = compose_config["services"]
    for app in inventory.APPS:
        service = services[app.service]
        assert service["image"] == app.image
        assert service["command"][:2] == ["lbaws", "serve"]
        assert service["command"][3] == app.spec
        assert (service["working_dir"], service["user"]) == (inventory.APP_DIR, str(app.uid))
    assert services["client"]["image"] == inventory.CLIENT_IMAGE
    assert services["client"]["user"] == str(inventory.CLIENT_UID)
    # One UID per service, none shared with the client, the workbench or root: RLIMIT_NPROC is per UID.
    uids = [app.uid for app in inventory.APPS] + [inventory.CLIENT_UID, inventory.WORKBENCH_UID, 0]
    assert len(set(uids)) == len(uids)
