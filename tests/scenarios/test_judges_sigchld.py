"""sigchld-eintr judges whether accept() came back after the SIGCHLD, whatever the server answers."""
from scenarios.catalog import sigchld_eintr
from scenarios.vocabulary.results import CurlResult, CurlsResult

from recorded import fds, observations, trial

EINTR = """Traceback (most recent call last):
  File "/work/webserver3e.py", line 40, in serve_forever
    client_connection, client_address = listen_socket.accept()
InterruptedError: [Errno 4] Interrupted system call"""


def curls(status=200, body="Hi from my own 3e", exit=0):
    return CurlsResult(curls=(CurlResult(n=1, exit=exit, status=status, ttfb_s=0.01, total_s=0.02, body=body),),
                       wall_s=0.02, exec_rc=0)


def runs(answer):
    py3 = trial("3e", "3e", results={"curl": answer(), "again": answer()}, final=fds(4),
                logs="Child 12 terminated with status 0\n", planned=("curl", "pause", "again"))
    py2 = trial("3e-py2", "3e", results={"curl": answer()}, exit_code=1, logs=EINTR + "\n",
                planned=("curl", "settle"))
    fixed = trial("3f-py2", "3f", results={"curl": answer(), "again": answer()}, planned=("curl", "pause", "again"))
    return observations(py3, py2, fixed)


def test_any_response_counts_when_accept_came_back_after_the_signal():
    # Another body than the text's, HTTP/1.0 and all: what the lesson reads is that the next client was served.
    verdict = sigchld_eintr.judge(runs(lambda: curls(body="HTTP/1.0 says hi")))
    assert verdict.reproduced, verdict.observed


def test_no_response_to_the_next_client_is_not_reproduced():
    verdict = sigchld_eintr.judge(runs(lambda: curls(status=None, body="", exit=52)))
    assert not verdict.reproduced
