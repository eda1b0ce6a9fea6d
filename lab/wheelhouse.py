"""The host-built wheelhouse the images install from, so no build step inside Docker needs the network.

.cache/wheelhouse/deps/<app>: a framework and its dependencies for CPython 3.11 manylinux x86_64.
.cache/wheelhouse/own:  the project's own wheel (lbaws), rebuilt only when its sources change.
"""
import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from lab.common import CACHE, ROOT, die, say

WHEELHOUSE = CACHE / "wheelhouse"
DEPS = WHEELHOUSE / "deps"
OWN = WHEELHOUSE / "own"
CONSTRAINTS = ROOT / "images" / "constraints.txt"
PLATFORM = ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
            "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"]
# The images' wheel is the server distribution alone (server/): host-side edits to lab/ or scenarios/
# need no new wheel, nor a rebuild of every image.
SERVER_DIST = ROOT / "server"
OWN_SOURCES = ["server/pyproject.toml", "server/lbaws"]
STAMP = ".digest"


def project(folder=ROOT):
    with open(folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def app_requirements():
    """The framework pins, e.g. {'flask': 'flask==3.1.3'}, from pyproject's "apps" extra."""
    pins = project()["optional-dependencies"]["apps"]
    return {pin.split("==")[0].lower(): pin for pin in pins}


def version():
    return project(SERVER_DIST)["version"]


def tree_digest(paths):
    """A digest of file names and contents under paths, ignoring bytecode caches."""
    digest = hashlib.sha256()
    for rel in paths:
        top = ROOT / rel
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fresh(folder, digest):
    stamp = folder / STAMP
    return stamp.exists() and stamp.read_text() == digest


def _pip(args, what):
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        die(f"pip could not {what}: {tail}")


def _refill(folder, digest, fill):
    """Fill a temporary folder, then swap it in, so an interrupted run never leaves half a wheelhouse."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=WHEELHOUSE, prefix=".partial-"))
    try:
        fill(tmp)
        (tmp / STAMP).write_text(digest)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_deps():
    """One folder per framework under deps/: its wheels and a requirements.txt with its pin."""
    requirements = app_requirements()
    digest = hashlib.sha256("\n".join(["per-app", CONSTRAINTS.read_text(), *sorted(requirements.values()), *PLATFORM])
                            .encode()).hexdigest()
    if not _fresh(DEPS, digest):
        def fill(tmp):
            for app, pin in sorted(requirements.items()):
                say(f"images: downloading wheels for {pin} (cp311 manylinux)")
                _pip(["download", "--quiet", "--disable-pip-version-check", *PLATFORM, "-d", str(tmp / app),
                      "--constraint", str(CONSTRAINTS), pin], f"download the wheels for {pin}")
                (tmp / app / "requirements.txt").write_text(pin + "\n")

        _refill(DEPS, digest, fill)
    return {app: DEPS / app for app in requirements}


def ensure_own():
    digest = tree_digest(OWN_SOURCES)
    if _fresh(OWN, digest):
        return OWN

    def fill(tmp):
        say(f"images: building the lbaws {version()} wheel")
        _pip(["wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "-w", str(tmp), str(SERVER_DIST)],
             "build the lbaws wheel")

    _refill(OWN, digest, fill)
    return OWN
