"""Paths, labels and small helpers shared by the lab's host-side tools."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Overridable so a second set of images (e.g. a cold-build measurement) can sit beside the first.
CACHE = Path(os.environ.get("LBAWS_CACHE") or ROOT / ".cache")
TAG = os.environ.get("LBAWS_IMAGE_TAG") or "latest"
PROJECT = "lbaws-lab"
# Every image, container and network the lab makes carries this label, so `lab.clean` can find
# exactly those and nothing else on a shared engine.
LABEL = "org.lbaws-lab.project"
LABELS = {LABEL: PROJECT}


def say(message):
    """Progress line, flushed at once so `make` shows it while a long step runs."""
    print(message, flush=True)


def die(message, code=1):
    """One line on stderr and a non-zero exit: how every lab command reports a failure."""
    print(f"lab: {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


def docker_client():
    """A Docker SDK client, or a one-line failure when the engine does not answer."""
    import docker

    try:
        client = docker.from_env(timeout=int(os.environ.get("LBAWS_DOCKER_TIMEOUT", "600")))
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types for "no engine"
        die(f"the Docker engine does not answer ({type(exc).__name__}: {exc}); start dockerd or set DOCKER_HOST")
    return client
