"""The base image: the official python slim image when the engine has or can pull it, else one
built from Debian's packages with mmdebstrap and `docker import`, so no registry is needed."""
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from lab.build import ENGINE_ERRORS, find_image
from lab.inventory import PROJECT, PROJECT_LABEL, RECIPE_LABEL, TAG, LabError, Say, quiet
from lab.paths import CACHE

OFFICIAL = os.environ.get("LBAWS_OFFICIAL_BASE", "python:3.11-slim-bookworm")
HOME_BUILT = "lbaws-lab/debian-base:bookworm" + ("" if TAG == "latest" else f"-{TAG}")
SUITE = "bookworm"
# What the runtime needs and the official image has (or the Dockerfiles add): python3.11 with venv,
# ps/ss for the probes, curl/nc for the client and health checks.
PACKAGES = ["python3", "python3-venv", "procps", "iproute2", "curl", "netcat-openbsd", "ca-certificates"]
# Docs, man pages and translations are a third of a minbase rootfs; copyright files stay.
DPKG_OPTS = ["path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
             "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
             "path-exclude=/usr/share/info/*"]
CHANGES = ["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]', f"LABEL {PROJECT_LABEL}={PROJECT}"]
PULL_TIMEOUT = 20


def recipe_digest() -> str:
    recipe = {"suite": SUITE, "packages": PACKAGES, "dpkg": DPKG_OPTS, "changes": CHANGES}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def pull_official(say: Say = quiet) -> bool:
    """True when a pull of the official base succeeds quickly (a registry answers)."""
    if os.environ.get("LBAWS_NO_PULL"):
        return False
    say(f"images: no current base image here; trying to pull {OFFICIAL} (at most {PULL_TIMEOUT} s)")
    try:
        pulled = subprocess.run(["docker", "pull", "--quiet", OFFICIAL], capture_output=True, text=True,
                                timeout=PULL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return pulled.returncode == 0


def build_rootfs(tarball: Path, say: Say = quiet) -> None:
    if shutil.which("mmdebstrap") is None:
        raise LabError("no registry answers and mmdebstrap is missing: run `make setup` "
                       "(or apt-get install mmdebstrap)")
    say(f"images: building a Debian {SUITE} root filesystem with mmdebstrap (no registry reachable)")
    started = time.monotonic()
    partial = tarball.with_suffix(f".{os.getpid()}.partial.tar")  # another process may be at it too
    cmd = ["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(PACKAGES)}",
           *(f"--dpkgopt={opt}" for opt in DPKG_OPTS), SUITE, str(partial)]
    mirror = os.environ.get("LBAWS_DEBIAN_MIRROR")
    if mirror:
        cmd.append(mirror)
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise LabError(f"mmdebstrap failed: {tail}")
    partial.rename(tarball)
    say(f"images: root filesystem {tarball.name} ({tarball.stat().st_size >> 20} MiB) "
        f"in {time.monotonic() - started:.0f} s")


def import_rootfs(client, tarball: Path, digest: str, say: Say = quiet) -> None:
    say(f"images: importing {tarball.name} as {HOME_BUILT}")
    repo, tag = HOME_BUILT.split(":")
    changes = CHANGES + [f"LABEL {RECIPE_LABEL}={digest}"]
    try:
        client.api.import_image(src=str(tarball), repository=repo, tag=tag, changes=changes)
    except ENGINE_ERRORS as exc:
        raise LabError(f"importing {tarball.name} as {HOME_BUILT} failed: {exc}") from exc


def ensure_base(client, say: Say = quiet) -> str:
    """Return the name of a base image for images/runtime, building one offline when needed.

    Cheap checks first: the official image if local, then an up-to-date home-built one, and only
    then the network, so a warm run never waits on a registry that does not answer.
    """
    forced = os.environ.get("LBAWS_BASE")
    if forced:
        return forced
    if find_image(client, OFFICIAL):
        return OFFICIAL
    digest = recipe_digest()
    image = find_image(client, HOME_BUILT)
    if image and image.labels.get(RECIPE_LABEL) == digest:
        return HOME_BUILT
    if pull_official(say):
        say(f"images: base {OFFICIAL} (official image, pulled)")
        return OFFICIAL
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"debian-{SUITE}-{digest}.tar"
    if not tarball.exists():
        build_rootfs(tarball, say)
    import_rootfs(client, tarball, digest, say)
    return HOME_BUILT
