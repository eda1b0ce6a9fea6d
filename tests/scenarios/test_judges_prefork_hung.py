"""prefork-hung-worker's judge on recorded observations: the others served during the hang, the stuck
worker killed after the timeout and replaced, the rate back after."""
from scenarios.catalog import prefork_hung_worker
from scenarios.vocabulary.results import CurlResult, CurlsResult, LoadResult, Proc, SnapshotResult

from recorded import observations, samples, trial

# 14 whole seconds of 100 requests/s; the hang starts in second 3 and ends 3.9 s later, in second 6.
STEADY = [60, 100, 100, 50, 50, 50, 80, 100, 100, 100, 100, 100, 100, 40]


def _load(responses, failed=None):
    failed = failed or [0] * len(responses)
    per_second = {"responses": responses, "failed": failed, "reconnects": [0] * 6 + [4] + [0] * 7}
    summary = {"responses": sum(responses), "reconnects": 4, "per_second": per_second}
    return LoadResult(command="lbaws-client --pattern keep-alive ...", exit=0, summary=summary, wall_s=14.1,
                      stderr_tail="", pattern="keep-alive", started_s=2.0)


def _snapshot(*pids):
    return SnapshotResult(children=tuple(Proc(pid=pid, ppid=1, stat="S", uid=23456, comm="lbaws") for pid in pids))


def _hung(status=None, exit=52, total=3.9):
    return CurlsResult(curls=(CurlResult(n=1, exit=exit, status=status, ttfb_s=None, total_s=total, body=""),),
                       wall_s=total, exec_rc=0)


def _obs(load, hung, after=(11, 30), logs="Worker 10 gave no sign of life for 3.0s (--worker-timeout); killing it\n"):
    record = trial("prefork", "prefork", logs=logs,
                   results={"steady": load, "before": _snapshot(10, 11), "hung": hung, "after": _snapshot(*after)},
                   samples=samples([(1.0, 8, 2, 0), (7.0, 9, 2, 0), (14.0, 8, 2, 0)]))
    return observations(record)


def test_a_stuck_worker_killed_after_the_timeout_while_the_other_serves_is_reproduced():
    verdict = prefork_hung_worker.judge(_obs(_load(STEADY), _hung()))
    assert verdict.reproduced, verdict.observed
    assert verdict.numbers["victim"] == 10 and verdict.numbers["workers_after"] == [11, 30]
    assert verdict.numbers["rps_lowest_during"] == 50 and verdict.numbers["rps_before"] == 100.0


def test_a_second_without_responses_during_the_hang_is_not_reproduced():
    stalled = STEADY[:4] + [0] + STEADY[5:]
    assert not prefork_hung_worker.judge(_obs(_load(stalled), _hung())).reproduced


def test_no_timeout_or_no_replacement_or_an_answer_is_not_reproduced():
    judge = prefork_hung_worker.judge
    assert not judge(_obs(_load(STEADY), _hung(), logs="")).reproduced
    assert not judge(_obs(_load(STEADY), _hung(), after=(11,))).reproduced
    assert not judge(_obs(_load(STEADY), _hung(status=200, exit=0, total=25.0))).reproduced
    assert not judge(_obs(_load(STEADY), _hung(exit=28, total=20.0))).reproduced  # curl's own --max-time
