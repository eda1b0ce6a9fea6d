"""prefork-respawn's judge on recorded observations: replaced, no zombie, failures bounded by reconnects."""
from scenarios.catalog import prefork_respawn
from scenarios.vocabulary.results import KillChildResult, LoadResult

from recorded import observations, samples, trial


def _load(responses, failed, reconnects, started_s=2.0, renewed=None):
    """The client opens one connection per client, then one more for each it finds closed (reconnects) or
    loses in flight (renewed, by default only the reconnects)."""
    per_second = {"responses": responses, "failed": failed, "reconnects": reconnects}
    renewed = sum(reconnects) if renewed is None else renewed
    summary = {"responses": sum(responses), "reconnects": sum(reconnects), "connected": 16 + renewed,
               "per_second": per_second}
    return LoadResult(command="lbaws-client --pattern keep-alive ...", exit=0, summary=summary, wall_s=12.1,
                      stderr_tail="", pattern="keep-alive", started_s=started_s)


def _kill(after=(11, 30), zombies=()):
    return KillChildResult(victim=10, signal=9, t_s=6.4, fds_by_child={10: 19, 11: 16}, kill_exit=0,
                           kill_stderr="", live_before=(10, 11), live_after=after, zombies_after=zombies)


def _obs(load, kill, end_zombies=0):
    record = trial("prefork", "prefork", results={"steady": load, "kill": kill},
                   samples=samples([(1.0, 8, 2, 0), (6.5, 9, 1, 0), (7.0, 9, 2, 0), (14.0, 8, 2, end_zombies)]))
    return observations(record)


STEADY = [150, 200, 200, 200, 199, 200, 201, 200, 200, 200, 200, 200, 20]


def test_a_replaced_worker_with_only_its_connections_reconnecting_is_reproduced():
    reconnects = [0, 0, 0, 0, 9] + [0] * 8
    verdict = prefork_respawn.judge(_obs(_load(STEADY, [0, 0, 0, 0, 1] + [0] * 8, reconnects), _kill()))
    assert verdict.reproduced, verdict.observed
    assert verdict.numbers["kill_second"] == 4
    assert verdict.numbers["replaced_by"] == [30] and verdict.numbers["reconnects"] == 9
    assert verdict.numbers["rps_before"] == 200.0 and verdict.numbers["failed_requests"] == 1


def test_requests_lost_in_flight_count_with_the_connections_opened_again():
    failed = [0, 0, 0, 0, 8] + [0] * 8
    reconnects = [0, 0, 0, 0, 3] + [0] * 8
    verdict = prefork_respawn.judge(_obs(_load(STEADY, failed, reconnects, renewed=11), _kill()))
    assert verdict.reproduced, verdict.observed
    assert verdict.numbers["new_connections"] == 11 and verdict.numbers["failed_requests"] == 8
    assert not prefork_respawn.judge(_obs(_load(STEADY, failed, reconnects, renewed=5), _kill())).reproduced


def test_not_replaced_a_zombie_or_more_failures_than_reconnects_is_not_reproduced():
    reconnects = [0, 0, 0, 0, 2] + [0] * 8
    judge = prefork_respawn.judge
    assert not judge(_obs(_load(STEADY, [0] * 13, reconnects), _kill(after=(11,)))).reproduced
    assert not judge(_obs(_load(STEADY, [0] * 13, reconnects), _kill(zombies=(10,)))).reproduced
    assert not judge(_obs(_load(STEADY, [0] * 13, reconnects), _kill(), end_zombies=1)).reproduced
    assert not judge(_obs(_load(STEADY, [0, 0, 0, 0, 3] + [0] * 8, reconnects), _kill())).reproduced


def test_a_load_that_collapses_after_the_kill_is_not_reproduced():
    collapsed = STEADY[:5] + [40] * 7 + [5]
    verdict = prefork_respawn.judge(_obs(_load(collapsed, [0] * 13, [0, 0, 0, 0, 4] + [0] * 8), _kill()))
    assert not verdict.reproduced and verdict.numbers["rps_after"] == 40.0
