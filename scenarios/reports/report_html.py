"""report.html: one self-contained page per run, per checked file and per class, beside report.md.

A teacher mails it, a CI artifact holds it, a browser opens it from disk: so the page carries its own
style and its timeline as a base64 PNG, fetches nothing and needs no script to show the verdict.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

NAME = "report.html"

# The verdict's colour, by report.json's `verdict.verdict`; a check's words map onto the same three.
TONES = {"reproduced": "#1a7f37", "not-reproduced": "#b35900", "error": "#a40e26", "cannot": "#57606a"}
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.verdict { color: #fff; padding: .6rem 1rem; border-radius: 6px; font-weight: 600; font-size: 1.2rem; }
dt { font-weight: 600; margin-top: .6rem; } dd { margin: 0 0 0 1rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
pre { background: #f6f8fa; padding: .8rem; overflow-x: auto; font-size: 13px; }
img { max-width: 100%; border: 1px solid #d0d7de; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def page(title: str, body: list) -> str:
    return "\n".join(["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>", *body, "</body></html>", ""])


def banner(word: str, verdict: str) -> str:
    return (f'<p class="verdict" style="background: {TONES.get(verdict, TONES["cannot"])}">'
            f"{_e(word)}</p>")


def image(path: Path) -> str:
    """The PNG at path inlined as a data: URI, so the page needs no file beside it; "" when there is none."""
    if not path.is_file():
        return ""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="timeline: descriptors, children and zombies over time" src="data:image/png;base64,{encoded}"></p>'


def told(verdict: dict) -> list:
    """A check's diagnosis, fix and note as its terminal says them; outside a check, the lessons named."""
    if verdict.get("told") is None:
        return [f"<dt>The fix</dt><dd>{_e(lesson['fault'])}: {_e(lesson['fix'])}</dd>" for lesson in verdict["lessons"]]
    labels = {"fix": "The fix"}
    return [f"<dt>{_e(labels.get(t['label'], t['label'].capitalize()))}</dt><dd>{_e(t['text'])}</dd>"
            for t in verdict["told"]]


def run_page(data: dict, markdown: str, timeline: Path) -> str:
    """A run's page from its report.json data, its report.md text and its timeline.png."""
    verdict = data["verdict"]
    body = [f"<h1>{_e(data['scenario'])}</h1>", banner(f"{verdict['word']} ({data['duration_s']:.1f} s)",
                                                        verdict["verdict"]),
            f"<p>{_e(data['summary'])}<br>Reproduces: {_e(data['section'])}. Run <code>{_e(data['run_id'])}</code>, "
            f"started {_e(data['started'])}.</p>", "<dl>",
            f"<dt>Prediction (the text)</dt><dd>{_e(verdict['prediction'])}</dd>",
            f"<dt>Observed</dt><dd>{_e(verdict['observed'])}</dd>",
            *told(verdict),
            f"<dt>Why</dt><dd>{_e(verdict['why'])}</dd>", "</dl>", image(timeline)]
    if verdict["numbers"]:
        body += ["<h2>Numbers</h2>", "<table><tr><th>measure</th><th>value</th></tr>",
                 *[f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in verdict["numbers"].items()], "</table>"]
    if data.get("error"):
        body += ["<h2>Error</h2>", f"<pre>{_e(data['error'])}</pre>"]
    # Everything report.md says (trials, limits, tracebacks), as it says it.
    body += ["<h2>The whole report (report.md)</h2>", f"<pre>{_e(markdown)}</pre>"]
    return page(f"{data['scenario']}: {verdict['word']}", body)


def write_run(folder: Path, data: dict) -> Path:
    """folder/report.html from the report.json data, report.md and timeline.png already written there."""
    path = Path(folder) / NAME
    path.write_text(run_page(data, (path.parent / "report.md").read_text(), path.parent / "timeline.png"))
    return path


def _outcome(row: dict) -> str:
    return row.get("outcome") or ("reproduced" if row.get("agrees") else "not-reproduced")


def profile_block(row: dict) -> str:
    """A checked file's profile, as the terminal prints it above its experiments."""
    from scenarios.judging.profile import profile_lines

    said = "".join(f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>" for label, text in profile_lines(row["profile"]))
    return f"<h2>{_e(row['label'])}: your server (measured before the experiments)</h2><dl>{said}</dl>"


def check_page(rows: list, folder: Path) -> str:
    """A check's page: one file's experiments, or a class's files, each linked to its run's page."""
    agree = sum(1 for r in rows if r["agrees"])
    word = f"{agree}/{len(rows)} files behave as their stage"
    body = ["<h1>lbaws check</h1>", banner(word, "reproduced" if agree == len(rows) else "not-reproduced"),
            *[profile_block(r) for r in rows if r.get("profile")],
            "<table><tr><th>file</th><th>stage</th><th>scenario</th><th>verdict</th><th>what your server did</th></tr>"]
    for r in rows:
        if r.get("refused"):
            body.append(f"<tr><td>{_e(r['label'])}</td><td>{_e(r.get('stage', '-'))}</td><td>-</td>"
                        f"<td>CANNOT RUN</td><td>{_e(r['refused'])}</td></tr>")
        for s in r.get("scenarios", []):
            run = Path(s["report"]).parent / NAME
            link = run.relative_to(folder) if run.is_relative_to(folder) else run
            said = s["told"] if "told" in s else [("fix", fix) for fix in s.get("fix", [])]
            fixes = "".join(f"<br><strong>{_e(label.capitalize())}:</strong> {_e(text)}" for label, text in said)
            tone = TONES.get(_outcome(s), TONES["cannot"])
            body.append(f"<tr><td>{_e(r['label'])}</td><td>{_e(r['stage'])}</td>"
                        f'<td><a href="{_e(link)}">{_e(s["scenario"])}</a></td>'
                        f'<td style="color: {tone}; font-weight: 600">{_e(s["verdict"])}</td>'
                        f"<td>{_e(s['observed'])}{fixes}</td></tr>")
    body.append("</table>")
    return page(f"lbaws check: {word}", body)


def write_check(folder: Path, rows: list) -> Path:
    """folder/report.html beside a check's summary.md (rows as scenarios.reports.check_summary.markdown takes them)."""
    path = Path(folder) / NAME
    path.write_text(check_page(rows, Path(folder)))
    return path
