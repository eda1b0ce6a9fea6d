"""A run's trials side by side when the session lends slots: records in the planned order, never more
at once than lent, a fault in any trial raised once the rest have landed."""
import threading
import time

import pytest

from scenarios import catalog
from scenarios.executor import runner
from scenarios.executor.progress import Progress


class Slots:
    def __init__(self, free):
        self.free, self.lock = free, threading.Lock()

    def borrow(self):
        with self.lock:
            if self.free == 0:
                return False
            self.free -= 1
            return True

    def give_back(self):
        with self.lock:
            self.free += 1


def planned_runner(slots, fail_at=None, seconds=0.1, count=5, name="pid1-signals"):
    scenario = catalog.get(name)
    run = runner.ScenarioRunner(scenario, runner.Options(), Progress(None), engine=object(), slots=slots)
    at_once, lock = {"now": 0, "most": 0}, threading.Lock()

    def run_trial(trial, index, repeat):
        with lock:
            at_once["now"] += 1
            at_once["most"] = max(at_once["most"], at_once["now"])
        time.sleep(seconds)
        with lock:
            at_once["now"] -= 1
        if index == fail_at:
            raise RuntimeError(f"trial {index} broke")
        return (trial.key, index)

    run.run_trial = run_trial
    trial = scenario.trials[0]
    return run, [(trial, index, count) for index in range(count)], at_once


@pytest.mark.parametrize("free, most", [(0, 1), (2, 3), (9, 5)])
def test_trials_run_beside_each_other_as_far_as_slots_are_lent_and_come_back_in_order(free, most):
    slots = Slots(free)
    run, planned, at_once = planned_runner(slots)
    assert run.run_trials(planned) == [("no-handler", index) for index in range(5)]
    assert at_once["most"] == most and slots.free == free


def test_without_a_session_the_trials_run_one_after_another():
    run, planned, at_once = planned_runner(None)
    assert len(run.run_trials(planned)) == 5 and at_once["most"] == 1


def test_a_trial_that_breaks_is_raised_after_the_others_landed_and_the_slots_come_back():
    slots = Slots(2)
    run, planned, at_once = planned_runner(slots, fail_at=1)
    with pytest.raises(RuntimeError, match="trial 1 broke"):
        run.run_trials(planned)
    assert at_once["now"] == 0 and slots.free == 2


def test_a_slot_that_comes_free_while_a_trial_runs_is_lent_before_that_trial_ends():
    slots = Slots(0)
    run, planned, at_once = planned_runner(slots, seconds=1.0, count=2)
    # Free 0.1 s into the first of two trials: the second must not wait a second for the first to end.
    threading.Timer(0.1, slots.give_back).start()
    assert run.run_trials(planned) == [("no-handler", 0), ("no-handler", 1)]
    assert at_once["most"] == 2 and slots.free == 1


def test_a_floods_trials_are_never_lent_a_slot():
    # They share the run's one client container, sized for one load at a time.
    slots = Slots(3)
    run, planned, at_once = planned_runner(slots, name="missed-signals")
    assert run.run_trials(planned) == [("3f", index) for index in range(5)]
    assert at_once["most"] == 1 and slots.free == 3
