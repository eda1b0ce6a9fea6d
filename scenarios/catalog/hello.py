"""Part 1: the first server answers Hello, World! to curl, and to garbage typed at it.

A reader's server may greet in its own words, with any status line or headers: the lesson is that it
never parses the request, so garbage gets the same answer a request gets.
"""
from lbaws.stages import HELLO as GREETING
from scenarios.catalog.lessons import DIES, IGNORES_REQUEST, NEVER_CLOSES, NO_BLANK_LINE, NO_STATUS_LINE
from scenarios.judging.phrases import said, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Netcat, Scenario, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment

CURL_TIMED_OUT = 28


def recorded(read):
    """What the action recorded, or None when it left nothing (the server had died, say)."""
    try:
        return read()
    except MissingResult:
        return None


def lab_observed(curl, netcat, first_line, garbage_answered) -> str:
    return (f"curl exited {curl.exit} with status {curl.status} and body {curl.body!r}; "
            f"the line 'garbage' sent with netcat got back {first_line!r} and "
            f"{'the same' if garbage_answered else 'not the same'} {curl.body or GREETING!r}.")


def judge(obs) -> Judgment:
    record = obs["part1"]
    curl, netcat = recorded(record.curl), recorded(record.netcat)
    output = netcat.output if netcat else ""
    first_line = output.splitlines()[0] if output else "(nothing)"
    curl_answered = curl is not None and curl.exit == 0 and curl.status is not None and bool(curl.body)
    garbage_answered = curl is not None and bool(curl.body) and curl.body in output
    numbers = {"curl_exit": curl.exit if curl else None, "curl_status": curl.status if curl else None,
               "curl_ttfb_s": curl.ttfb_s if curl else None, "netcat_exit": netcat.exit if netcat else None,
               "garbage_answered": garbage_answered}
    reproduced = curl_answered and garbage_answered and not record.died
    if not record.server_file and curl is not None and netcat is not None:
        return Judgment.of(reproduced, lab_observed(curl, netcat, first_line, garbage_answered), numbers)
    name, lessons, told = who(record), [], []
    if curl is None:
        told.append(f"{name} left no curl result")
    elif curl.status is None:
        told.append(f"against {name} curl got no response (exit {curl.exit})")
        if output and not output.startswith("HTTP/"):
            lessons.append(NO_STATUS_LINE.key)
            told.append(f"what it sends starts {first_line!r}, with no status line, which curl refuses")
    else:
        told.append(f"against {name} curl got {said(curl)} (exit {curl.exit})")
        if curl.exit == CURL_TIMED_OUT:
            lessons.append(NEVER_CLOSES.key)
            told.append("curl then waited until its own --max-time: the connection was never closed")
    if netcat is None:
        told.append("the line 'garbage' sent with netcat left no result")
    elif curl is not None and curl.body:
        told.append(f"the line 'garbage' sent with netcat got back {first_line!r} and "
                    + ("the same body: it answers whatever arrives, as webserver1 does" if garbage_answered
                       else f"not the same {curl.body!r}: it answers garbage differently, so it reads the request"))
        if not garbage_answered:
            lessons.append(IGNORES_REQUEST.key)
    else:
        told.append(f"the line 'garbage' sent with netcat got back {first_line!r}")
        if curl is not None and curl.status is not None:
            lessons.append(NO_BLANK_LINE.key)
    if record.died:
        lessons.append(DIES.key)
        told.append(f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})")
    if not reproduced and not lessons:
        lessons.append(DIES.key if record.died else NO_STATUS_LINE.key if curl and curl.status is None
                       else IGNORES_REQUEST.key)
    return Judgment.of(reproduced, "; ".join(told) + ".", numbers, lessons)


SCENARIO = Scenario(
    name="hello",
    section="Part 1: webserver1.py with curl and telnet",
    summary="the first server answers curl, and answers garbage just the same",
    prediction=("curl http://localhost:8888/hello prints Hello, World!, and typing any garbage instead of "
                "GET /hello HTTP/1.1 still gets back a Hello, World! response."),
    why=("The part 1 server reads up to 1024 bytes and ignores them: it never parses the request line. "
         "Whatever arrives on the accepted connection, it sends the same fixed HTTP response and closes."),
    trials=(
        # nc ends at the server's close, at once; its -w bound only stops one that never answers (3 s
        # was once too short beside a flood, with the server's container at a low CPU weight).
        Trial("part1", ServerSpec(stage="1"), (Curl(count=1, max_time=10),
                                          Netcat(payload="garbage\r\n\r\n", wait=10))),
    ),
    judge=judge,
    lessons=(NO_STATUS_LINE, NO_BLANK_LINE, NEVER_CLOSES, IGNORES_REQUEST, DIES),
)
