"""A profile of a reader's server, measured before its experiments: what it is, what it answers, how it
reaps and how it dies. `lbaws check` runs PROFILE in the trial that sees whether the file starts, and
prints the profile at the top of the report and in the class summary.

Every figure comes from the run: the tree of processes and threads in its container while HELD
silent connections wait on it (scenarios.vocabulary.tree), its answers to the text's own request (bare LF, as
client3.py and the text's curl examples send it by hand) and to a CRLF one, its SIGCHLD disposition
and the zombies left once the held connections closed together, and its last words when it exited.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scenarios.catalog.lessons import NEVER_WAITS, REAPS_ONE
from scenarios.vocabulary.results import HoldResult, MissingResult, SettleResult, SnapshotResult
from scenarios.vocabulary.spec import Hold, Netcat, Settle, Snapshot, Until

HELD = 16
# The text's client3.py and its part-1 curl request: lines end with a bare LF. RFC 9112 2.2 lets a
# server accept that; a server that looks only for "\r\n\r\n" never sees the end of its head.
TEXT_REQUEST = "GET /hello HTTP/1.1\nHost: localhost:8888\n\n"
CRLF_REQUEST = "GET /hello HTTP/1.1\r\nHost: localhost:8888\r\nConnection: close\r\n\r\n"
PROFILE = (
    Netcat(payload=TEXT_REQUEST, key="profile-lf"),
    Netcat(payload=CRLF_REQUEST, key="profile-crlf"),
    Hold(clients=HELD, seconds=4.0, key="profile-hold"),
    Settle(until=Until.NO_LIVE_CHILDREN, timeout=4.0, key="profile-settle"),
    Snapshot(key="profile-after"),
)
LESSONS = (NEVER_WAITS, REAPS_ONE)  # what `differs` may name, for the scenario that runs PROFILE
# Process models, as the report names them and the diagnoses read them.
PER_CONNECTION = "a child per connection"
NEVER_EXIT = "a child per connection, children that never exit"
THREADS = "a thread per connection"
POOL = "a fixed pool"
ONE_PROCESS = "one process"
FORKING = (PER_CONNECTION, NEVER_EXIT)
REAPS_ALL = ("3g", "3h")  # the stages whose text reaps every child, so a zombie left differs
# The stages whose text's children outlive their connection: 3c's sleep 60 s after the response.
CHILDREN_OUTLIVE = ("3c",)


@dataclass
class Profile:
    started: bool = False  # it listened: nothing else here was measured otherwise
    model: str = ""  # one of the models above; "" when the profile could not see it
    model_said: str = ""
    idle_processes: int | None = None
    peak_processes: int | None = None
    peak_threads: int | None = None
    after_processes: int | None = None  # once the held connections had closed and children settled
    held: int = 0
    answers: str = ""  # status line, version, length or close, keep-alive
    answers_text_request: bool | None = None
    answers_crlf: bool | None = None
    sigchld: str = ""
    zombies_after: int | None = None
    reaping: str = ""
    died: bool = False
    exit_code: int | None = None
    last_words: str = ""
    notes: list = field(default_factory=list)

    @property
    def forks(self) -> bool:
        return self.model in FORKING

    @property
    def dies_said(self) -> str:
        if not self.died:
            return "it did not die while profiled"
        how = (f"killed by signal {self.exit_code - 128}" if self.exit_code and self.exit_code > 128
               else f"exit status {self.exit_code}")
        return f"it exited ({how}); its last words: {self.last_words or '(none on stderr)'}"

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list:
        """(label, text) pairs, the report's order."""
        requests = {(True, True): "answers the text's request (bare LF line endings) and a CRLF one",
                    (False, True): "answers a CRLF request but not the text's own (bare LF line endings, as "
                                   "client3.py sends it)",
                    (True, False): "answered the text's request (bare LF) but not a CRLF one sent after it, "
                                   "within 2 s (a server that sleeps after each response, as 3b does, shows this)",
                    (False, False): "answered neither the text's request (bare LF) nor a CRLF one",
                    (True, None): "answered the text's request (bare LF); it had exited before a CRLF one came",
                    (False, None): "did not answer the text's request (bare LF); it had exited before a CRLF one came"}
        return [("model", self.model_said or "not seen"),
                ("answers", self.answers or "nothing"),
                ("requests", requests.get((self.answers_text_request, self.answers_crlf), "not asked")),
                ("reaping", self.reaping or "not seen"),
                ("dies", self.dies_said)]


def _answer(record, key: str) -> str:
    try:
        return record.netcat(key).output
    except (MissingResult, KeyError):
        return ""


def describe_answer(raw: str) -> str:
    """What a raw response says about itself: status line, version, length or close, keep-alive."""
    head, _, _ = raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    status = lines[0].strip()
    if not status.startswith("HTTP/"):
        return f"no status line: its first line is {status[:60]!r}" if status else "nothing"
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip().lower()
    version = status.split()[0]
    length = "Content-Length" if "content-length" in headers else (
        "chunked" if "chunked" in headers.get("transfer-encoding", "") else "no length: the body ends at close")
    connection = headers.get("connection", "")
    if "close" in connection:
        kept = "Connection: close"
    elif "keep-alive" in connection or (version == "HTTP/1.1" and length != "no length: the body ends at close"):
        kept = "keep-alive offered"
    else:
        kept = "closes after the response"
    return f"{status}; {length}; {kept}"


def _reaping(profile: Profile, forked: bool) -> str:
    z = profile.zombies_after
    if profile.sigchld == "ignored":
        return ("SIGCHLD set to SIG_IGN: the kernel reaps its children, so none becomes a zombie "
                f"({z if z is not None else '?'} zombies after {profile.held} children ended together)")
    if not profile.model:
        return f"not seen: the server was gone first (SIGCHLD {profile.sigchld or 'not read'})"
    if not forked:
        return "nothing to reap: it forks no child per connection"
    if profile.model == NEVER_EXIT:
        return (f"nothing to reap yet: its children never exit (SIGCHLD {profile.sigchld or 'not read'}, "
                f"{z if z is not None else '?'} zombies)")
    if z is None:
        return "not seen (the server was gone before the children had ended)"
    if profile.sigchld == "caught":
        if z == 0:
            return (f"reaps in its SIGCHLD handler, and every child: 0 zombies after {profile.held} children "
                    f"ended together (as a waitpid loop does; one wait per signal is lucky when no signals coalesced)")
        return (f"reaps in its SIGCHLD handler but misses some: {z} zombies after {profile.held} children ended "
                f"together (one wait per signal, and signals that arrive together coalesce)")
    if z == 0:
        return (f"SIGCHLD keeps its default action, yet 0 zombies after {profile.held} children ended: it waits "
                f"for each child itself (in its loop, or a double fork hands the worker to PID 1)")
    return f"never reaps: {z} zombies after {profile.held} children ended together, and no SIGCHLD handler"


def _model(p: Profile) -> None:
    idle, peak, threads, after = p.idle_processes, p.peak_processes, p.peak_threads, p.after_processes
    if peak is None or idle is None:
        p.model_said = "not seen: the server was gone before its connections were held"
        return
    many = max(2, (p.held * 3) // 4)
    held = f"with {p.held} silent connections open"
    if peak - idle >= many:
        left = after if after is not None else peak
        if left - idle >= many:
            p.model = NEVER_EXIT
            p.model_said = (f"{NEVER_EXIT}: {peak} processes in its container {held}, and {left} still there "
                            f"once they had closed (it had {idle} before): its children never exit")
        else:
            p.model = PER_CONNECTION
            p.model_said = (f"{PER_CONNECTION}: {peak} processes in its container {held} ({idle} idle, "
                            f"{after if after is not None else '?'} once they had closed)")
    elif threads is not None and threads - peak >= many:
        p.model = THREADS
        p.model_said = f"{THREADS}: one process with {threads} threads {held} ({p.idle_processes} process idle)"
    elif idle > 1:
        p.model = POOL
        p.model_said = (f"{POOL} of {idle} processes ({threads} threads) serving {p.held} held connections: "
                        f"its processes do not grow with them")
    else:
        p.model = ONE_PROCESS
        p.model_said = (f"{ONE_PROCESS}, {threads} thread{'s' if threads != 1 else ''}, {held}: every connection "
                        f"is served in that process (an event loop, or one at a time), all against its one nofile")


def measure(record) -> Profile:
    """The profile of the reader's server from the trial that ran PROFILE."""
    p = Profile(held=HELD, started=record.started)
    lf, crlf = _answer(record, "profile-lf"), _answer(record, "profile-crlf")
    p.answers_text_request = lf.startswith("HTTP/") if record.started else None
    p.answers_crlf = crlf.startswith("HTTP/") if record.started else None
    if not crlf and record.died:
        p.answers_crlf = None  # it had exited before the CRLF request: not asked
    p.answers = describe_answer(crlf if crlf.startswith("HTTP/") else lf)
    idle = record.results.get("listening")
    if isinstance(idle, SnapshotResult) and idle.tree is not None:
        p.idle_processes = idle.tree.processes
    hold = record.results.get("profile-hold")
    if isinstance(hold, HoldResult) and hold.during is not None and hold.during.tree is not None:
        p.peak_processes, p.peak_threads = hold.during.tree.processes, hold.during.tree.threads
        p.held = hold.connected
    after = record.results.get("profile-after")
    if isinstance(after, SnapshotResult):
        p.sigchld = after.sigchld
        if after.tree is not None:
            p.after_processes, p.zombies_after = after.tree.processes, after.tree.zombies
    settle = record.results.get("profile-settle")
    if isinstance(settle, SettleResult) and not settle.reached and p.after_processes is None:
        p.notes.append("its children had not ended within the settle's bound")
    _model(p)
    p.reaping = _reaping(p, p.forks)
    p.died, p.exit_code = record.died, record.exit_code
    p.last_words = last_words(record)
    return p


def last_words(record) -> str:
    """What a server that exited wrote last: its exception, else its last line on stderr, else stdout."""
    if not record.died:
        return ""
    line = record.error_line()
    if line:
        return line
    written = [line.strip() for line in (record.errors or record.logs).splitlines() if line.strip()]
    return written[-1] if written else ""


def render(profile: Profile) -> str:
    import textwrap

    lines = ["your server (measured before the experiments):"]
    for label, text in profile.lines():
        lines.append(textwrap.fill(text, 100, initial_indent=f"  {label:<11}", subsequent_indent=" " * 13))
    return "\n".join(lines)


def profile_lines(profile: dict) -> list:
    """(label, text) pairs of a profile as summary.json keeps it, as the terminal prints them."""
    return Profile(**profile).lines()


def column(profile: dict | None) -> str:
    """The class summary's short cell: its model and whether it answers the text's request."""
    if not profile:
        return "-"
    model = profile.get("model") or "?"
    peak = profile.get("peak_processes")
    threads = profile.get("peak_threads")
    counts = f" ({peak}p/{threads}t)" if peak is not None else ""
    lf = "" if profile.get("answers_text_request") in (True, None) else ", no bare-LF"
    return f"{model}{counts}{lf}"


def differs(profile: Profile, stage_name: str) -> tuple:
    """What the profile alone shows of a server that differs from the text's stage, in numbers, and the
    keys of the lessons it is about; ("", ()) when nothing. The text's servers answer its own request (bare LF); where the stage forks a child that
    ends (3c on), a tree that keeps every child differs too."""
    from lbaws import stages

    stage = stages.find(stage_name)
    if not profile.started:
        return "", ()
    if profile.answers_crlf and profile.answers_text_request is False:
        return ("your server answered a CRLF request but not the text's own, whose lines end with a bare LF "
                "(GET /hello HTTP/1.1\\nHost: localhost:8888\\n\\n, as client3.py sends it): "
                f"it did not answer it within 2 s, where the text's {stage_name} answers both"), ()
    if profile.died:
        return (f"your server exited while it was profiled, where the text's {stage_name} serves on: "
                f"{profile.dies_said}"), ()
    if stage is None or stage.model is not stages.ProcessModel.FORK:
        return "", ()
    if profile.model == NEVER_EXIT and stage.name in CHILDREN_OUTLIVE:
        # Within the profile's few seconds a child that sleeps before exiting cannot be told from one
        # that never exits: for such a stage the text's own children are still there too.
        return "", ()
    if profile.model == NEVER_EXIT:
        return (f"after {profile.held + 2} connections ({profile.held} held, 2 requests) your server's container "
                f"held {profile.after_processes} processes (it had {profile.idle_processes} before them): its "
                f"children never exit; the text's {stage.name} holds 1 plus the children still serving"), ()
    if stage.name in REAPS_ALL and profile.forks and profile.sigchld != "ignored" and profile.zombies_after:
        return (f"after {profile.held} children ended together your server's container held "
                f"{profile.zombies_after} zombies; the text's {stage.name} reaps every one (waitpid(-1, WNOHANG) "
                f"in a loop) and leaves 0"), ("never-waits" if profile.sigchld != "caught" else "reaps-one",)
    return "", ()


def of_result(result) -> Profile | None:
    """The profile from the check's first run (its trial "starts"); None when that run said nothing or
    the server never listened."""
    if result.verdict.verdict.value == "error":
        return None
    try:
        record = result.observations["starts"]
    except (MissingResult, KeyError):
        return None
    return measure(record) if record.started else None
