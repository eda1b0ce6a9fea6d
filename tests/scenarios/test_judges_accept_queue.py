"""The fd- and nproc-exhaustion judges on recorded runs where connections did not all reach accept()."""
import dataclasses

from scenarios.catalog import fd_exhaustion, nproc_exhaustion
from scenarios.vocabulary.results import SnapshotResult, TcpCounters
from scenarios.vocabulary.verdict import Verdict

from recorded import EMFILE_TRACEBACK, curl, load, observations, samples, trial

REPOSITORY_MISS = ("3d: only 194 of 300 connections reached accept(): the listen backlog of 5 overflowed 212 "
                   "times, dropping connections whose client had already gone (the repository's client3.py "
                   "closes each at once).")


def tcp(opens, overflows, drops=None, fd_count=4):
    return SnapshotResult(fd_count=fd_count,
                          tcp=TcpCounters(opens, overflows, overflows if drops is None else drops))


def played(pattern, **summary):
    return dataclasses.replace(load(**summary), pattern=pattern)


def control():
    return trial("3g", "3g", nofile=256, baseline=tcp(0, 0), final=tcp(301, 0),
                 samples=samples([(0.5, 4, 0, 0), (1.0, 9, 5, 0), (2.0, 4, 0, 0)]),
                 results={"load": played("repository", connected=300, connections_attempted=300), "curl": curl()},
                 planned=("load", "settle", "curl"))


def survived_3d(pattern="repository", overflows=212, accepted=194):
    """The issue's measurement: 3d never ran out of descriptors, so it never died."""
    return trial("3d", "3d", nofile=256, baseline=tcp(0, 0), final=tcp(accepted, overflows, fd_count=4 + accepted),
                 logs="Serving HTTP on port 8888 ...\n" + "".join(f"{n}\n" for n in range(1, accepted + 1)),
                 samples=samples([(0.5, 4, 0, 0), (1.0, 120, 0, 116), (2.0, 4 + accepted, 0, accepted)]),
                 results={"load": played(pattern, connected=300, connections_attempted=300)},
                 planned=("load", "settle"))


def test_a_repository_run_that_never_filled_the_descriptors_says_the_backlog_dropped_them():
    verdict = fd_exhaustion.judge(observations(survived_3d(), control()))
    assert not verdict.reproduced
    assert verdict.observed.startswith(REPOSITORY_MISS + " 3d accepted 194 connections and was still running")
    numbers = verdict.numbers
    assert (numbers["client"], numbers["attempted"], numbers["reached_accept"]) == ("repository", 300, 194)
    assert (numbers["listen_overflows"], numbers["listen_drops"]) == (212, 212)
    assert (numbers["3g_attempted"], numbers["3g_reached_accept"], numbers["3g_listen_overflows"]) == (300, 301, 0)


def test_a_held_client_whose_handshakes_overflowed_is_the_machines_shortfall_not_a_verdict():
    verdict = fd_exhaustion.judge(observations(survived_3d(pattern="lab", overflows=40, accepted=230), control()))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith(
        "3d: only 230 of 300 connections reached accept(): the listen backlog of 5 overflowed 40 times, and "
        "every handshake it dropped had to be retried while the client waited; the limit needed 252 of them "
        "before the load's deadline. That is this machine, too busy to deliver the flood in time, not the server")
    assert verdict.numbers["reached_accept"] == 230 and verdict.numbers["listen_overflows"] == 40


def test_a_reader_3d_that_closed_what_reached_it_differs_whatever_the_queue_dropped():
    """Another shape in 3d's place: it closes the parent's copy, so its descriptors stay low however many
    connections the queue let through. That is its doing: DIFFERS, not the machine's ERROR."""
    closes = dataclasses.replace(survived_3d(pattern="lab", overflows=40, accepted=230), server_file="mine.py",
                                 logs="", final=tcp(230, 40, fd_count=4),
                                 samples=samples([(0.5, 4, 0, 0), (1.0, 6, 2, 0), (2.0, 4, 0, 0)]))
    verdict = fd_exhaustion.judge(observations(closes, control()))
    assert verdict.verdict is Verdict.NOT_REPRODUCED
    assert "this machine" not in verdict.observed


def test_nproc_exhaustion_starved_by_a_busy_machine_is_error():
    record = trial("3d", "3d", nofile=500, nproc=400, baseline=tcp(0, 0), final=tcp(350, 90),
                   logs="".join(f"{n}\n" for n in range(1, 351)),
                   samples=samples([(1.0, 300, 3, 290), (2.0, 354, 0, 350)]),
                   results={"load": played("lab", connected=350, connections_attempted=500)},
                   planned=("load", "settle"))
    verdict = nproc_exhaustion.judge(observations(record))
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed.startswith(
        "3d: only 350 of 500 connections reached accept(): the listen backlog of 5 overflowed 90 times, and every "
        "handshake it dropped had to be retried while the client waited; the limit needed 399 of them")


def test_no_overflow_no_backlog_sentence():
    verdict = fd_exhaustion.judge(observations(survived_3d(overflows=0), control()))
    assert not verdict.reproduced and "backlog" not in verdict.observed
    assert verdict.numbers["listen_overflows"] == 0


def test_a_reproduced_run_keeps_its_text_and_names_what_it_could_not_read():
    leaky = trial("3d", "3d", nofile=256, exit_code=1, baseline=tcp(0, 0),
                  logs="".join(f"{n}\n" for n in range(1, 253)) + EMFILE_TRACEBACK + "\n",
                  samples=samples([(0.5, 4, 0, 0), (1.5, 250, 1, 245), (1.8, None, 0, 0)]),
                  results={"load": played("text", connected=272, connections_attempted=572)},
                  planned=("load", "settle"))
    verdict = fd_exhaustion.judge(observations(leaky, control()))
    assert verdict.reproduced
    assert verdict.observed.startswith("3d accepted 252 connections and died in accept()")
    # The counters died with the container's network namespace: unknown, not zero.
    assert (verdict.numbers["attempted"], verdict.numbers["accepted"]) == (572, 252)
    assert verdict.numbers["reached_accept"] is None and verdict.numbers["listen_overflows"] is None


def test_a_client_that_printed_no_summary_leaves_attempted_unknown():
    record = survived_3d()
    record.results["load"] = dataclasses.replace(record.results["load"], summary=None)
    verdict = fd_exhaustion.judge(observations(record, control()))
    assert verdict.numbers["attempted"] is None
    assert "3d: 194 connections reached accept(): the listen backlog of 5 overflowed 212 times" in verdict.observed


def test_nproc_exhaustion_says_the_backlog_kept_3d_under_its_process_limit():
    record = trial("3d", "3d", nofile=500, nproc=400, baseline=tcp(0, 0), final=tcp(311, 520),
                   logs="".join(f"{n}\n" for n in range(1, 312)),
                   samples=samples([(1.0, 300, 3, 290), (2.0, 315, 0, 311)]),
                   results={"load": played("repository", connected=500, connections_attempted=500)},
                   planned=("load", "settle"))
    verdict = nproc_exhaustion.judge(observations(record))
    assert not verdict.reproduced
    assert verdict.observed.startswith(
        "only 311 of 500 connections reached accept(): the listen backlog of 5 overflowed 520 times, dropping "
        "connections whose client had already gone (the repository's client3.py closes each at once). "
        "3d was still running after 311 children")
    assert (verdict.numbers["attempted"], verdict.numbers["reached_accept"],
            verdict.numbers["listen_overflows"]) == (500, 311, 520)
