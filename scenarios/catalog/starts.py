"""`lbaws check`'s first experiment: does the reader's server start, listen on 8888, and on every
interface? Asked once per file, before any experiment of its stage; not in MODULES (not a lesson)."""
from __future__ import annotations

from pathlib import Path

from scenarios.judging import profile as server_profile
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Scenario, ServerSpec, Snapshot, Trial
from scenarios.executor.substitute import python2_signs
from scenarios.vocabulary.verdict import Judgment

START_TIMEOUT = 20.0  # how long a reader's server may take to listen before it DIFFERS
PORT = 8888
OUTPUT_LINES = 12  # of the server's own output, quoted when it did not start
LOOPBACK = {"127.0.0.1", "[::1]", "::1"}


def output_tail(record) -> str:
    lines = [line for line in record.logs.splitlines() if line.strip()]
    return " | ".join(lines[-OUTPUT_LINES:]) or "(it printed nothing)"


def listen_addresses(listening: str, port: int = PORT) -> list:
    """The local addresses of `ss -Hltn` lines that listen on `port`."""
    found = []
    for line in listening.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[3].rsplit(":", 1)[-1] == str(port):
            found.append(parts[3].rsplit(":", 1)[0])
    return found


def starts_scenario(path: Path | None, first: ServerSpec) -> Scenario:
    """The file (or the reader's own server, as in `first`) started alone and looked at once it listens."""
    spec = ServerSpec(stage=first.stage, app=first.app, image=first.image, own=first.own,
                      file=None if first.own else str(path.resolve()))

    def judge(obs) -> Judgment:
        record = obs["starts"]
        if not record.started:
            if record.died:
                signs = python2_signs(path.read_text(errors="replace")) if spec.file else []
                port = f" It looks like Python 2: {'; '.join(signs)}." if signs else ""
                return Judgment.of(False, f"your server exited at start with status {record.exit_code} before it "
                                          f"listened on port {PORT}; its output: {output_tail(record)}.{port}")
            return Judgment.of(False, f"your server did not listen on port {PORT} within {START_TIMEOUT:g} s; "
                                      f"the lab's experiments all connect to port {PORT}, as the text's clients do; "
                                      f"its output: {output_tail(record)}")
        try:
            addresses = listen_addresses(record.snapshot("listening").listening)
        except MissingResult as missing:
            return Judgment.of(False, f"your server stopped right after it started listening ({missing}); "
                                      f"its output: {output_tail(record)}")
        if addresses and all(address in LOOPBACK for address in addresses):
            return Judgment.of(False, f"your server listens on {addresses[0]}:{PORT} only, so no other machine "
                                      f"(and none of the lab's client containers) can reach it; bind all interfaces "
                                      f"as the text does: SERVER_ADDRESS = (HOST, PORT) = '', {PORT}",
                               {"listening": addresses})
        differs, lessons = server_profile.differs(server_profile.measure(record), spec.stage)
        if differs:
            return Judgment.of(False, differs, {"listening": addresses}, lessons)
        return Judgment.of(True, f"your server listens on {', '.join(addresses)} port {PORT}",
                           {"listening": addresses})

    return Scenario(
        name="starts", section="the text's servers all start with `python webserverN.py` and listen on port 8888",
        summary="the file starts and listens on port 8888 on every interface",
        prediction=f"The server prints its banner and listens on port {PORT} on all interfaces.",
        why="Every experiment connects from a separate client container, as the text's curl and client3.py "
            "connect to the server's port.",
        trials=(Trial("starts", spec, (Snapshot(key="listening"), *server_profile.PROFILE), title="does it start?"),),
        judge=judge, lessons=server_profile.LESSONS)
