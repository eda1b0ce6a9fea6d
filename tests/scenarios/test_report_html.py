"""report.html, written beside report.md from recorded observations: one file that opens anywhere."""
import base64
import re
from html.parser import HTMLParser

from scenarios.reports import report, report_html
from scenarios.catalog import fd_exhaustion
from scenarios.executor.runner import Options, RunResult

from recorded import fd_exhaustion as fd_obs


class Page(HTMLParser):
    """What a browser would fetch or run: every src/href, every script, and the text a reader sees."""

    def __init__(self, text):
        super().__init__()
        self.links, self.scripts, self.words, self.open = [], 0, [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        self.links += [value for name, value in attrs if name in ("src", "href")]
        if tag not in ("meta", "img", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        self.words.append(data)


def run(tmp_path, obs):
    verdict = fd_exhaustion.SCENARIO.judge(obs)
    return RunResult(fd_exhaustion.SCENARIO, "fd-exhaustion-abc123", verdict, obs, started=1700000000.0,
                     duration_s=12.5, options=Options(scale=0.1, reports=tmp_path))


def assert_self_contained(page):
    assert page.scripts == 0
    external = [link for link in page.links if not link.startswith("data:") and re.match(r"\w+:|//", link)]
    assert external == []
    assert page.open == [], "every element closed"


def test_a_run_writes_a_page_with_the_verdict_the_timeline_inlined_and_the_whole_report(tmp_path):
    folder = report.write(run(tmp_path, fd_obs()))
    text = (folder / "report.html").read_text()
    page = Page(text)
    assert_self_contained(page)
    seen = " ".join(page.words)
    assert "REPRODUCED (12.5 s)" in seen
    assert "OSError: [Errno 24] Too many open files" in seen  # report.md's traceback, escaped as text
    assert "accepted" in seen and "252" in seen
    (image,) = [link for link in page.links if link.startswith("data:image/png;base64,")]
    assert base64.b64decode(image.split(",", 1)[1]) == (folder / "timeline.png").read_bytes()
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_a_run_that_did_not_reproduce_says_so_in_its_own_colour(tmp_path):
    folder = report.write(run(tmp_path, fd_obs(fixed_died=True)))
    text = (folder / "report.html").read_text()
    assert f'background: {report_html.TONES["not-reproduced"]}">NOT REPRODUCED (12.5 s)' in text


def test_a_check_page_links_each_run_page_and_escapes_what_the_server_said(tmp_path):
    run_folder = tmp_path / "mine" / "client-hang"
    rows = [{"label": "mine.py", "stage": "3g", "agrees": False, "scenarios": [
                {"scenario": "client-hang", "verdict": "DIFFERS", "outcome": "not-reproduced", "agrees": False,
                 "observed": "curl got <b>nothing</b> & hung", "fix": ["close the parent's copy"],
                 "report": str(run_folder / "report.json")}]},
            {"label": "broken.py", "stage": "3g", "agrees": False, "refused": "does not compile"}]
    path = report_html.write_check(tmp_path, rows)
    assert path == tmp_path / "report.html"
    page = Page(path.read_text())
    assert_self_contained(page)
    assert page.links == ["mine/client-hang/report.html"]
    seen = "".join(page.words)
    assert "0/2 files behave as their stage" in seen
    assert "curl got <b>nothing</b> & hung" in seen and "CANNOT RUN" in seen and "does not compile" in seen
