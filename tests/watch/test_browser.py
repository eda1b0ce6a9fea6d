"""The page in Debian's chromium, headless, driven by selenium through chromium-driver, while a real
fd-exhaustion runs in containers: the fd counter climbs in the DOM, the verdict appears, the archive
lists the run. The screenshot stays in the test's tmp folder; its path is printed."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from watchhelp import LBAWS

pytestmark = [pytest.mark.container, pytest.mark.scenario, pytest.mark.timeout(900)]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "Debian's chromium and chromium-driver are missing: run `make setup`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1100,1500"):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


def wait(what, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(step)
    return None


def count(shown):
    """The number a counter shows, read once: the page redraws it between two reads."""
    return int(shown) if shown and shown.isdigit() else None


def tallies_before_verdict(browser, selector):
    shown = text(browser, selector) or ""
    return shown if re.fullmatch(r"requests \d+, failures \d+", shown) and not text(browser, "#verdict .word") else None


def text(browser, selector):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    try:
        return browser.find_element("css selector", selector).text
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def verdict_word(browser):
    """The verdict's word, without the run's duration the page shows beside it."""
    shown = text(browser, "#verdict .word")
    return shown.split("(")[0].strip() if shown else None


# A real fd-exhaustion floods 3d's backlog of 5, as the scenario's own test does: its load waits for 3d's
# death however busy the machine, so the experiment reproduces and the page must follow it to REPRODUCED.
@pytest.mark.flood
def test_the_page_follows_a_real_fd_exhaustion_to_its_verdict(watching, browser, tmp_path):
    samples = watching.reports / "fd-exhaustion" / "samples.ndjson"
    run = subprocess.Popen([LBAWS, "scenario", "fd-exhaustion", "--reports", str(watching.reports)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    try:
        # Images may be built first: the run is under way once its first trial listens.
        assert wait(lambda: samples.exists() and '"kind": "trial"' in samples.read_text(), 600, 0.5), \
            "the run never started a trial"
        browser.get(watching.url("/run/fd-exhaustion"))
        fds = "[data-trial='3d'] [data-name='fds'] .value"
        first = wait(lambda: count(text(browser, fds)), 60)
        assert first, f"no fd count on the page: {browser.find_element('id', 'main').text[:500]}"
        def risen():
            now = count(text(browser, fds))
            return now if now is not None and now > first else None
        later = wait(risen, 60, 0.1)
        assert later, f"the fd counter stayed at {first}"
        # The load client's tallies arrive while it runs, not only when it ends.
        tallies = "[data-trial='3d'] [data-name='requests']"
        live = wait(lambda: tallies_before_verdict(browser, tallies), 60, 0.1)
        assert live, f"no tallies before the verdict: {text(browser, tallies)}"
        assert wait(lambda: verdict_word(browser), 300) == "REPRODUCED", text(browser, "#verdict")
        verdict = text(browser, "#verdict")
        assert "predicted" in verdict and "observed" in verdict and "why" in verdict
        assert browser.find_elements("css selector", "section[data-key='3d'] svg.chart line.limit")
        # 3d died in accept(): the page reaches the judge's count at death and marks when it died.
        assert text(browser, "[data-trial='3d'] [data-name='fds']") == "fds 256 / 256 at death"
        assert browser.find_elements("css selector", "section[data-key='3d'] svg.chart line.marker")
        assert browser.find_elements("css selector", "section[data-key='3d'] svg.chart circle.death")
        shot = tmp_path / "watch-fd-exhaustion.png"
        browser.save_screenshot(str(shot))
        print(f"\nscreenshot: {shot} (fds {first} then {later}; {verdict_word(browser)})")
        browser.get(watching.url("/"))
        row = "#runs tr[data-id='fd-exhaustion'] .verdict"
        assert wait(lambda: text(browser, row), 10) == "REPRODUCED"
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output
        loads = [line for line in map(json.loads, samples.read_text().splitlines())
                 if line["kind"] == "load" and line["trial"] == "3d"]
        so_far = [line for line in loads if line.get("so_far")]
        assert so_far and not loads[-1].get("so_far"), loads
        assert so_far[0]["t"] < loads[-1]["t"] and so_far[-1]["connected"] > 0
    finally:
        if run.poll() is None:
            run.terminate()
            run.wait(120)
