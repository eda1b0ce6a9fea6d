"""Part 3, webserver3d.py: curl gets the body but never sees the end of the response.

The lesson is the parent's copy of the client socket, not the text's bytes: any status line and body
count as the response. A response that states its length (Content-Length) lets curl finish without the
FIN, so where curl cannot hang the judge reads what still shows the copy: the parent's descriptor count
once the child is gone.
"""
from scenarios.catalog.lessons import KEEPS_COPY
from scenarios.judging.phrases import said, sentences, who, yours_first
from scenarios.vocabulary.spec import Curl, Scenario, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment

MAX_TIME = 5  # curl's own timeout: the only thing that ends it against 3d
CURL_TIMED_OUT = 28
PROMPT = 2.0  # seconds within which a curl that got its FIN has finished
DOES = {"3d": "keeps the parent's copy", "3g": "closes the parent's copy"}


def hung(curl) -> bool:
    """It got a response and then waited for an end that never came, until its own --max-time."""
    return curl.status is not None and curl.exit == CURL_TIMED_OUT and (curl.total_s or 0) >= MAX_TIME * 0.95


def finished(curl) -> bool:
    return curl.status is not None and curl.exit == 0 and (curl.total_s or 99) < PROMPT


def kept_copy(record) -> bool | None:
    """The parent still holds a socket the connection left behind; None when it was not counted."""
    kept = record.kept_sockets()
    return None if kept is None else kept > 0


def reading(record) -> dict:
    """What the trial showed: whether the copy was kept, and how curl ended."""
    curl = record.curl()
    kept = kept_copy(record)
    return {"curl": curl, "hung": hung(curl), "finished": finished(curl), "kept": kept,
            "keeps_copy": hung(curl) or bool(kept), "closes_copy": finished(curl) and kept is False}


def held(record) -> str:
    """The parent's sockets after the response: the listener, plus any client connection it kept."""
    start = record.baseline.sockets if record.baseline else None
    if record.final is None:
        how = f"exited with status {record.exit_code}" if record.died else "could not be read"
        return f"no socket count at the end: it {how} (it started with {start})"
    kept = record.kept_sockets()
    count = record.final.sockets
    return (f"{count} socket{'s' if count != 1 else ''} (it started with {start}): "
            + (f"{kept} client connection{'s' if kept != 1 else ''} it never closed" if kept
               else "the client's connection closed"))


def sentence(record, seen: dict, beside) -> str:
    curl = seen["curl"]
    name = who(record, DOES.get(record.stage, ""), beside)
    if curl.status is None:
        told = f"against {name} curl got no response (exit {curl.exit} after {curl.total_s or 0:.2f}s)"
    elif seen["hung"]:
        told = (f"against {name} curl got {said(curl)} after {curl.ttfb_s or 0:.2f}s and then hung until its own "
                f"--max-time {MAX_TIME} (exit {curl.exit} after {curl.total_s or 0:.2f}s): no FIN came")
    else:
        told = (f"against {name} curl got {said(curl)} after {curl.ttfb_s or 0:.2f}s and exited {curl.exit} after "
                f"{curl.total_s or 0:.2f}s")
    told += f"; the parent then held {held(record)}"
    if curl.exit == 0 and seen["kept"]:
        told += (". The response "
                 "told curl its length (Content-Length), so curl could finish without the FIN, and the kept "
                 "socket is what shows the copy")
    return told


def judge(obs) -> Judgment:
    leaky, fixed = obs["3d"], obs["3g"]
    seen = {"3d": reading(leaky), "3g": reading(fixed)}
    lessons = [KEEPS_COPY.key] if seen["3g"]["keeps_copy"] else []
    reproduced = seen["3d"]["keeps_copy"] and seen["3g"]["closes_copy"]
    records = yours_first(leaky, fixed)
    observed = sentences(sentence(record, seen[record.key], records) for record in records)
    if leaky.server_file and not seen["3d"]["keeps_copy"]:
        observed += " Your server does not keep the copy that is 3d's lesson."
    numbers = {}
    for key, each in seen.items():
        curl = each["curl"]
        numbers.update({f"curl_{key}_status": curl.status, f"curl_{key}_exit": curl.exit,
                        f"curl_{key}_ttfb_s": curl.ttfb_s, f"curl_{key}_total_s": curl.total_s,
                        f"{key}_baseline_fds": obs[key].baseline_fds, f"{key}_final_fds": obs[key].final_fds,
                        f"{key}_keeps_copy": each["keeps_copy"]})
    lesson, fix = seen["3d"]["keeps_copy"], seen["3g"]["closes_copy"]
    yours = fix if fixed.server_file else lesson if leaky.server_file else None
    labs = lesson if fixed.server_file else fix if leaky.server_file else reproduced
    return Judgment.weighed(yours, labs, observed, numbers, lessons, "3g" if leaky.server_file else "3d")


SCENARIO = Scenario(
    name="client-hang",
    section="Part 3: webserver3d.py, curl prints the response but does not terminate",
    summary="3d keeps the parent's copy of each client socket: curl gets the body but no FIN",
    prediction=("curl prints Hello, World! from the concurrent server but does not terminate and keeps "
                "hanging: the termination packet (FIN) is never sent."),
    why=("The child closes its copy of the client socket and exits, but the parent still holds a duplicate "
         "descriptor, so the socket's reference count stays at 1 and the kernel never closes it. The response "
         "has no Content-Length, so curl waits for the FIN that only closing the last descriptor would send."),
    trials=(
        Trial("3d", ServerSpec(stage="3d"), (Curl(count=1, max_time=MAX_TIME),)),
        Trial("3g", ServerSpec(stage="3g"), (Curl(count=1, max_time=MAX_TIME),), title="control: 3g closes the copy"),
    ),
    judge=judge,
    lessons=(KEEPS_COPY,),
)
