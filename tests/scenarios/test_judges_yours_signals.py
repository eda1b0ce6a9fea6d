"""The signal, WSGI, part 1 and prefork judges on recorded observations of a reader's file in a stage's
place: what their server did, in their terms, beside what the lab's stage does; the text's fix named by
key where it differs; each trial judged on its own; and the lab's own runs worded as before."""
import pytest

from lab.inventory import APPS
from scenarios.catalog import (concurrent_wsgi, frameworks, hello, missed_signals, prefork_hung_worker,
                               prefork_respawn, sigchld_eintr)
from scenarios.catalog.lessons import (ACCEPT_EINTR, APP_FAILS, DIES, DROPS_HEADERS, IGNORES_REQUEST, KEEPS_COPY,
                                       NEVER_CLOSES, NEVER_WAITS, NO_BLANK_LINE, NO_RESPAWN, NO_STATUS_LINE,
                                       NO_WORKER_TIMEOUT, NO_WORKERS, NOT_APPS_BODY, ONE_AT_A_TIME, OTHERS_STALL,
                                       QUERY_IN_PATH, REAPS_ONE)
from scenarios.vocabulary.results import (CurlResult, CurlsResult, KillChildResult, LoadResult, Missing, NetcatResult,
                                          Proc, ServerCodeResult, SnapshotResult)

from recorded import load, observations, samples, trial

MINE = "/home/me/server.py"
EINTR = """Traceback (most recent call last):
  File "/srv/lbaws-check/webserver3e.py", line 40, in serve_forever
    client_connection, client_address = listen_socket.accept()
InterruptedError: [Errno 4] Interrupted system call"""
KILLED = LoadResult("lbaws-client --max-clients 128", 137, None, 30.0, "open 100\nKilled")


def one(status=200, body="Hello, World!", exit=0, ttfb=0.01, total=0.02, content_type="", n=1):
    return CurlResult(n=n, exit=exit, status=status, ttfb_s=ttfb, total_s=total, body=body,
                      content_type=content_type)


def curls(*each):
    return CurlsResult(curls=tuple(each), wall_s=0.1, exec_rc=0)


def zombies_snapshot(count, fd_count=4):
    return SnapshotResult(children=tuple(Proc(100 + n, 1, "Z", 23456, "python3") for n in range(count)),
                          fd_count=fd_count)


def assert_readable(verdict):
    assert "None" not in verdict.observed and "could not judge" not in verdict.observed, verdict.observed


# sigchld-eintr: a reader's 3e runs in the Python 3 trial; the two emulated trials stay the lab's.

def eintr_runs(py3=None, py2_dies=True):
    py3 = py3 or trial("3e", "3e", results={"curl": curls(one()), "again": curls(one())}, final=zombies_snapshot(0),
                       logs="Child 12 terminated with status 0\nChild 13 terminated with status 0\n",
                       planned=("curl", "settle", "again", "done"))
    py2 = trial("3e-py2", "3e", results={"curl": curls(one())}, planned=("curl", "settle"),
                exit_code=1 if py2_dies else None, logs=EINTR + "\n" if py2_dies else "")
    fixed = trial("3f-py2", "3f", results={"curl": curls(one()), "again": curls(one())},
                  planned=("curl", "settle", "again"))
    return observations(py3, py2, fixed)


def my_3e(again=None, zombies=0, died=False, logs=""):
    results = {"curl": curls(one(body="hi from my 3e", total=3.0))}
    if not died:
        results["again"] = again or curls(one(body="hi from my 3e", total=3.0))
    else:
        results["again"] = Missing("the server had exited")
    return trial("3e", "3e", results=results, final=None if died else zombies_snapshot(zombies),
                 exit_code=1 if died else None, logs=logs, server_file=MINE,
                 samples=samples([(1.0, 4, 1, 0), (4.0, 4, 0, zombies)]), planned=("curl", "settle", "again", "done"))


def test_sigchld_eintr_in_the_labs_own_run_reads_as_the_stages():
    verdict = sigchld_eintr.judge(eintr_runs())
    assert verdict.reproduced
    assert verdict.observed == ("Python 3: 3e reaped 2 children in its SIGCHLD handler, answered the next curl and "
                                "printed no EINTR traceback. With --python2-signals, 3e died after its first child "
                                "exited (status 1): 'InterruptedError: [Errno 4] Interrupted system call'; 3f with "
                                "the same emulation restarted accept() and answered the next curl.")
    assert "your server" not in verdict.observed


def test_sigchld_eintr_a_3e_whose_accept_comes_back_behaves_as_3e_whatever_it_answers():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e()))
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("your server (in 3e's place) answered curl with status 200 with "
                                       "'hi from my 3e'; once that child had exited, the next curl got status 200")
    assert "accept() came back after the SIGCHLD; it left no zombie" in verdict.observed
    assert "3e, which has Python 2's signals (--python2-signals), died after its first child exited" \
        in verdict.observed
    assert "3f, which has the same emulation, restarted accept()" in verdict.observed
    assert verdict.numbers["py3_3e_zombies_left"] == 0
    assert_readable(verdict)


def test_sigchld_eintr_a_3e_that_never_waits_is_told_so():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e(zombies=2)))
    assert not verdict.reproduced and verdict.lessons == (NEVER_WAITS.key,)
    assert "it left 2 zombies: it does not wait for its children, where 3e's SIGCHLD handler waits for each" \
        in verdict.observed


def test_sigchld_eintr_a_3e_that_dies_of_eintr_under_python_3_is_given_3fs_fix():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e(died=True, logs=EINTR + "\n")))
    assert not verdict.reproduced and verdict.lessons == (ACCEPT_EINTR.key,)
    assert ("and then exited with status 1 (InterruptedError: [Errno 4] Interrupted system call): the EINTR "
            "escaped accept(), as the text's 3e does on Python 2") in verdict.observed
    assert verdict.numbers["py3_3e_zombies_left"] == 0  # the last sample alive: it had none yet
    assert_readable(verdict)


def test_sigchld_eintr_a_3e_whose_accept_does_not_come_back_differs():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e(again=curls(one(status=None, body="", exit=28, total=10.0)))))
    assert not verdict.reproduced and verdict.lessons == (ACCEPT_EINTR.key,)
    assert "the next curl got no response: accept() did not come back after the SIGCHLD" in verdict.observed


def test_sigchld_eintr_when_only_the_labs_emulation_misses_its_part_the_check_is_an_error():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e(), py2_dies=False))
    assert verdict.verdict.name == "ERROR"
    assert verdict.observed.startswith("the lab's own 3e and 3f with --python2-signals did not show its part")
    assert "did not die of EINTR: its curl got status 200 with 'Hello, World!', and it was still running" \
        in verdict.observed


def test_sigchld_eintr_a_3e_that_died_without_a_traceback_is_told_its_exit_status():
    verdict = sigchld_eintr.judge(eintr_runs(my_3e(died=True)))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "and then exited with status 1 (no traceback)" in verdict.observed
    assert_readable(verdict)


# missed-signals: five runs of 128 clients; a 3f leaves some children, not all, as zombies.

def f_runs(zombie_counts, yours=True, load_results=None, died=()):
    load_results = load_results or {}
    return observations(*[
        trial("3f", "3f", samples=samples([(1.0, 40, 30, 0), (3.0, 4, 0, z)]), server_file=MINE if yours else "",
              results={"load": load_results.get(i, load(responses=128))}, planned=("load", "settle", "after"),
              exit_code=1 if i in died else None)
        for i, z in enumerate(zombie_counts)])


def test_missed_signals_in_the_labs_own_run_reads_as_before():
    verdict = missed_signals.judge(f_runs([3, 0, 5, 0, 2], yours=False))
    assert verdict.reproduced
    assert verdict.observed.startswith("zombies remained after 3 of 5 runs (rate 60%, required 50%); zombies left "
                                       "per run: [3, 0, 5, 0, 2] (mean 2.0 of 128 children)")
    assert "your server" not in verdict.observed


def test_missed_signals_a_3f_that_reaps_once_per_signal_behaves_as_3f():
    verdict = missed_signals.judge(f_runs([3, 0, 5, 0, 2]))
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("your server (in 3f's place), 5 runs of 128 simultaneous clients: zombies "
                                       "remained after 3 of them (rate 60%, required 50%; mean 2.0 zombies); "
                                       "run 1: 128 responses, 3 zombies after")


def test_missed_signals_a_3f_that_reaps_in_a_loop_differs_and_is_told_why():
    verdict = missed_signals.judge(f_runs([0, 0, 0, 0, 0]))
    assert not verdict.reproduced and verdict.lessons == ()
    assert "zombies remained after 0 of them" in verdict.observed
    assert verdict.observed.endswith("as 3g's waitpid(-1, WNOHANG) loop does; 3f calls wait() once per signal, so "
                                     "coalesced signals leave zombies.")


def test_missed_signals_a_3f_that_never_waits_differs_though_zombies_remain():
    verdict = missed_signals.judge(f_runs([128] * 5))
    assert not verdict.reproduced and verdict.lessons == (NEVER_WAITS.key,)
    assert "Every child it served stayed a zombie: it never waits for them." in verdict.observed


def test_missed_signals_a_failed_load_client_takes_only_its_runs_response_count():
    verdict = missed_signals.judge(f_runs([3, 0, 5, 0, 2], load_results={1: KILLED}))
    assert verdict.reproduced
    assert ("run 2: the load client failed (the load client printed no summary (exit 137): Killed), 0 zombies "
            "after") in verdict.observed
    assert verdict.numbers["responses_per_run"] == [128, None, 128, 128, 128]


def test_missed_signals_a_run_whose_server_died_names_it():
    verdict = missed_signals.judge(f_runs([3, 0, 5, 0, 2], died=(4,)))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "run 5: 128 responses, the server exited with status 1 (no traceback)" in verdict.observed


def test_missed_signals_a_run_with_no_sample_alive_says_so():
    obs = f_runs([3, 0, 5, 0, 2])
    obs.runs("3f")[2].samples = []
    verdict = missed_signals.judge(obs)
    assert "run 3: 128 responses, no sample saw the server alive" in verdict.observed
    assert verdict.numbers["zombies_per_run"] == [3, 0, None, 0, 2]
    assert_readable(verdict)


# concurrent-wsgi: 8 clients of each app's /slow (1 s), each framework's trial on its own.

def wsgi_trial(app, yours=True, ttfbs=None, status=200, body=None, zombies=0, final_fds=4, died=False):
    ttfbs = ttfbs or [1.02 + n / 100 for n in range(8)]
    got = curls(*[one(status=status, body=app.greeting if body is None else body, ttfb=t, total=t + 0.01, n=n)
                  for n, t in enumerate(ttfbs)])
    return trial(app.role, "3h", baseline=SnapshotResult(fd_count=4),
                 final=None if died else SnapshotResult(fd_count=final_fds), exit_code=1 if died else None,
                 samples=samples([(1.0, 12, 8, 0), (3.0, final_fds, 0, zombies)]),
                 results={"curl": Missing("the server had exited") if died else got},
                 planned=("curl", "settle", "after"), server_file=MINE if yours else "")


def wsgi_obs(yours=True, **changes):
    """changes: app role -> wsgi_trial keywords for that app."""
    return observations(*[wsgi_trial(app, yours, **changes.get(app.role, {})) for app in APPS])


def test_concurrent_wsgi_in_the_labs_own_run_reads_as_before():
    verdict = concurrent_wsgi.judge(wsgi_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed.startswith("8 simultaneous clients of /slow, 1s per request (one at a time that is 8s): "
                                       "flask: 8/8 answered, slowest first byte 1.09s, peak 8 live children, 0 "
                                       "zombies after, fds 4 -> 4; pyramid:")
    assert "your server" not in verdict.observed


def test_concurrent_wsgi_a_3h_serving_every_app_together_behaves_as_3h():
    verdict = concurrent_wsgi.judge(wsgi_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert ("flask: your server (in 3h's place): 8/8 curls got a response with the app's page, the slowest first "
            "byte after 1.09s; 0 zombies after, 4 descriptors at the end (it started with 4)") in verdict.observed
    assert verdict.observed.endswith("As 3h does: it forks a child per connection, closes the parent's copy and "
                                     "reaps with waitpid(-1, WNOHANG) in a loop.")


def test_concurrent_wsgi_a_3h_that_serves_one_client_at_a_time_is_told_so():
    verdict = concurrent_wsgi.judge(wsgi_obs(flask={"ttfbs": [1.0 * n for n in range(1, 9)]}))
    assert not verdict.reproduced and verdict.lessons == (ONE_AT_A_TIME.key,)
    assert ("the slowest first byte after 8.00s: clients waited for one another's requests (together, each has "
            "it after about 1s)") in verdict.observed


@pytest.mark.parametrize("changes,lessons", [
    (dict(zombies=8), (NEVER_WAITS.key,)),
    (dict(zombies=3), (REAPS_ONE.key,)),
    (dict(final_fds=12), (KEEPS_COPY.key,)),
])
def test_concurrent_wsgi_names_what_the_server_left_behind(changes, lessons):
    verdict = concurrent_wsgi.judge(wsgi_obs(django=changes))
    assert not verdict.reproduced and verdict.lessons == lessons
    assert verdict.numbers["django_zombies_after"] == changes.get("zombies", 0)
    assert verdict.numbers["django_final_fds"] == changes.get("final_fds", 4)


def test_concurrent_wsgi_an_apps_error_page_or_another_body_is_named():
    verdict = concurrent_wsgi.judge(wsgi_obs(flask=dict(status=404, body="Not Found", ttfbs=[0.02] * 8),
                                             wsgi=dict(body="b'Hello world from a simple WSGI application!\\n'")))
    assert not verdict.reproduced and verdict.lessons == (APP_FAILS.key, NOT_APPS_BODY.key)
    assert ("8/8 curls got a response (0 of them the app's page; the first: status 404 with 'Not Found'), the "
            "slowest first byte after 0.02s: the app's /slow did not pause (1s), so whether the clients were "
            "served together cannot be timed") in verdict.observed


def test_concurrent_wsgi_a_trial_whose_server_died_keeps_the_other_frameworks_readings():
    verdict = concurrent_wsgi.judge(wsgi_obs(pyramid=dict(died=True)))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert "pyramid: your server (in 3h's place): no curl result (pyramid: no 'curl' result: the server had exited)" \
        in verdict.observed
    assert "django: your server (in 3h's place): 8/8 curls got a response with the app's page" in verdict.observed
    assert_readable(verdict)


# frameworks: webserver2 serving each app; the app's body and Content-Type must come through.

KEYERROR = "Traceback (most recent call last):\n  File \"/srv/webserver2.py\", line 80\nKeyError: 'HTTP_HOST'\n"


def app_trial(app, yours=True, curl=None, died=False):
    if curl is None:
        curl = curls(one(body=app.greeting, content_type="text/plain; charset=utf-8"))
    results = {"curl": Missing("the server had exited") if died else curl,
               "code": ServerCodeResult("/opt/venv/lib/lbaws", "ab" * 32, 0, "", app.image, 9, 7, True)}
    return trial(app.role, "2", results=results, server_file=MINE if yours else "", exit_code=1 if died else None,
                 logs=KEYERROR if died else "")


def frameworks_obs(yours=True, **changes):
    return observations(*[app_trial(app, yours, **changes.get(app.role, {})) for app in APPS])


def test_frameworks_in_the_labs_own_run_reads_as_before():
    verdict = frameworks.judge(frameworks_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed.startswith("flask: 'Hello world from Flask!' (text/plain; charset=utf-8); pyramid:")
    assert verdict.observed.endswith("The lbaws package has the same sha256 in all four images (abababababab...), "
                                     "every app's Content-Type reached curl, and each app image is built on the "
                                     "server image's layers.")


def test_frameworks_a_webserver2_with_its_own_status_line_serves_every_app():
    changes = {"wsgi": {"curl": curls(one(status=203, body=APPS[3].greeting, content_type="text/plain"))}}
    verdict = frameworks.judge(frameworks_obs(**changes))
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("your server (in 2's place) served flask ('Hello world from Flask!'), "
                                       "pyramid")
    assert "whatever its status line, HTTP version or Content-Length" in verdict.observed


@pytest.mark.parametrize("curl,lesson,said", [
    (curls(one(body="Hello world from Flask!")), DROPS_HEADERS,
     "flask: status 200 with 'Hello world from Flask!' but no Content-Type text/plain, which the app sends: some "
     "app's headers did not reach curl"),
    (curls(one(body="b'Hello world from Flask!\\n'", content_type="text/plain")), NOT_APPS_BODY,
     "flask: status 200 with \"b'Hello world from Flask!\\\\n'\", not the app's 'Hello world from Flask!'"),
    (curls(one(status=500, body="Internal Server Error", content_type="text/html")), APP_FAILS,
     "flask: status 500 with 'Internal Server Error', not the app's 'Hello world from Flask!'"),
    (curls(one(status=None, body="", exit=52)), APP_FAILS, "flask: curl got no response (exit 52)"),
])
def test_frameworks_names_what_did_not_come_through(curl, lesson, said):
    verdict = frameworks.judge(frameworks_obs(flask={"curl": curl}))
    assert not verdict.reproduced and verdict.lessons == (lesson.key,)
    assert said in verdict.observed
    assert "served pyramid ('Hello world from Pyramid!'), django" in verdict.observed


def test_frameworks_an_app_whose_server_died_is_told_with_the_error_and_the_others_still_judge():
    verdict = frameworks.judge(frameworks_obs(django={"died": True}))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert ("django: no curl result: the server exited with status 1 (KeyError: 'HTTP_HOST')"
            in verdict.observed)
    assert verdict.numbers["bodies"]["django"] is None and verdict.numbers["bodies"]["flask"] == APPS[0].greeting
    assert_readable(verdict)


# hello: part 1 answers curl, and answers garbage just the same.

def hello_obs(curl=None, output="HTTP/1.1 200 OK\r\n\r\nHello, World!\r\n", yours=True, died=False):
    results = {"curl": curl or curls(one()), "netcat": NetcatResult(0, output, "")}
    if died:
        results["curl"] = Missing("the server had exited")
    return observations(trial("part1", "1", results=results, server_file=MINE if yours else "",
                              exit_code=1 if died else None))


def test_hello_in_the_labs_own_run_reads_as_before():
    verdict = hello.judge(hello_obs(yours=False))
    assert verdict.reproduced
    assert verdict.observed == ("curl exited 0 with status 200 and body 'Hello, World!'; the line 'garbage' sent "
                                "with netcat got back 'HTTP/1.1 200 OK' and the same 'Hello, World!'.")


def test_hello_a_server_with_its_own_greeting_that_answers_garbage_the_same_behaves_as_1():
    verdict = hello.judge(hello_obs(curls(one(body="Howdy")), "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nHowdy"))
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed == ("against your server (in 1's place) curl got status 200 with 'Howdy' (exit 0); the "
                                "line 'garbage' sent with netcat got back 'HTTP/1.0 200 OK' and the same body: it "
                                "answers whatever arrives, as webserver1 does.")


@pytest.mark.parametrize("curl,output,lesson,said", [
    (None, "HTTP/1.1 400 Bad Request\r\n\r\nbad request", IGNORES_REQUEST,
     "got back 'HTTP/1.1 400 Bad Request' and not the same 'Hello, World!': it answers garbage differently, so it "
     "reads the request"),
    (curls(one(status=None, body="", exit=1)), "Hello, World!\n", NO_STATUS_LINE,
     "what it sends starts 'Hello, World!', with no status line, which curl refuses"),
    (curls(one(exit=28, total=10.0)), "HTTP/1.1 200 OK\r\n\r\nHello, World!\r\n", NEVER_CLOSES,
     "curl then waited until its own --max-time: the connection was never closed"),
    (curls(one(body="")), "HTTP/1.1 200 OK\nHello, World!\n", NO_BLANK_LINE,
     "curl got status 200 with an empty body (exit 0); the line 'garbage' sent with netcat got back "
     "'HTTP/1.1 200 OK'"),
])
def test_hello_names_the_response_fault(curl, output, lesson, said):
    verdict = hello.judge(hello_obs(curl, output))
    assert not verdict.reproduced and verdict.lessons == (lesson.key,)
    assert said in verdict.observed
    assert_readable(verdict)


def test_hello_a_server_that_died_before_curl_is_told_so():
    verdict = hello.judge(hello_obs(died=True, output=""))
    assert not verdict.reproduced and verdict.lessons == (DIES.key,)
    assert verdict.observed == ("your server (in 1's place) left no curl result; the line 'garbage' sent with "
                                "netcat got back '(nothing)'; the server exited with status 1 (no traceback).")


# prefork-respawn: kill -9 the busiest worker under steady keep-alive load.

STEADY = [150, 200, 200, 200, 199, 200, 201, 200, 200, 200, 200, 200, 20]


def steady_load(responses=STEADY, failed=None, reconnects=None):
    failed = failed or [0, 0, 0, 0, 1] + [0] * 8
    reconnects = reconnects or [0, 0, 0, 0, 9] + [0] * 8
    per_second = {"responses": responses, "failed": failed, "reconnects": reconnects}
    # Each connection the kill ended, idle or with its request in flight, is replaced by a new one.
    summary = {"responses": sum(responses), "reconnects": sum(reconnects), "per_second": per_second,
               "connected": 16 + sum(reconnects) + sum(failed)}
    return LoadResult("lbaws-client --pattern keep-alive ...", 0, summary, 12.1, "", "keep-alive", 2.0)


def killed(before=(10, 11, 12, 13), after=(11, 12, 13, 30), victim=10, zombies=()):
    return KillChildResult(victim=victim, signal=9, t_s=6.4, fds_by_child={10: 19, 11: 16} if victim else {},
                           kill_exit=0 if victim else None, kill_stderr="", live_before=before, live_after=after,
                           zombies_after=zombies)


def respawn_obs(load_result=None, kill=None, yours=True, end_zombies=0):
    record = trial("prefork", "prefork", results={"steady": load_result or steady_load(), "kill": kill or killed()},
                   samples=samples([(1.0, 8, 2, 0), (7.0, 9, 2, 0), (14.0, 8, 2, end_zombies)]),
                   server_file=MINE if yours else "", planned=("steady", "pause", "kill", "after"))
    return observations(record)


def test_prefork_respawn_in_the_labs_own_run_reads_as_before():
    verdict = prefork_respawn.judge(respawn_obs(kill=killed(before=(10, 11), after=(11, 30)), yours=False))
    assert verdict.reproduced
    assert verdict.observed.startswith("kill -9 10 (the worker with 19 descriptors) 4.4s into 12s of 200 requests/s "
                                       "from 16 kept connections: workers [10, 11] -> [11, 30] (replaced by [30])")
    assert "(the connections the dead worker held)" in verdict.observed


def test_prefork_respawn_a_master_of_four_workers_that_replaces_one_behaves_as_prefork():
    verdict = prefork_respawn.judge(respawn_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("against your server (in prefork's place), kill -9 10 (the worker with 19 "
                                       "descriptors)")
    assert "workers [10, 11, 12, 13] -> [11, 12, 13, 30] (replaced by [30])" in verdict.observed


@pytest.mark.parametrize("kill,end_zombies,load_result,lessons", [
    (killed(after=(11, 12, 13)), 0, None, (NO_RESPAWN.key,)),
    (killed(after=(11, 12, 13), zombies=(10,)), 1, None, (NO_RESPAWN.key, NEVER_WAITS.key)),
    (killed(), 0, steady_load(STEADY[:5] + [40] * 7 + [5]), (OTHERS_STALL.key,)),
    (killed(), 0, steady_load(failed=[0, 0, 0, 0, 30] + [0] * 8), (OTHERS_STALL.key,)),
])
def test_prefork_respawn_names_what_the_master_did_not_do(kill, end_zombies, load_result, lessons):
    verdict = prefork_respawn.judge(respawn_obs(load_result, kill, end_zombies=end_zombies))
    assert not verdict.reproduced and verdict.lessons == lessons


def test_prefork_respawn_on_a_busy_machine_the_requests_in_flight_fail_and_their_clients_reconnect():
    # Seen side by side: the dead worker held 8 connections with requests in flight; 3 more were idle.
    verdict = prefork_respawn.judge(respawn_obs(steady_load(failed=[0, 0, 0, 0, 8] + [0] * 8,
                                                            reconnects=[0, 0, 0, 0, 3] + [0] * 8),
                                                kill=killed(before=(10, 11), after=(11, 30)), yours=False))
    assert verdict.reproduced
    assert "8 failed request(s) and opened 11 new connection(s), 3 of them for one found closed" in verdict.observed


def test_prefork_respawn_a_server_that_closes_each_connection_is_judged_by_its_failures():
    each = [n - 1 for n in STEADY]
    verdict = prefork_respawn.judge(respawn_obs(steady_load(reconnects=each)))
    assert verdict.reproduced
    assert ("each client reconnecting after every response: it closes the connection each time, so which clients "
            "the dead worker held cannot be told") in verdict.observed


def test_prefork_respawn_a_server_without_workers_is_told_it_forks_none():
    verdict = prefork_respawn.judge(respawn_obs(kill=killed(before=(), after=(), victim=None)))
    assert not verdict.reproduced and verdict.lessons == (NO_WORKERS.key,)
    assert verdict.observed == ("your server (in prefork's place) had no child process to kill (live children: "
                                "none): it forks no worker up front.")


def test_prefork_respawn_a_failed_load_client_and_a_missing_kill_are_said():
    obs = respawn_obs(LoadResult("lbaws-client --pattern keep-alive", 137, None, 12.0, "Killed"))
    obs["prefork"].results["kill"] = Missing("the server had exited")
    verdict = prefork_respawn.judge(obs)
    assert not verdict.reproduced
    assert verdict.observed == ("against your server (in prefork's place) no worker was killed (prefork: no 'kill' "
                                "result: the server had exited); the steady load failed (the load client printed "
                                "no summary (exit 137): Killed).")
    assert_readable(verdict)


# prefork-hung-worker: one request hangs the app of a worker; the master ends it and starts another.

HUNG_STEADY = [60, 100, 100, 50, 50, 50, 80, 100, 100, 100, 100, 100, 100, 40]
TIMED_OUT_LOG = "Worker 10 gave no sign of life for 3.0s (--worker-timeout); killing it\n"


def hung_load(responses=HUNG_STEADY):
    per_second = {"responses": responses, "failed": [0] * len(responses), "reconnects": [0] * 6 + [4] + [0] * 7}
    summary = {"responses": sum(responses), "reconnects": 4, "per_second": per_second}
    return LoadResult("lbaws-client --pattern keep-alive ...", 0, summary, 14.1, "", "keep-alive", 2.0)


def workers(*pids):
    return SnapshotResult(children=tuple(Proc(pid=pid, ppid=1, stat="S", uid=23456, comm="python3") for pid in pids))


def hung_obs(hung=None, load_result=None, after=(11, 30), yours=True, logs=""):
    hung = hung or curls(one(status=None, body="", exit=52, ttfb=None, total=5.2))
    record = trial("prefork", "prefork", logs=logs, server_file=MINE if yours else "",
                   results={"steady": load_result or hung_load(), "before": workers(10, 11), "hung": hung,
                            "after": workers(*after)},
                   samples=samples([(1.0, 8, 2, 0), (7.0, 9, 2, 0), (14.0, 8, 2, 0)]),
                   planned=("steady", "pause", "before", "hung", "after-wait", "after"))
    return observations(record)


def test_prefork_hung_worker_in_the_labs_own_run_reads_as_before():
    verdict = prefork_hung_worker.judge(hung_obs(curls(one(status=None, body="", exit=52, ttfb=None, total=3.9)),
                                                 yours=False, logs=TIMED_OUT_LOG))
    assert verdict.reproduced
    assert ("it ended after 3.9s with no answer (curl exit 52); the master logged 1 worker timeout(s) [10] "
            "(--worker-timeout 3); workers [10, 11] -> [11, 30] (replaced)") in verdict.observed


def test_prefork_hung_worker_a_master_with_its_own_timeout_behaves_as_prefork():
    verdict = prefork_hung_worker.judge(hung_obs())
    assert verdict.reproduced and verdict.lessons == ()
    assert verdict.observed.startswith("against your server (in prefork's place), GET /slow?seconds=25 3s into")
    assert ("the worker(s) gone by the end: [10] (its own timeout: it is given no --worker-timeout); workers "
            "[10, 11] -> [11, 30] (replaced)") in verdict.observed


@pytest.mark.parametrize("hung,load_result,after,lesson,said", [
    (curls(one(body="Hello world from a simple WSGI application!", ttfb=0.01, total=0.02)), None, (10, 11),
     QUERY_IN_PATH, "was answered at once (status 200 with 'Hello world from a simple WSGI applicati...'): the "
                    "app never hung"),
    (curls(one(status=None, body="", exit=28, ttfb=None, total=20.0)), None, (10, 11), NO_WORKER_TIMEOUT,
     "Nothing ended the stuck worker before curl gave up on its own --max-time."),
    (None, None, (11,), NO_RESPAWN, "workers [10, 11] -> [11] (NOT replaced)"),
    (None, hung_load(HUNG_STEADY[:4] + [0] + HUNG_STEADY[5:]), (11, 30), OTHERS_STALL, "(lowest second 0)"),
])
def test_prefork_hung_worker_names_what_the_server_did(hung, load_result, after, lesson, said):
    verdict = prefork_hung_worker.judge(hung_obs(hung, load_result, after))
    assert not verdict.reproduced and verdict.lessons == (lesson.key,)
    assert said in verdict.observed
    assert_readable(verdict)


def test_prefork_hung_worker_a_failed_load_client_is_said_with_what_was_recorded():
    verdict = prefork_hung_worker.judge(hung_obs(load_result=LoadResult("lbaws-client", 137, None, 14.0, "Killed")))
    assert not verdict.reproduced
    assert verdict.observed == ("against your server (in prefork's place): the steady load failed (the load client "
                                "printed no summary (exit 137): Killed); the hung request ended after 5.2s with no "
                                "response (curl exit 52).")
    assert_readable(verdict)
