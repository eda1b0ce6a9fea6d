"""Part 3, webserver3d.py: curl gets the body but never sees the end of the response."""
from lbaws.stages import HELLO
from scenarios.spec import Curl, Scenario, ServerSpec, Trial
from scenarios.verdict import Judgment

MAX_TIME = 5  # curl's own timeout: the only thing that ends it against 3d
CURL_TIMED_OUT = 28


def judge(obs) -> Judgment:
    hung = obs["3d"].curl()
    control = obs["3g"].curl()
    got_body = hung.body == HELLO
    hung_until_timeout = hung.exit == CURL_TIMED_OUT and (hung.total_s or 0) >= MAX_TIME * 0.95
    control_ok = control.exit == 0 and control.body == HELLO and (control.total_s or 99) < 2
    return Judgment.of(
        reproduced=got_body and hung_until_timeout and (hung.ttfb_s or 99) < 1.0 and control_ok,
        observed=(f"against 3d, curl printed {hung.body!r} after {hung.ttfb_s or 0:.2f}s and then hung until its "
                  f"own --max-time {MAX_TIME}: exit {hung.exit} after {hung.total_s or 0:.2f}s. Against 3g, "
                  f"which closes the parent's copy, the same curl exited {control.exit} after "
                  f"{control.total_s or 0:.2f}s."),
        numbers={"curl_3d_exit": hung.exit, "curl_3d_ttfb_s": hung.ttfb_s,
                 "curl_3d_total_s": hung.total_s, "curl_3g_exit": control.exit,
                 "curl_3g_total_s": control.total_s},
    )


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
)
