"""Build one lab image with the engine's classic builder (no buildx, no registry), skipping it when
an image built from the same context, build arguments and parent is already there."""
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors
import requests.exceptions

from lab.inventory import CONTEXT_LABEL, PROJECT, PROJECT_LABEL, LabError, Say, quiet
from lab.paths import CACHE, ROOT

DOCKERFILES = ROOT / "images"
CONTEXTS = CACHE / "contexts"
# The engine or the connection to it failing mid-build: both are one LabError for the user.
ENGINE_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
# The classic builder's line for the image a step committed.
STEP_IMAGE = re.compile(r"^---> ([0-9a-f]{12,64})$")


@dataclass
class Spec:
    name: str                     # image name with tag
    dockerfile: str               # file under images/ (an absolute path is taken as it is)
    parent: str                   # the image its FROM resolves to: part of the digest
    buildargs: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # folder name in the context -> source folder


@dataclass(frozen=True)
class Outcome:
    name: str
    built: bool
    replaced: str | None = None  # id of the image a rebuild untagged, for drop_replaced


def find_image(client, name: str):
    """The image called name, or None."""
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None
    except ENGINE_ERRORS as exc:
        raise LabError(f"cannot look up the image {name}: {exc}") from exc


def _add(digest, path, rel):
    for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if item.is_file() and "__pycache__" not in item.parts:
            digest.update(f"{rel}/{item.relative_to(path)}".encode() + b"\0" + item.read_bytes() + b"\0")


def context_digest(spec: Spec, parent_id: str) -> str:
    digest = hashlib.sha256(json.dumps([spec.dockerfile, spec.buildargs, parent_id], sort_keys=True).encode())
    _add(digest, DOCKERFILES / spec.dockerfile, "Dockerfile")
    for rel, source in sorted(spec.files.items()):
        _add(digest, Path(source), rel)
    return digest.hexdigest()


def _link_tree(source, target):
    """Hard links where the file system allows them: the wheelhouse need not be copied per image."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, copy_function=link, ignore=shutil.ignore_patterns("__pycache__"))


def make_context(spec: Spec) -> Path:
    # A folder of its own, so a build interrupted half-way leaves no folder another build would reuse.
    CONTEXTS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=CONTEXTS, prefix=spec.name.split("/")[-1].replace(":", "-") + "-"))
    shutil.copy(DOCKERFILES / spec.dockerfile, folder / "Dockerfile")
    for rel, source in spec.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        _link_tree(source, folder / rel)
    return folder


def ensure(client, spec: Spec, say: Say = quiet) -> Outcome:
    """Build spec.name unless an image with the same context digest exists."""
    parent = find_image(client, spec.parent)
    if parent is None:
        raise LabError(f"cannot build {spec.name}: its base {spec.parent} is missing")
    digest = context_digest(spec, parent.id)
    existing = find_image(client, spec.name)
    if existing and existing.labels.get(CONTEXT_LABEL) == digest:
        return Outcome(spec.name, built=False)
    say(f"images: building {spec.name}")
    started = time.monotonic()
    folder = make_context(spec)
    try:
        # Both labels in the one LABEL step the builder adds: each step is a commit, seconds on fuse-overlayfs.
        _run_build(client, spec, folder, {PROJECT_LABEL: PROJECT, CONTEXT_LABEL: digest}, say)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    say(f"images: built {spec.name} in {time.monotonic() - started:.1f} s")
    return Outcome(spec.name, built=True, replaced=existing.id if existing else None)


def _run_build(client, spec, folder, labels, say):
    short = spec.name.split("/")[-1].split(":")[0]
    committed = []  # images this build's steps made, newest last; cache hits are not ours to remove
    ran = False
    try:
        for chunk in client.api.build(path=str(folder), tag=spec.name, buildargs=spec.buildargs, labels=labels,
                                      rm=True, forcerm=True, pull=False, decode=True):
            if "error" in chunk:
                raise LabError(f"building {spec.name} failed: {chunk['error'].strip()}")
            for line in chunk.get("stream", "").splitlines():
                line = line.strip()
                if line.startswith("Step "):
                    ran = False
                    say(f"  {short}: {line[:100]}")
                elif line.startswith("---> Running in "):
                    ran = True
                elif (match := STEP_IMAGE.match(line)) and ran:
                    committed.append(match.group(1))
    except ENGINE_ERRORS as exc:
        _drop_untagged(client, reversed(committed))
        raise LabError(f"building {spec.name} failed: {exc}") from exc
    except LabError:
        # The steps before the failing one left untagged images that nothing will ever use.
        _drop_untagged(client, reversed(committed))
        raise


def _drop_untagged(client, image_ids):
    for image_id in image_ids:
        try:
            if not client.images.get(image_id).tags:
                client.images.remove(image_id)
        except ENGINE_ERRORS:
            pass  # in use by another image or container, or gone already: either way not ours to force


def drop_replaced(client, image_ids):
    """Images that rebuilds replaced keep their layers until removed: drop those nothing uses now.

    Only these ids, never "all dangling images": another build may be running on the same engine.
    """
    _drop_untagged(client, image_ids)
