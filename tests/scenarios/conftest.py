"""Scenario tests: fast ones on recorded observations and the CLI, and one real run per scenario."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LBAWS = Path(sys.executable).with_name("lbaws")


def pytest_configure(config):
    config.addinivalue_line("markers", "container: needs the lab's Docker images and engine")
    config.addinivalue_line("markers", "scenario: runs one of the tutorial's experiments in containers")


@pytest.fixture
def run_cli():
    """`lbaws scenario ARGS` as a user types it; returns the completed process."""
    base = [str(LBAWS) if LBAWS.exists() else shutil.which("lbaws"), "scenario"]

    def run(*args, env=None, timeout=60):
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    run.command = base
    return run
