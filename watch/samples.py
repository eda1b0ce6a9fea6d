"""Reading a samples.ndjson that may still be being written, or was cut short, or was spoiled.

A reader never fails on the file: it returns the lines it could read and says, line by line, what it
could not. The last line of a running run may be half on disk; it is not counted until its newline is.
"""
from __future__ import annotations

import json
from pathlib import Path


def parse(data: bytes, since: int = 0) -> dict:
    """{"lines": the objects of whole lines from index `since` on, "next": the count of whole lines (the
    next poll's since), "errors": what could not be read, "done": whether the verdict line is there}."""
    whole, newline, tail = data.rpartition(b"\n")
    raw = whole.split(b"\n") if newline else []
    lines, errors, done = [], [], False
    for number, text in enumerate(raw, start=1):
        try:
            line = json.loads(text.decode("utf-8"))
            if not isinstance(line, dict) or not isinstance(line.get("kind"), str):
                raise ValueError("not an object with a \"kind\"")
        except (UnicodeDecodeError, ValueError) as exc:
            errors.append(f"line {number}: could not read it ({_reason(exc)}): {_quote(text)}")
            continue
        done = done or line["kind"] == "verdict"
        if number > since:
            lines.append(line)
    if tail:
        state = "cut short" if done else "still being written, or cut short"
        errors.append(f"line {len(raw) + 1}: no end of line ({state}); its {len(tail)} bytes not read yet: "
                      f"{_quote(tail)}")
    return {"lines": lines, "next": len(raw), "errors": errors, "done": done}


def read(path: Path, since: int = 0) -> dict:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {"lines": [], "next": 0, "errors": [f"{path.name}: no such file (yet)"], "done": False}
    return parse(data, since)


def first(path: Path, kind: str) -> dict | None:
    """The first line of `kind` of a file (the "run" line opens it), reading no further than needed."""
    try:
        with path.open("rb") as stream:
            for text in stream:
                if not text.endswith(b"\n"):
                    return None
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if isinstance(line, dict) and line.get("kind") == kind:
                    return line
    except OSError:
        return None
    return None


def last(path: Path, kind: str, window: int = 65536) -> dict | None:
    """The last whole line of `kind` among the file's last `window` bytes (the verdict closes it)."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(0, size - window))
            data = stream.read()
    except OSError:
        return None
    for text in reversed(data.split(b"\n")):
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("kind") == kind:
            return line
    return None


def _reason(exc: Exception) -> str:
    return str(exc).split(":")[0] if isinstance(exc, json.JSONDecodeError) else str(exc)


def _quote(text: bytes, width: int = 60) -> str:
    shown = text[:width].decode("utf-8", errors="replace")
    return repr(shown + ("..." if len(text) > width else ""))
