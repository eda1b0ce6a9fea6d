"""The lab's entry points (`make ps`, `make clean`, `make images`, `make setup`) behave and fail cleanly."""
import os
import secrets
import subprocess
import sys

import docker.errors
import pytest

from lab import clean, images, inventory
from lab.paths import ROOT
from labhelp import NOFILE, NPROC, STAGE, TEXTS

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]


def lab_command(*args, env=None):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, **(env or {})})


def test_status_shows_each_service_with_stage_limits_port_and_health(lab):
    result = lab_command("lab.status", lab.name)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[1]: line.split() for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {f"server-{name}" for name in TEXTS} | {"client"}
    for name, port in lab.ports.items():
        project, service, stage, user, nofile, nproc, published, health = rows[f"server-{name}"]
        assert (project, stage, user) == (lab.name, STAGE, str(inventory.APPS_BY_ROLE[name].uid))
        assert (nofile, nproc) == (f"{NOFILE}/{NOFILE}", f"{NPROC}/{NPROC}")
        assert (published, health) == (f"127.0.0.1:{port}", "healthy")


def test_status_without_a_running_lab_says_so(docker_engine):
    result = lab_command("lab.status", "lbaws-test-not-running")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("status: no lab container is running in project lbaws-test-not-running")


@pytest.mark.parametrize("command", [["lab.images"], ["lab.images", "bogus"], ["lab.clean", "now"],
                                     ["lab.status", "a", "b"], ["lab.setup", "bogus"], ["lab.setup", "images", "x"]])
def test_bad_arguments_give_usage_and_exit_2(command):
    result = lab_command(*command)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m ")


def test_warm_build_rebuilds_nothing_and_says_nothing(lab_images, capsys):
    heard = []
    assert images.ensure_images(heard.append) == lab_images
    assert heard == []
    assert capsys.readouterr() == ("", "")


def test_warm_build_command_ends_with_one_summary_line(lab_images):
    result = lab_command("lab.images", "build")
    assert (result.returncode, result.stderr) == (0, "")
    count = len(lab_images)
    assert result.stdout.startswith(f"images: {count} images ready (0 built, {count} current) in ")
    assert len(result.stdout.splitlines()) == 1


def test_clean_removes_what_carries_the_label_and_nothing_else(docker_engine, lab_images):
    # A label of the test's own: the real one would take every lab image and running scenario.
    key, value = "org.lbaws-lab.test-clean", secrets.token_hex(4)
    networks = [docker_engine.networks.create(f"lbaws-test-clean-{value}", labels={key: value}),
                docker_engine.networks.create(f"lbaws-test-keep-{value}")]
    runtime = inventory.RUNTIME_IMAGE
    containers = [docker_engine.containers.create(runtime, ["true"], labels={key: value},
                                                  name=f"lbaws-test-clean-{value}"),
                  docker_engine.containers.create(runtime, ["true"], name=f"lbaws-test-keep-{value}")]
    try:
        assert clean.clean(docker_engine, label=f"{key}={value}") == 2
        # The low-level lists: the SDK's containers.list() inspects each one, and a container another test
        # removes in between is a NotFound.
        left = {n["Name"] for n in docker_engine.api.networks()} | {
            name.lstrip("/") for c in docker_engine.api.containers(all=True) for name in c["Names"]}
        assert f"lbaws-test-clean-{value}" not in left
        assert {networks[1].name, containers[1].name} <= left
        assert docker_engine.images.get(runtime).labels[inventory.PROJECT_LABEL] == inventory.PROJECT
    finally:
        for obj, how in [(c, {"force": True}) for c in containers] + [(n, {}) for n in networks]:
            try:
                obj.remove(**how)
            except docker.errors.NotFound:
                pass
