"""The front door: compose builds every lab image from the repository alone, never asks a registry
for the lab's own tags and uses existing images as they are; the README's compose commands are CI's,
and every workflow file is valid against GitHub's schema."""
import json
import re
import secrets
import shutil
import subprocess
import urllib.request

import pytest
from ruamel.yaml import YAML

from lab import base, inventory, wheelhouse
from lab.compose import ComposeProject
from lab.paths import ROOT
from labhelp import free_ports, project_env

COMPOSE_DOCKERFILE = ROOT / "images" / "compose.Dockerfile"
UIDS_BY_SERVICE = {**{app.service: app.uid for app in inventory.APPS}, "client": inventory.CLIENT_UID,
                   "workbench": inventory.WORKBENCH_UID}
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CHECK_JSONSCHEMA = [str(ROOT / ".venv" / "bin" / "check-jsonschema")
                    if (ROOT / ".venv" / "bin" / "check-jsonschema").exists() else "check-jsonschema"]
SCHEMA = ["--builtin-schema", "vendor.github-workflows"]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Names and versions only: how each was installed (a wheel file, a folder) differs between the paths.
PIP_LIST = ["pip", "list", "--format=freeze"]


def compose_config(env):
    project = ComposeProject("lbaws-test-config", env)
    return json.loads(project.run("--profile", "workbench", "config", "--format", "json", timeout=60).stdout)


@pytest.fixture(scope="module")
def config():
    return compose_config(project_env())


def dockerfile_stages(text):
    """{stage name: [COPY sources]} of a multi-stage Dockerfile (COPY --from=... copies no file)."""
    stages, current = {}, None
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["FROM"] and len(words) == 4 and words[2].upper() == "AS":
            current = stages.setdefault(words[3], [])
        elif words[:1] == ["COPY"] and current is not None and not words[1].startswith("--from"):
            current.extend(words[1:-1])
    return stages


def arg_defaults(text):
    return dict(re.findall(r"^ARG (\w+)=(\S*)$", text, re.MULTILINE))


def readme_compose_block(text):
    """The commands of the first ```sh block of the README's "Run a server" section."""
    section = text.split("\n## Run a server\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    assert block, "the README's 'Run a server' section has no ```sh block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def job_commands(workflow, job):
    steps = YAML(typ="safe").load(workflow.read_text())["jobs"][job]["steps"]
    return [line.strip() for step in steps if "run" in step for line in step["run"].splitlines() if line.strip()]


def test_every_service_builds_from_the_repository_and_never_pulls_a_lab_tag(config):
    stages = dockerfile_stages(COMPOSE_DOCKERFILE.read_text())
    images = {name: service["image"] for name, service in config["services"].items()}
    assert images == {**{app.service: app.image for app in inventory.APPS}, "client": inventory.CLIENT_IMAGE,
                      "workbench": inventory.WORKBENCH_IMAGE}
    for name, service in config["services"].items():
        assert service["pull_policy"] == "never", name
        assert service["build"]["context"] == str(ROOT), name
        assert (ROOT / service["build"]["dockerfile"]) == COMPOSE_DOCKERFILE, name
        assert service["build"]["target"] in stages, name
        assert service["build"]["args"]["BASE"] == base.OFFICIAL, name


def test_each_app_service_installs_its_framework_at_the_offline_images_pin(config):
    constraints = (ROOT / "images" / "constraints.txt").read_text().split()
    pins = wheelhouse.framework_pins()
    for app in inventory.APPS:
        framework = config["services"][app.service]["build"]["args"]["FRAMEWORK"]
        assert framework == (app.role if app.framework else ""), app.service
        if app.framework:
            assert pins[app.role].lower() in constraints, app.role
    assert config["services"]["workbench"]["build"]["args"]["FRAMEWORK"] == inventory.WORKBENCH_APP.role


def test_the_compose_dockerfile_copies_only_tracked_files_and_names_the_inventorys_uids():
    text = COMPOSE_DOCKERFILE.read_text()
    sources = [source for copies in dockerfile_stages(text).values() for source in copies]
    assert sources, "no COPY found: the parser or the Dockerfile changed"
    for source in sources:
        tracked = subprocess.run(["git", "ls-files", "--", source], cwd=ROOT, capture_output=True, text=True)
        assert tracked.stdout.strip(), f"COPY {source}: not a file of the repository"
    assert {key: arg_defaults(text)[key] for key in ("LBAWS_UID", "CLIENT_UID", "WORKBENCH_UID")} == {
        "LBAWS_UID": str(inventory.SERVER_UID), "CLIENT_UID": str(inventory.CLIENT_UID),
        "WORKBENCH_UID": str(inventory.WORKBENCH_UID)}


def test_every_workflow_is_valid_against_the_github_workflow_schema():
    assert WORKFLOWS
    result = subprocess.run([*CHECK_JSONSCHEMA, *SCHEMA, *map(str, WORKFLOWS)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("runs-on:", "runs_on:", 1))
    result = subprocess.run([*CHECK_JSONSCHEMA, *SCHEMA, str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "runs-on" in result.stdout + result.stderr


def test_the_compose_job_runs_the_readmes_commands_on_a_bare_checkout():
    readme = readme_compose_block((ROOT / "README.md").read_text())
    assert readme[0] == "docker compose up -d --wait server-flask"
    assert re.fullmatch(r"curl .*http://127\.0\.0\.1:8888/hello", readme[1])
    assert readme[2:] == ["docker compose down"]
    (workflow,) = [path for path in WORKFLOWS if "compose" in YAML(typ="safe").load(path.read_text())["jobs"]]
    assert job_commands(workflow, "compose") == readme
    # Nothing of the project's own set-up: a fresh checkout and the Docker the runner has.
    steps = YAML(typ="safe").load(workflow.read_text())["jobs"]["compose"]["steps"]
    assert [step["uses"].split("@")[0] for step in steps if "uses" in step] == ["actions/checkout"]


@pytest.mark.container
@pytest.mark.timeout(600)
def test_with_the_images_present_up_uses_them_and_builds_and_pulls_nothing(lab_images, docker_engine):
    app = inventory.APPS_BY_ROLE["flask"]
    before = docker_engine.images.get(app.image).id
    (port,) = free_ports(1)
    project = ComposeProject(f"lbaws-test-{secrets.token_hex(4)}", project_env(LBAWS_FLASK_PORT=port))
    try:
        # Even asked to pull, compose asks no registry for the lab's tags.
        pulled = project.run("--profile", "workbench", "pull")
        skipped = re.findall(r"^ (\S+) Skipped", pulled.stderr + pulled.stdout, re.MULTILINE)
        assert sorted(skipped) == sorted([*UIDS_BY_SERVICE]), pulled.stderr
        result = project.up(app.service)
        said = result.stdout + result.stderr
        assert not re.search(r"Pull|Build|Built", said), said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=10) as response:
            assert response.read().decode().strip() == app.greeting
    finally:
        project.down()
    assert docker_engine.images.get(app.image).id == before


@pytest.fixture
def stand_in_base(lab_images, docker_engine, tmp_path):
    """The base lab.images built on (the official python image where a registry answers), plus this
    host's CA bundle for pip, under a throwaway name: compose's build then runs as on a machine with a
    registry, pip from PyPI, without pulling."""
    token = secrets.token_hex(4)
    name = f"lbaws-lab/test-python-base:{token}"
    shutil.copy(CA_BUNDLE, tmp_path / "ca.crt")
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base.ensure_base(docker_engine)}\nCOPY ca.crt /etc/ssl/certs/lbaws-test-ca.crt\n"
        f"ENV PIP_CERT=/etc/ssl/certs/lbaws-test-ca.crt\nLABEL {inventory.PROJECT_LABEL}={inventory.PROJECT}\n")
    docker_engine.images.build(path=str(tmp_path), tag=name, rm=True, forcerm=True, pull=False)
    yield name, token
    for image in (name, f"lbaws-lab/app-flask:test-{token}"):
        try:
            docker_engine.images.remove(image, force=True)
        except Exception:  # never built, when the test failed early
            pass


@pytest.mark.container
@pytest.mark.timeout(900)
def test_compose_builds_a_missing_image_from_the_repository_and_it_serves(stand_in_base, docker_engine):
    base_image, token = stand_in_base
    app = inventory.APPS_BY_ROLE["flask"]
    (port,) = free_ports(1)
    env = project_env(LBAWS_IMAGE_TAG=f"test-{token}", LBAWS_OFFICIAL_BASE=base_image, LBAWS_FLASK_PORT=port)
    project = ComposeProject(f"lbaws-test-{token}", env)
    try:
        result = project.run("up", "--detach", "--wait", "--wait-timeout", "120", app.service, timeout=780)
        said = result.stdout + result.stderr
        assert "Built" in said and "Pulling" not in said, said
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=10) as response:
            assert response.read().decode().strip() == app.greeting
        # What compose built installs what the offline image does, version for version.
        freeze = project.exec(app.service, *PIP_LIST).stdout.split()
    finally:
        project.down()
    offline = docker_engine.containers.run(app.image, PIP_LIST, remove=True).decode().split()
    assert sorted(freeze) == sorted(offline)
    assert "flask==3.1.3" in [line.lower() for line in freeze] and "lbaws==0.1.0" in freeze
