"""server/pyproject.toml builds the wheel the images install: lbaws and its two commands, nothing of the lab."""

import configparser
import shutil
import subprocess
import sys
import zipfile

import pytest

from srvproc import ROOT

pytestmark = pytest.mark.timeout(300)

DIST_INFO = "lbaws-0.1.0.dist-info/"


def _build(tmp_path):
    # A copy, so the build neither writes build/ and egg-info into server/ nor packs a stale build/lib.
    source = tmp_path / "server"
    source.mkdir()
    shutil.copy(ROOT / "server" / "pyproject.toml", source)
    shutil.copytree(ROOT / "server" / "lbaws", source / "lbaws", ignore=shutil.ignore_patterns("__pycache__"))
    # The test extra pins a setuptools that builds wheels itself, so no index is asked for one.
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                             "-w", str(tmp_path / "dist"), str(source)],
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list((tmp_path / "dist").glob("*.whl"))
    assert [path.name for path in wheels] == ["lbaws-0.1.0-py3-none-any.whl"]
    return wheels[0]


def test_the_wheel_carries_only_lbaws_and_declares_both_commands(tmp_path):
    with zipfile.ZipFile(_build(tmp_path)) as wheel:
        members = wheel.namelist()
        entry_points = wheel.read(DIST_INFO + "entry_points.txt").decode()
        metadata = wheel.read(DIST_INFO + "METADATA").decode()
    assert [name for name in members if not name.startswith(("lbaws/", DIST_INFO))] == []
    assert {"lbaws/cli.py", "lbaws/stages.py", "lbaws/client/command.py"} <= set(members)
    assert "Name: lbaws\n" in metadata
    parsed = configparser.ConfigParser()
    parsed.read_string(entry_points)
    assert dict(parsed["console_scripts"]) == {"lbaws": "lbaws.cli:main",
                                               "lbaws-client": "lbaws.client.command:main"}
