"""Container fixtures: the lab's images (built offline when needed) and a Compose project of its
own per test session, on free host ports, removed afterwards whatever happened."""
import contextlib
import secrets

import pytest

from lab import images, inventory
from lab.compose import ComposeError, ComposeProject
from lab.paths import ROOT
from labhelp import NOFILE, NPROC, STAGE, TEXTS, free_ports, port_env, project_env

ARTIFACTS = ROOT / "reports" / "artifacts"


def pytest_configure(config):
    config.addinivalue_line("markers", "container: needs the lab's Docker images and engine")


def engine():
    """The Docker engine, or a failure (never a skip): these tests exist to run against it."""
    try:
        return inventory.connect(timeout=60)
    except inventory.EngineMissing as exc:
        pytest.fail(f"the lab's container tests need a Docker engine: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def docker_engine():
    return engine()


@pytest.fixture(scope="session")
def lab_images(request, docker_engine):
    writer = request.config.pluginmanager.getplugin("terminalreporter")
    try:
        return images.ensure_images(writer.write_line if writer else inventory.quiet, client=docker_engine)
    except inventory.LabError as exc:
        pytest.fail(f"building the lab's images failed: {exc}", pytrace=False)


def _report(request, project, why):
    """Keep the project's logs as an artifact and show them on the terminal."""
    logs = project.logs()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{project.name}.log"
    path.write_text(logs)
    writer = request.config.pluginmanager.getplugin("terminalreporter")
    if writer:
        writer.write_line(f"\n--- {project.name}: {why}; container logs (also in {path}) ---")
        for line in logs.splitlines()[-200:]:
            writer.write_line(line)


@contextlib.contextmanager
def running(request, project, *services):
    """Up with --wait; down -v in every case; logs shown when a test of the session failed."""
    failed_before = request.session.testsfailed
    try:
        try:
            project.up(*services)
        except ComposeError as exc:
            _report(request, project, "did not come up")
            pytest.fail(str(exc), pytrace=False)
        yield project
        if request.session.testsfailed > failed_before:
            _report(request, project, "a test failed")
    finally:
        project.down()


class SharedLab:
    """The session's one project of every service, up while its tests run and down after the last of them.

    A session fixture would stay up to the worker's end, its four healthchecks an exec every half second
    beside the rest of the suite; the tests that use it run together (tests/conftest.py's compose-lab
    group), so it comes down once the next test does not use it, and up again if a later one does.
    """

    def __init__(self):
        self.stack = None
        self.project = None

    def get(self, request):
        if self.project is None:
            ports = dict(zip(TEXTS, free_ports(len(TEXTS))))
            env = project_env(LBAWS_STAGE=STAGE, LBAWS_NOFILE=NOFILE, LBAWS_NPROC=NPROC, **port_env(ports))
            project = ComposeProject(f"lbaws-test-{secrets.token_hex(4)}", env)
            project.ports = ports
            self.stack = contextlib.ExitStack()
            self.project = self.stack.enter_context(running(request, project))
        return self.project

    def close(self):
        stack, self.stack, self.project = self.stack, None, None
        if stack is not None:
            stack.close()


SHARED_LAB = SharedLab()


@pytest.fixture
def lab(request, lab_images):
    """Every service of compose.yaml, stage 3h, nofile/nproc set to the tests' values: one project for the
    tests that use it side by side in the session (SharedLab)."""
    return SHARED_LAB.get(request)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if "lab" in getattr(item, "fixturenames", ()) and "lab" not in getattr(nextitem, "fixturenames", ()):
        SHARED_LAB.close()


def pytest_sessionfinish(session):
    SHARED_LAB.close()


@pytest.fixture
def compose_project(request, lab_images):
    """Factory of small extra projects (own name, free ports), each removed after the test."""
    with contextlib.ExitStack() as stack:
        def start(*services, **settings):
            ports = dict(zip(TEXTS, free_ports(len(TEXTS))))
            env = project_env(**{**port_env(ports), **settings})
            project = ComposeProject(f"lbaws-test-{secrets.token_hex(4)}", env)
            project.ports = ports
            return stack.enter_context(running(request, project, *services))
        yield start
