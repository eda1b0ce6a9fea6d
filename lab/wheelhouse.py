"""The host-built wheelhouse the images install from, so no build step inside Docker needs the network.

.cache/wheelhouse/deps/<role>: a framework app's framework and its dependencies for CPython 3.11
                               manylinux x86_64, one folder per App with framework=True.
.cache/wheelhouse/bench: the servers `lbaws bench` measures lbaws against (gunicorn, waitress), as the
                        root pyproject's "bench" extra pins them.
.cache/wheelhouse/own:  the project's own wheel (lbaws), rebuilt only when its sources change.
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from lab.inventory import APPS, LabError, Say, quiet
from lab.paths import CACHE, ROOT

WHEELHOUSE = CACHE / "wheelhouse"
DEPS = WHEELHOUSE / "deps"
BENCH = WHEELHOUSE / "bench"
OWN = WHEELHOUSE / "own"
CONSTRAINTS = ROOT / "images" / "constraints.txt"
PLATFORM = ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
            "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64"]
# The images' wheel is the server distribution alone (server/): host-side edits to lab/ or scenarios/
# need no new wheel, nor a rebuild of every image.
SERVER_DIST = ROOT / "server"
OWN_SOURCES = ["server/pyproject.toml", "server/lbaws"]
OWN_PACKAGE = "lbaws"
STAMP = ".digest"
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip can hold
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def project(folder: Path = ROOT) -> dict:
    try:
        with open(folder / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise LabError(f"cannot read the [project] table of {folder / 'pyproject.toml'}: {exc}") from exc


def canonical(name: str) -> str:
    """A package name as PEP 503 compares them: Django, django and DJANGO are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def framework_pins() -> dict[str, str]:
    """{role: pin}, e.g. {'flask': 'flask==3.1.3'}, for each App with framework=True.

    An App's role is its framework's package name, and the root pyproject's "apps" extra pins it:
    that extra is what the host installs, so the images get the same versions.
    """
    pins = {}
    for pin in project().get("optional-dependencies", {}).get("apps", []):
        match = REQUIREMENT_NAME.match(pin)
        if match:
            pins[canonical(match.group(1))] = pin
    frameworks = [app.role for app in APPS if app.framework]
    missing = [role for role in frameworks if canonical(role) not in pins]
    if missing:
        raise LabError(f"no pin for the framework{'s' if len(missing) > 1 else ''} {', '.join(missing)} in the "
                       f"\"apps\" extra of {ROOT / 'pyproject.toml'}: lab.inventory.APPS says "
                       f"{'they are' if len(missing) > 1 else 'it is'} the package of an app image")
    return {role: pins[canonical(role)] for role in frameworks}


def version() -> str:
    return project(SERVER_DIST)["version"]


def tree_digest(paths) -> str:
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


def _pip(args, what, env=None):
    try:
        result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                                env=None if env is None else {**os.environ, **env})
    except OSError as exc:
        raise LabError(f"pip could not {what}: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise LabError(f"pip could not {what}: {tail}")


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


def ensure_deps(say: Say = quiet) -> dict[str, Path]:
    """{role: folder} for each framework app: its wheels and a requirements.txt with its pin."""
    pins = framework_pins()
    digest = hashlib.sha256("\n".join(["per-app", CONSTRAINTS.read_text(), *sorted(pins.values()), *PLATFORM])
                            .encode()).hexdigest()
    if not _fresh(DEPS, digest):
        def fill(tmp):
            for role, pin in sorted(pins.items()):
                say(f"images: downloading wheels for {pin} (cp311 manylinux)")
                _pip(["download", "--quiet", "--disable-pip-version-check", *PLATFORM, "-d", str(tmp / role),
                      "--constraint", str(CONSTRAINTS), pin], f"download the wheels for {pin}")
                (tmp / role / "requirements.txt").write_text(pin + "\n")

        _refill(DEPS, digest, fill)
    return {role: DEPS / role for role in pins}


def bench_pins() -> list[str]:
    """The competitors of `lbaws bench`, exactly pinned in the root pyproject's "bench" extra."""
    pins = project().get("optional-dependencies", {}).get("bench", [])
    loose = [pin for pin in pins if "==" not in pin]
    if not pins or loose:
        raise LabError(f"the \"bench\" extra of {ROOT / 'pyproject.toml'} must pin each server exactly "
                       f"(name==version){': not ' + ', '.join(loose) if loose else ''}")
    return sorted(pins)


def ensure_bench(say: Say = quiet) -> Path:
    """The folder of the bench image's wheels and a requirements.txt with their pins."""
    pins = bench_pins()
    digest = hashlib.sha256("\n".join(["bench", CONSTRAINTS.read_text(), *pins, *PLATFORM]).encode()).hexdigest()
    if not _fresh(BENCH, digest):
        def fill(tmp):
            say(f"images: downloading wheels for {', '.join(pins)} (cp311 manylinux)")
            _pip(["download", "--quiet", "--disable-pip-version-check", *PLATFORM, "-d", str(tmp),
                  "--constraint", str(CONSTRAINTS), *pins], f"download the wheels for {', '.join(pins)}")
            (tmp / "requirements.txt").write_text("".join(pin + "\n" for pin in pins))

        _refill(BENCH, digest, fill)
    return BENCH


def wheel_tops(wheel: Path) -> set[str]:
    """The top-level names a wheel installs: packages, modules and its .dist-info folder."""
    with zipfile.ZipFile(wheel) as archive:
        return {name.split("/")[0] for name in archive.namelist()}


def _check_own(folder):
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != 1:
        raise LabError(f"building the {OWN_PACKAGE} wheel left {len(wheels)} wheels in {folder}, not one")
    stray = {top for top in wheel_tops(wheels[0])
             if top != OWN_PACKAGE and not (top.startswith(f"{OWN_PACKAGE}-") and top.endswith(".dist-info"))}
    if stray:
        raise LabError(f"the {OWN_PACKAGE} wheel carries {', '.join(sorted(stray))} besides {OWN_PACKAGE}/: "
                       f"the images must hold the server alone")


def ensure_own(say: Say = quiet) -> Path:
    """The folder holding the lbaws wheel, built from exactly the files its digest covers."""
    digest = tree_digest(OWN_SOURCES)
    if _fresh(OWN, digest):
        return OWN

    def fill(tmp):
        say(f"images: building the {OWN_PACKAGE} {version()} wheel")
        # From a copy: a stale server/build/ or egg-info (setuptools never empties them) would
        # otherwise put files the digest never saw into the wheel.
        with tempfile.TemporaryDirectory(dir=WHEELHOUSE, prefix=".source-") as source:
            for rel in OWN_SOURCES:
                src, dst = ROOT / rel, Path(source) / Path(rel).relative_to(SERVER_DIST.name)
                if src.is_dir():
                    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    shutil.copy2(src, dst)
            # The zip's timestamps fixed: the same sources then give the same bytes in any clone, and the
            # images built from the wheel are current there, not rebuilt.
            _pip(["wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "-w", str(tmp), source],
                 f"build the {OWN_PACKAGE} wheel", env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH})
        _check_own(tmp)

    _refill(OWN, digest, fill)
    return OWN
