"""The page's WSGI app: the archive, a run's live or replayed view, a check's summary, and their JSON.

    GET /                         the archive (the page; its script fetches /api/runs)
    GET /run/ID, /check/ID        a run's view, a check's summary (the same page)
    GET /api/runs                 every run and check under the reports folder, newest first
    GET /api/run/ID?since=N       the run's samples.ndjson lines from line N on (samples.parse)
    GET /api/check/ID             a check's summary and its runs
    GET /api/ping                 who serves, and which reports folder (lbaws scenario --watch asks)
    GET /files/ID/NAME            a run's report.json, report.md, timeline.png or samples.ndjson
    GET /static/NAME              the page's own script and style: nothing comes from elsewhere

The reports folder is LBAWS_WATCH_REPORTS, read at each request (lbaws watch sets it for the server).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qs

from watch import archive, samples

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".md": "text/markdown; charset=utf-8",
         ".png": "image/png", ".ndjson": "application/x-ndjson"}
RUN_FILES = ("report.json", "report.md", "timeline.png", "samples.ndjson")
PING = "lbaws-watch"


class HTTPError(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def reports() -> Path:
    return Path(os.environ.get("LBAWS_WATCH_REPORTS", "reports"))


def _json(start_response, data, status="200 OK"):
    body = json.dumps(data, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


def _file(start_response, path: Path):
    body = path.read_bytes()
    start_response("200 OK", [("Content-Type", TYPES.get(path.suffix, "application/octet-stream")),
                              ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
    return [body]


def _since(query: dict) -> int:
    text = query.get("since", ["0"])[0]
    if not text.isdigit():
        raise HTTPError("400 Bad Request", f"since must be a line count (0 or more), not {text!r}")
    return int(text)


def _found(root: Path, ident: str, what):
    try:
        folder = archive.folder_of(root, ident)
    except archive.NotFound:
        raise HTTPError("404 Not Found", f"no run or check {ident!r} under {root}") from None
    row = what(root, folder)
    if row is None:
        raise HTTPError("404 Not Found", f"{ident!r} under {root} holds no {what.__name__}")
    return folder, row


def route(method: str, path: str, query: dict, start_response):
    if method not in ("GET", "HEAD"):
        raise HTTPError("405 Method Not Allowed", f"{method} is not served here; only GET")
    root = reports()
    if path == "/" or path.startswith(("/run/", "/check/")):
        return _file(start_response, STATIC / "index.html")
    if path.startswith("/static/"):
        name = path[len("/static/"):]
        if name not in {p.name for p in STATIC.iterdir()}:
            raise HTTPError("404 Not Found", f"no static file {name!r}")
        return _file(start_response, STATIC / name)
    if path == "/api/ping":
        return _json(start_response, {PING: True, "reports": str(root.resolve())})
    if path == "/api/runs":
        return _json(start_response, archive.listing(root))
    if path.startswith("/api/run/"):
        folder, row = _found(root, path[len("/api/run/"):], archive.run)
        read = samples.read(folder / archive.SAMPLES, _since(query)) if row["samples"] else \
            {"lines": [], "next": 0, "errors": [], "done": True}
        return _json(start_response, {"run": row, **read})
    if path.startswith("/api/check/"):
        return _json(start_response, _found(root, path[len("/api/check/"):], archive.check)[1])
    if path.startswith("/files/"):
        ident, _, name = path[len("/files/"):].rpartition("/")
        folder, _ = _found(root, ident, archive.run)
        if name not in RUN_FILES or not (folder / name).is_file():
            raise HTTPError("404 Not Found", f"run {ident!r} has no file {name!r}")
        return _file(start_response, folder / name)
    raise HTTPError("404 Not Found", f"nothing at {path}")


def app(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        return route(environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/", query, start_response)
    except HTTPError as error:
        return _json(start_response, {"error": str(error)}, error.status)
