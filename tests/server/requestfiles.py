"""Requests as data files: tests/server/data/requests/*.http, one request and its expected outcome each.

A file is ASCII text: `#` comments (why, with the RFC section), `key: value` lines, a `--` line, then the
raw request. Every octet of the request is spelled out: physical newlines in the file are not part of it,
\\r \\n \\t \\\\ and \\xHH are. So the file survives editors and git, and a CR or a \\x85 is visible.

    expect: accept | eof | gone | 400     what the reader does with the bytes (a status: it refuses)
    method: / target: / version: / path: / query:   for accept; path and query default to the target's
    header: Name: value                   repeated in order; when any is given, the list must be exactly this
    body: hello\\r\\n                       escaped like the request; default empty
    next: GET /b HTTP/1.1\\r\\n...          the bytes left for the next request on the connection; default none
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

DIRECTORY = Path(__file__).parent / "data" / "requests"
_ESCAPE = re.compile(rb"\\(x[0-9A-Fa-f]{2}|[rnt\\]|.|$)")
_SIMPLE = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}


@dataclass
class Case:
    name: str
    raw: bytes
    expect: str
    fields: dict = field(default_factory=dict)
    headers: List[Tuple[str, str]] = field(default_factory=list)
    comment: str = ""

    @property
    def status(self) -> Optional[int]:
        return int(self.expect) if self.expect.isdigit() else None

    def get(self, key, default=None):
        return self.fields.get(key, default)


def unescape(text: str) -> bytes:
    """The octets an escaped line stands for."""
    def octets(match):
        code = match.group(1)
        if code in _SIMPLE:
            return _SIMPLE[code]
        if len(code) == 3:
            return bytes([int(code[1:], 16)])
        raise ValueError(f"unknown escape {match.group(0)!r} in {text!r}")

    return _ESCAPE.sub(octets, text.encode("ascii"))


def escape(data: bytes) -> str:
    """The escaped text of `data`, a physical newline after each \\n, a trailing space spelled \\x20."""
    out = []
    for byte in data:
        char = bytes([byte])
        if char in (b"\r", b"\n", b"\t", b"\\"):
            out.append({b"\r": r"\r", b"\n": "\\n\n", b"\t": r"\t", b"\\": "\\\\"}[char])
        elif 0x20 <= byte < 0x7f:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    text = "".join(out)
    return re.sub(r" (?=\n|$)", r"\\x20", text)


def load(path: Path) -> Case:
    text = path.read_text(encoding="ascii")
    head, separator, raw = text.partition("\n--\n")
    if not separator:
        raise ValueError(f"{path.name}: no '--' line before the request")
    case = Case(name=path.stem, raw=unescape(raw.replace("\n", "")), expect="")
    comments = []
    for line in head.splitlines():
        if line.startswith("#"):
            comments.append(line[1:].strip())
        elif line.strip():
            key, value = _pair(line)
            if key == "header":
                name, field_value = _pair(value)
                case.headers.append((name, unescape(field_value).decode("latin-1")))
            elif key == "expect":
                case.expect = value
            elif key in ("method", "target", "version", "path", "query"):
                case.fields[key] = value
            elif key in ("body", "next"):
                case.fields[key] = unescape(value)
            else:
                raise ValueError(f"{path.name}: unknown key {key!r}")
    if not (case.expect in ("accept", "eof", "gone") or case.expect.isdigit()):
        raise ValueError(f"{path.name}: expect must be accept, eof, gone or a status, not {case.expect!r}")
    case.comment = " ".join(comments)
    return case


def _pair(line):
    # "key: value"; the space after the colon is the format's, and an editor may have dropped it.
    key, _, value = line.partition(":")
    return key, value[1:] if value.startswith(" ") else value


def dump(case: Case) -> str:
    lines = [f"# {case.comment}"] if case.comment else []
    lines.append(f"expect: {case.expect}")
    for key in ("method", "target", "version", "path", "query"):
        if key in case.fields:
            lines.append(f"{key}: {case.fields[key]}")
    lines.extend(f"header: {name}: {escape(value.encode('latin-1'))}" for name, value in case.headers)
    for key in ("body", "next"):
        if case.fields.get(key):
            lines.append(f"{key}: {escape(case.fields[key]).replace(chr(10), '')}")
    return "\n".join(lines) + "\n--\n" + escape(case.raw).rstrip("\n") + "\n"


def load_all() -> List[Case]:
    return [load(path) for path in sorted(DIRECTORY.glob("*.http"))]
