"""Build one lab image with the engine's classic builder (no buildx, no registry), skipping it when
an image built from the same context, build arguments and parent is already there."""
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.common import CACHE, ROOT, die, say

CONTEXT_LABEL = "org.lbaws-lab.context"
CONTEXTS = CACHE / "contexts"


@dataclass
class Spec:
    name: str                     # image name with tag
    dockerfile: str               # file under images/
    parent: str                   # the image its FROM resolves to: part of the digest
    buildargs: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # folder name in the context -> source folder


def _add(digest, path, rel):
    for item in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if item.is_file() and "__pycache__" not in item.parts:
            digest.update(f"{rel}/{item.relative_to(path)}".encode() + b"\0" + item.read_bytes() + b"\0")


def context_digest(spec, parent_id):
    digest = hashlib.sha256(json.dumps([spec.dockerfile, spec.buildargs, parent_id], sort_keys=True).encode())
    _add(digest, ROOT / "images" / spec.dockerfile, "Dockerfile")
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


def make_context(spec):
    # A folder of its own: another process may be building the same image from this tree.
    CONTEXTS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=CONTEXTS, prefix=spec.name.split("/")[-1].replace(":", "-") + "-"))
    shutil.copy(ROOT / "images" / spec.dockerfile, folder / "Dockerfile")
    for rel, source in spec.files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        _link_tree(source, folder / rel)
    return folder


def ensure(client, spec, find_image):
    """Build spec.name unless an image with the same context digest exists.

    Returns the id of the image a rebuild replaced (for drop_replaced), else None.
    """
    parent = find_image(client, spec.parent)
    if parent is None:
        die(f"cannot build {spec.name}: its base {spec.parent} is missing")
    digest = context_digest(spec, parent.id)
    existing = find_image(client, spec.name)
    if existing and existing.labels.get(CONTEXT_LABEL) == digest:
        say(f"images: {spec.name} is up to date")
        return None
    short = spec.name.split("/")[-1].split(":")[0]
    say(f"images: building {spec.name}")
    started = time.monotonic()
    folder = make_context(spec)
    try:
        for chunk in client.api.build(path=str(folder), tag=spec.name, buildargs=spec.buildargs,
                                      labels={CONTEXT_LABEL: digest}, rm=True, forcerm=True,
                                      pull=False, decode=True):
            if "error" in chunk:
                die(f"building {spec.name} failed: {chunk['error'].strip()}")
            line = chunk.get("stream", "").strip()
            if line.startswith("Step "):
                say(f"  {short}: {line[:100]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    say(f"images: built {spec.name} in {time.monotonic() - started:.1f} s")
    return existing.id if existing else None


def drop_replaced(client, image_ids):
    """Images that rebuilds replaced keep their layers until removed: drop those nothing uses now.

    Only these ids, never "all dangling images": another build may be running on the same engine.
    """
    import docker.errors

    for image_id in image_ids:
        try:
            if not client.images.get(image_id).tags:
                client.images.remove(image_id)
        except docker.errors.APIError:
            pass
