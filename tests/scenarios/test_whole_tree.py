"""Every reader's trial is judged by its whole process tree too (scenarios/judging/whole_tree.py): recorded runs of
a 3g whose children never exit, and of the text's 3g with children still serving at the end."""
from recorded import load, observations, trial
from scenarios.judging import whole_tree
from scenarios.executor.probe import Sample
from scenarios.vocabulary.verdict import Judgment, Verdict


def tree_samples(counts):
    """(t, processes) -> Samples of a live server with that many processes in its tree."""
    return [Sample(t=t, alive=True, fds=4, procs=procs, threads=procs, tree_zombies=0) for t, procs in counts]


def behaves(obs):
    return Judgment.of(True, "your server (in 3g's place), 1000 clients: 1000 responses, 0 zombies after")


def test_a_tree_that_keeps_a_process_per_request_differs_in_numbers():
    # Its children fall back into accept(): 1000 requests, 1001 processes to the end.
    grown = trial("3g", "3g", results={"load": load(connected=1000, responses=1000)}, planned=("load",),
                  samples=tree_samples([(0.5, 1), (5.0, 600), (9.0, 1001), (9.5, 1001), (10.0, 1001)]))
    judged = whole_tree.guarded(behaves, ("3g",), "3g")(observations(grown))
    assert judged.verdict is Verdict.NOT_REPRODUCED
    assert judged.observed.startswith("after 1000 requests your server's container held 1001 processes (it began "
                                      "with 1); the text's 3g holds 1 plus the children still serving")
    assert judged.observed.endswith("1000 responses, 0 zombies after")


def test_children_still_serving_at_the_end_are_not_growth():
    # The text's 3g: children come and go; in the last second 9, then 3, then 1 of them are left.
    serving = trial("3g", "3g", results={"load": load(connected=1000, responses=1000)}, planned=("load",),
                    samples=tree_samples([(0.5, 1), (5.0, 40), (9.2, 9), (9.6, 3), (10.0, 1)]))
    assert whole_tree.guarded(behaves, ("3g",), "3g")(observations(serving)).reproduced


def test_a_judgment_that_already_differs_is_left_as_it_is():
    differs = Judgment.of(False, "curl hung")
    grown = trial("3g", "3g", samples=tree_samples([(0.5, 1), (9.0, 50), (10.0, 50)]))
    assert whole_tree.guarded(lambda obs: differs, ("3g",), "3g")(observations(grown)) is differs


def test_only_stages_whose_text_forks_a_child_that_ends_are_guarded():
    from lbaws import stages

    assert [name for name in ("1", "2", "3a", "3b", "3c", "3d", "3g", "3h", "prefork")
            if whole_tree.applies(stages.find(name))] == ["3c", "3d", "3g", "3h"]
