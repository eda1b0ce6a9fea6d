"""What the lab makes and how it finds it again: the engine connection, the labels on every object,
and the image of each role (runtime, server, one per framework app, client, workbench, bench).

compose.yaml cannot import this, so tests/lab checks that its labels and images agree with it.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

TAG = os.environ.get("LBAWS_IMAGE_TAG") or "latest"
PROJECT = "lbaws-lab"

# Every image, container and network the lab makes carries PROJECT_LABEL, so `lab.clean` finds exactly
# those and nothing else on a shared engine; a scenario run adds its run id, scenario and each
# container's role and stage.
PROJECT_LABEL = "org.lbaws-lab.project"
RUN_LABEL = "org.lbaws-lab.run"
SCENARIO_LABEL = "org.lbaws-lab.scenario"
ROLE_LABEL = "org.lbaws-lab.role"
STAGE_LABEL = "org.lbaws-lab.stage"
# Who runs a scenario (host/boot/PID/start time), so a later run can remove what a killed runner left;
# and the mark of a run kept with --keep, which no later run removes.
RUNNER_LABEL = "org.lbaws-lab.runner"
KEPT_LABEL = "org.lbaws-lab.kept"
# On images: what they were built from, so a current one is not built again.
RECIPE_LABEL = "org.lbaws-lab.recipe"
CONTEXT_LABEL = "org.lbaws-lab.context"
LABELS = {PROJECT_LABEL: PROJECT}

# Where the app images keep the tutorial's apps, and the working directory every server runs in.
APP_DIR = "/app"
# UIDs nothing on the host uses: RLIMIT_NPROC counts every process of a UID on the host kernel.
# SERVER_UID is the images' user `lbaws` (and the Flask service's); each App names its service's own.
SERVER_UID = 18888
CLIENT_UID = 18889
# The workbench's shell and everything the reader starts in it, so their `ulimit -u` counts only that.
WORKBENCH_UID = 18890


def label_filter(key: str, value: str) -> str:
    """The KEY=VALUE form that the engine's `label` filter and `docker ps --filter label=` take."""
    return f"{key}={value}"


# How lab/ reports work it does: library functions take `say` and call it once per line of progress.
Say = Callable[[str], None]


def quiet(line: str) -> None:
    """The default `say`: a caller that passes nothing hears nothing."""


class LabError(RuntimeError):
    """Anything the lab cannot do, as one line for the user: the only error lab/ raises on purpose."""


class EngineMissing(LabError):
    """No Docker engine answers."""


@dataclass(frozen=True)
class App:
    """One of the tutorial's apps, with the image that carries it and what it answers at /hello."""

    role: str  # the image's role, and the framework's package name when it has one
    spec: str  # MODULE:CALLABLE, as `lbaws serve 2 flaskapp:app` takes it
    greeting: str
    uid: int  # its compose service's UID: one per service, so their RLIMIT_NPROC budgets are apart
    framework: bool = True  # False for the bare WSGI app: no wheels to install

    @property
    def image(self) -> str:
        return f"lbaws-lab/app-{self.role}:{TAG}"

    @property
    def service(self) -> str:
        return f"server-{self.role}"


APPS = (
    App("flask", "flaskapp:app", "Hello world from Flask!", SERVER_UID),
    App("pyramid", "pyramidapp:app", "Hello world from Pyramid!", 18891),
    App("django", "djangoapp:app", "Hello world from Django!", 18892),
    App("wsgi", "wsgiapp:app", "Hello world from a simple WSGI application!", 18893, framework=False),
)
APPS_BY_ROLE = {app.role: app for app in APPS}

RUNTIME_IMAGE = f"lbaws-lab/runtime:{TAG}"
SERVER_IMAGE = f"lbaws-lab/server:{TAG}"
CLIENT_IMAGE = f"lbaws-lab/client:{TAG}"
WORKBENCH_IMAGE = f"lbaws-lab/workbench:{TAG}"
# The workbench builds on this app's image: its framework is the only one the workbench imports.
WORKBENCH_APP = APPS_BY_ROLE["flask"]
# The workbench shell's working directory, and where the reader's folder is mounted in it.
WORKBENCH_DIR = "/workbench"
WORKBENCH_MOUNT = f"{WORKBENCH_DIR}/my"
# `lbaws bench`'s servers: lbaws and its competitors (gunicorn, waitress; wsgiref is the stdlib's) in one
# image, built on this app's image, which carries Flask and every tutorial app in /app: each server
# under test runs from the same image, and wrk runs in the client image.
BENCH_IMAGE = f"lbaws-lab/bench:{TAG}"
BENCH_APP = APPS_BY_ROLE["flask"]
IMAGES = {"server": SERVER_IMAGE, **{app.role: app.image for app in APPS}, "client": CLIENT_IMAGE,
          "workbench": WORKBENCH_IMAGE, "bench": BENCH_IMAGE}


def image(role: str) -> str:
    """The image of a role ("server", "client", or an app's role such as "flask")."""
    try:
        return IMAGES[role]
    except KeyError:
        raise LabError(f"no lab image plays the role {role!r}; roles: {', '.join(IMAGES)}") from None


def connect(timeout: float | None = None):
    """A Docker SDK client whose engine answers, else EngineMissing with one line saying so."""
    import docker

    if timeout is None:
        setting = os.environ.get("LBAWS_DOCKER_TIMEOUT", "600")
        try:
            timeout = float(setting)
        except ValueError:
            raise LabError(f"LBAWS_DOCKER_TIMEOUT={setting!r} is not a number of seconds") from None
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types for "no engine"; all mean the same here
        raise EngineMissing(f"the Docker engine does not answer ({type(exc).__name__}: {exc}); "
                            f"start dockerd or set DOCKER_HOST") from None
    return client
