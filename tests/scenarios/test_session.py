"""The session's scheduling, with a runner that only waits: never more than `jobs` at once, never two
runs in one report folder at once, what `done` adds runs too, and what the engine cannot run is said
without starting. (The real runs side by side: test_side_by_side.py.)"""
import threading
import time

import pytest

from scenarios import catalog
from scenarios.executor import runner, session
from scenarios.reports import report
from scenarios.vocabulary.verdict import Judgment, Verdict


class Waits:
    """A runner that holds its slot a moment and notes how many ran at once, and in which folders."""

    lock = threading.Lock()
    running: list = []
    seen: list = []

    def __init__(self, scenario, options, progress, engine=None, stop=None, slots=None):
        self.scenario, self.options, self.run_id = scenario, options, f"{scenario.name}-0"

    def run(self):
        folder = (str(self.options.reports), self.scenario.name)
        with Waits.lock:
            Waits.running.append(folder)
            Waits.seen.append(list(Waits.running))
        time.sleep(0.05)
        with Waits.lock:
            Waits.running.remove(folder)
        return runner.RunResult(self.scenario, self.run_id, Judgment.of(True, "x"), runner.Observations(),
                                0.0, 0.05, self.options)


@pytest.fixture
def waits(monkeypatch, tmp_path):
    Waits.running, Waits.seen = [], []
    monkeypatch.setattr(runner, "ScenarioRunner", Waits)
    monkeypatch.setattr(report, "write", lambda result, words, told=None: tmp_path / result.scenario.name)
    return Waits


@pytest.mark.parametrize("jobs", [1, 3])
def test_at_most_jobs_at_once_and_never_two_in_one_folder(waits, tmp_path, capsys, jobs):
    options = runner.Options(reports=tmp_path)
    names = ["hello", "zombies", "fd-exhaustion", "hello", "zombies", "hello"]
    experiments = [session.Experiment(catalog.get(name), options) for name in names]
    outcomes = session.Session(object(), None, None, jobs).run(experiments)
    assert sorted(outcome.experiment.scenario.name for outcome in outcomes) == sorted(names)
    assert all(outcome.verdict is Verdict.REPRODUCED for outcome in outcomes)
    assert max(len(at_once) for at_once in waits.seen) <= jobs
    assert all(len(set(at_once)) == len(at_once) for at_once in waits.seen), waits.seen
    if jobs > 1:
        assert max(len(at_once) for at_once in waits.seen) > 1, "nothing ever ran side by side"


def test_what_done_returns_runs_after_and_a_blocked_one_never_starts(waits, tmp_path, monkeypatch):
    from scenarios.executor import preflight

    monkeypatch.setattr(preflight, "blockers", lambda scenario, facts: ["no"] if scenario.name == "zombies" else [])
    options = runner.Options(reports=tmp_path)
    first = session.Experiment(catalog.get("hello"), options)
    later = [session.Experiment(catalog.get(name), options) for name in ("zombies", "fd-exhaustion", "zombies")]
    seen = []

    def done(outcome):
        seen.append((outcome.experiment.scenario.name, outcome.verdict))
        return later if outcome.experiment is first else []

    session.Session(object(), object(), None, 2).run([first], done)
    assert seen[0] == ("hello", Verdict.REPRODUCED)
    assert sorted(seen[1:]) == [("fd-exhaustion", Verdict.REPRODUCED), ("zombies", Verdict.CANNOT),
                                ("zombies", Verdict.CANNOT)]
    assert [at_once for at_once in waits.seen if any(name == "zombies" for _, name in at_once)] == []


class Lends(Waits):
    """A runner that, while it runs, borrows every slot the session lends and notes the slots in use."""

    def __init__(self, scenario, options, progress, engine=None, stop=None, slots=None):
        super().__init__(scenario, options, progress, engine, stop, slots)
        self.slots = slots

    def run(self):
        if self.scenario.name == "nproc-exhaustion":  # the last: it looks for slots once the rest are done
            time.sleep(0.3)
        got = 0
        while self.slots is not None and self.slots.borrow():
            got += 1
        with Waits.lock:
            Waits.seen.append((self.scenario.name, got, self.slots.lent + len(self.slots.running)))
        time.sleep(0.05)
        for _ in range(got):
            self.slots.give_back()
        return Waits.run(self)


def test_a_slot_is_lent_only_when_no_experiment_waits_for_it(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "ScenarioRunner", Lends)
    monkeypatch.setattr(report, "write", lambda result, words, told=None: tmp_path / result.scenario.name)
    Waits.running, Waits.seen = [], []
    options = runner.Options(reports=tmp_path)
    names = ["hello", "zombies", "fd-exhaustion", "nproc-exhaustion"]
    owner = session.Session(object(), None, None, 3)
    outcomes = owner.run([session.Experiment(catalog.get(name), options) for name in names])
    assert len(outcomes) == 4 and owner.lent == 0
    lent = [entry for entry in Waits.seen if isinstance(entry, tuple)]
    assert all(in_use <= 3 for _, _, in_use in lent), lent
    # The three started first found the fourth waiting, so none of them was lent a slot; the last one,
    # with nothing left to start and the rest done, was lent the two others.
    assert [got for _, got, _ in lent[:3]] == [0, 0, 0], lent
    assert lent[-1][:2] == ("nproc-exhaustion", 2), lent


def test_floods_take_no_more_than_their_share_of_the_slots_and_the_rest_go_on_beside_them(waits, tmp_path):
    options = runner.Options(reports=tmp_path)
    floods = ["fd-exhaustion", "nproc-exhaustion", "waitpid-reaper", "missed-signals", "pids-cgroup"]
    others = ["hello", "zombies", "served-at-once"]
    owner = session.Session(object(), None, None, 4)
    owner.floods = 2
    outcomes = owner.run([session.Experiment(catalog.get(name), options) for name in floods + others])
    assert len(outcomes) == 8
    flooding = [[name for _, name in at_once if catalog.get(name).floods] for at_once in waits.seen]
    assert max(map(len, flooding)) == 2, waits.seen
    assert max(len(at_once) for at_once in waits.seen) > 2, "the other slots stayed idle beside the floods"


def test_longest_first_by_the_last_run_and_with_none_by_the_containers_then_the_waits(tmp_path):
    options = runner.Options(reports=tmp_path)
    names = ["hello", "zombies", "missed-signals", "prefork-respawn", "pid1-signals", "fd-exhaustion"]
    experiments = [session.Experiment(catalog.get(name), options) for name in names]
    # No report yet: missed-signals' 5 rounds, pid1-signals' 4 trials, fd-exhaustion's 2; of the ones,
    # prefork-respawn's 12 s steady load and pause first, zombies' 1 s settle next, hello last.
    assert [each.scenario.name for each in session.longest_first(experiments)] == [
        "missed-signals", "pid1-signals", "fd-exhaustion", "prefork-respawn", "zombies", "hello"]
    (tmp_path / "zombies").mkdir()
    (tmp_path / "zombies" / "report.json").write_text('{"duration_s": 99}')
    assert session.longest_first(experiments)[0].scenario.name == "zombies"  # its last run took longest
