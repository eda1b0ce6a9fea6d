"""Debian packages the images add, downloaded on the host so no build step inside Docker needs the network.

.cache/debs: wrk (the benchmark client of `lbaws bench`) and the libraries it needs that neither base
             has (LuaJIT), for bookworm amd64, as the client image installs them with `dpkg -i`.

apt runs with a state of its own (sources, lists, cache under a temporary folder), so the files are
bookworm's whatever the host's release, and the host's apt is neither read nor changed.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from lab.inventory import LabError, Say, quiet
from lab.paths import CACHE

DEBS = CACHE / "debs"
SUITE = "bookworm"
ARCH = "amd64"
# wrk's dependencies that the bases lack: both have libc6, libgcc-s1 and libssl3 (python needs them).
PACKAGES = ["wrk", "libluajit-5.1-2", "libluajit-5.1-common"]
MIRROR = os.environ.get("LBAWS_DEBIAN_MIRROR") or "http://deb.debian.org/debian"
STAMP = ".digest"


def recipe_digest() -> str:
    return hashlib.sha256("\n".join([SUITE, ARCH, MIRROR, *PACKAGES]).encode()).hexdigest()


def _apt(options, args, cwd, what):
    try:
        result = subprocess.run(["apt-get", *options, *args], cwd=cwd, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=600)
    except FileNotFoundError:
        raise LabError(f"apt-get is missing: the lab downloads {', '.join(PACKAGES)} with it (a Debian "
                       f"or Ubuntu host); or put their {SUITE} .deb files in {DEBS}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"apt-get could not {what}: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise LabError(f"apt-get could not {what}: {tail}")


def ensure_debs(say: Say = quiet) -> Path:
    """The folder of .deb files the client image installs, downloaded once per recipe."""
    digest = recipe_digest()
    stamp = DEBS / STAMP
    if stamp.exists() and stamp.read_text() == digest:
        return DEBS
    say(f"images: downloading {', '.join(PACKAGES)} ({SUITE} {ARCH}) from Debian's packages")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=CACHE, prefix=".debs-"))
    try:
        state, cache, out = work / "state", work / "cache", work / "out"
        for folder in (state / "lists" / "partial", cache / "archives" / "partial", out):
            folder.mkdir(parents=True)
        (work / "sources.list").write_text(f"deb {MIRROR} {SUITE} main\n")
        options = ["-q", "-o", f"Dir::Etc::SourceList={work / 'sources.list'}",
                   "-o", f"Dir::Etc::SourceParts={work / 'none'}", "-o", f"Dir::State={state}",
                   "-o", f"Dir::Cache={cache}", "-o", f"APT::Architecture={ARCH}",
                   "-o", "APT::Architectures::=", "-o", "Debug::NoLocking=1",
                   # As root apt would drop to _apt, which cannot write into a root-owned temporary folder.
                   "-o", "APT::Sandbox::User=root"]
        _apt(options, ["update"], work, f"read the {SUITE} package lists from {MIRROR}")
        _apt(options, ["download", *PACKAGES], out, f"download {', '.join(PACKAGES)}")
        (out / STAMP).write_text(digest)
        shutil.rmtree(DEBS, ignore_errors=True)
        out.rename(DEBS)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return DEBS
