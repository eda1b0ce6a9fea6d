"""Bench tests: wrk's output and the figures on recorded text, the command's refusals, one real quick run."""
import subprocess

import pytest

from benchhelp import DATA, ROOT, bench_command


def pytest_configure(config):
    config.addinivalue_line("markers", "container: needs the lab's Docker images and engine")
    config.addinivalue_line("markers", "bench: runs `lbaws bench` against real servers")


@pytest.fixture
def run_bench():
    """`lbaws bench ARGS` as a user types it; returns the completed process."""
    def run(*args, env=None, timeout=60):
        return subprocess.run([*bench_command(), *args], capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=ROOT)
    return run


@pytest.fixture
def recorded():
    """The text of a file in data/: wrk's real output, recorded against gunicorn on loopback."""
    return lambda name: (DATA / name).read_text()


@pytest.fixture(scope="session")
def bench_images(request):
    """The lab's images, current before any bench runs (a failure, never a skip, without an engine)."""
    import contextlib

    from lab import images, inventory

    writer = request.config.pluginmanager.getplugin("terminalreporter")
    try:
        with contextlib.closing(inventory.connect(timeout=60)) as engine:
            return images.ensure_images(writer.write_line if writer else inventory.quiet, client=engine)
    except inventory.LabError as exc:
        pytest.fail(f"the bench tests need the lab's images and a Docker engine: {exc}", pytrace=False)
