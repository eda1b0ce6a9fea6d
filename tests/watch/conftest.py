"""The `watching` fixture: a real lbaws watch over a tmp reports folder, stopped after the test."""
import pytest

from watchhelp import Watching


@pytest.fixture
def watching(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    running = Watching(reports)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
