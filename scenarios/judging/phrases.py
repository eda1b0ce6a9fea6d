"""How judges put a trial's readings into words, so a sentence names the server that did it.

In `lbaws check` a reader's file runs in one trial's place: that trial's server is "your server (in 3g's
place)", and the lab's own stage beside it is named with what it does ("3d, which keeps the parent's
copy"). In `lbaws scenario` every trial is the lab's and reads as the stage's name.
"""
from __future__ import annotations

from scenarios.vocabulary.results import MissingResult

BODY_SHOWN = 40  # characters of a response body quoted in a sentence


def who(record, does: str = "", beside=()) -> str:
    """The trial's server as a sentence names it. Beside a reader's file (one of `beside` ran it) the
    lab's stage is also named by what it `does`, for contrast; in the lab's own runs, by its name."""
    if record.server_file:
        return f"your server (in {record.stage}'s place)"
    checking = any(other.server_file for other in beside)
    return f"{record.stage}, which {does}," if does and checking else record.stage


def count(n: int, one: str, many: str | None = None) -> str:
    """ "1 zombie", "3 zombies", "1 live child", "3 live children": a number with its noun agreeing."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def yours_first(*records) -> list:
    """The reader's trial first: a check's sentence starts with what their server did."""
    return sorted(records, key=lambda record: not record.server_file)


def said(curl) -> str:
    """What curl got, whatever the status line and body: "'HTTP 200' with 'Hello, World!'"."""
    if curl.status is None:
        return "no response"
    body = curl.body if len(curl.body) <= BODY_SHOWN else curl.body[:BODY_SHOWN] + "..."
    return f"status {curl.status} with {body!r}" if body else f"status {curl.status} with an empty body"


def descriptors(record) -> str:
    """Where the parent's descriptor count went: "4 -> 5", or how the server ended when it did not live."""
    start = record.baseline_fds
    if record.final_fds is not None:
        return f"{record.final_fds} descriptors at the end (it started with {start})"
    if record.died:
        return f"no descriptor count at the end: it had exited with status {record.exit_code} (it started with {start})"
    return f"no descriptor count at the end (it started with {start})"


def load_failure(record, key: str = "load") -> str:
    """"" when the trial's load client reported its summary; else its exit status and last line."""
    try:
        record.load(key).count("responses")
        return ""
    except MissingResult as missing:
        return str(missing)


def recorded(record) -> str:
    """What a trial did record, whatever the judge missed: how the server ended, its descriptors and children."""
    name = who(record) if record.server_file or record.key == record.stage else f"{record.key} ({record.stage})"
    if not record.started:
        return f"{name} never listened ({record.error or 'no reason recorded'})"
    parts = [f"exited with status {record.exit_code} ({record.error_line() or 'no traceback'})" if record.died
             else "was still running at the end"]
    if record.baseline_fds is not None:
        parts.append(f"started with {record.baseline_fds} descriptors")
    if record.final_fds is not None:
        parts.append(f"ended with {record.final_fds}")
    if record.samples:
        live = count(record.peak("live"), "live child", "live children")
        zombies = count(record.peak("zombies"), "zombie")
        parts.append(f"peaked at {record.peak('fds')} descriptors, {live} and {zombies} as sampled")
    failed = load_failure(record) if "load" in record.planned else ""
    if failed:
        parts.append(f"its load client failed ({failed})")
    return f"{name} " + ", ".join(parts)


def sentences(parts) -> str:
    """Clauses joined into sentences: the first as it stands, the others capitalised."""
    parts = list(parts)
    return ". ".join([parts[0]] + [part[:1].upper() + part[1:] for part in parts[1:]]) + "." if parts else ""
