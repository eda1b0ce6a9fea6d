"""Part 1: the first server answers Hello, World! to curl, and to garbage typed at it."""
from lbaws.stages import HELLO as GREETING
from scenarios.spec import Curl, Netcat, Scenario, ServerSpec, Trial
from scenarios.verdict import Judgment


def judge(obs) -> Judgment:
    record = obs["part1"]
    curl = record.curl()
    netcat = record.netcat()
    # A reader's server may greet in its own words: the lesson is that garbage gets the same answer.
    curl_answered = curl.exit == 0 and curl.status is not None and bool(curl.body)
    garbage_answered = bool(curl.body) and curl.body in netcat.output
    first_line = netcat.output.splitlines()[0] if netcat.output else "(nothing)"
    return Judgment.of(
        reproduced=curl_answered and garbage_answered and not record.died,
        observed=(f"curl exited {curl.exit} with status {curl.status} and body {curl.body!r}; "
                  f"the line 'garbage' sent with netcat got back {first_line!r} and "
                  f"{'the same' if garbage_answered else 'not the same'} {curl.body or GREETING!r}."),
        numbers={"curl_exit": curl.exit, "curl_status": curl.status, "curl_ttfb_s": curl.ttfb_s,
                 "netcat_exit": netcat.exit, "garbage_answered": garbage_answered},
    )


SCENARIO = Scenario(
    name="hello",
    section="Part 1: webserver1.py with curl and telnet",
    summary="the first server answers curl, and answers garbage just the same",
    prediction=("curl http://localhost:8888/hello prints Hello, World!, and typing any garbage instead of "
                "GET /hello HTTP/1.1 still gets back a Hello, World! response."),
    why=("The part 1 server reads up to 1024 bytes and ignores them: it never parses the request line. "
         "Whatever arrives on the accepted connection, it sends the same fixed HTTP response and closes."),
    trials=(
        Trial("part1", ServerSpec(stage="1"), (Curl(count=1, max_time=10),
                                          Netcat(payload="garbage\r\n\r\n", wait=3))),
    ),
    judge=judge,
)
