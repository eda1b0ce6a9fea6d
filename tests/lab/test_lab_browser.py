"""Headless Chromium (Debian's package) loads /hello from each service; screenshots are kept."""
import shutil
import subprocess

import pytest

from conftest import ARTIFACTS
from labhelp import TEXTS

pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", TEXTS)
def test_chromium_shows_the_page_text(lab, name, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is missing: run `make setup`"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"chromium-{name}.png"
    shot.unlink(missing_ok=True)
    # --no-sandbox: the tests run as root, where Chromium refuses its sandbox.
    result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=640,240",
                             f"--screenshot={shot}", "--dump-dom", f"http://127.0.0.1:{lab.ports[name]}/hello"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert TEXTS[name] in result.stdout
    assert shot.read_bytes().startswith(PNG_MAGIC)
