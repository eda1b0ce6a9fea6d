"""A fault of the harness ends in ERROR, named, and never reads as a verdict on the server."""
import time

import pytest

from commands import check, scenario
from scenarios.catalog import zombies
from scenarios.executor.cgroups import PidsWatch
from scenarios.executor.runner import Options, ScenarioRunner
from scenarios.executor.sampler import Sampler
from scenarios.vocabulary.verdict import LOAD_WORDS, SCENARIO_WORDS, Judgment, Verdict, check_words

from recorded import observations, samples, trial


class FailingProbe:
    """A probe that answers twice and then fails the way a broken exec does."""

    def __init__(self):
        self.calls = 0

    def stream(self, pid, period, count):
        raise OSError("no docker CLI")  # the sampler falls back to a probe per period

    def sample(self, pid, t0):
        self.calls += 1
        if self.calls > 2:
            raise RuntimeError("exec failed: container is paused")
        return samples([(time.monotonic() - t0, 10, 0, 0)])[0]


def test_a_probe_that_fails_ends_the_sampling_with_its_fault_recorded():
    sampler = Sampler(FailingProbe(), server_pid=1, t0=time.monotonic(), period=0.01, bound=5).start()
    sampler.thread.join(timeout=5)
    assert not sampler.thread.is_alive()
    assert len(sampler.stop()) == 2
    assert sampler.fault.startswith("the sampler's probe failed at ")
    assert sampler.fault.endswith("RuntimeError: exec failed: container is paused")


class Container:
    def __init__(self, status="running"):
        self.status = status
        self.attrs = {"State": {"Pid": 0}}

    def reload(self):
        pass


def pids_watch(folder, container):
    watch = PidsWatch(container, time.monotonic(), period=0.01, bound=5)
    watch.folder, watch.source = folder, f"host cgroup files ({folder})"
    return watch


def test_a_pids_cgroup_that_cannot_be_read_is_a_fault_not_the_end_of_the_container(tmp_path):
    (tmp_path / "pids.current").write_text("12\n")
    (tmp_path / "pids.max").write_text("max\n")
    watch = pids_watch(tmp_path, Container()).start()
    time.sleep(0.1)
    (tmp_path / "pids.current").write_text("twelve\n")  # what a half-written or foreign file reads as
    watch.thread.join(timeout=5)
    readings = watch.stop()
    assert readings and readings[0].current == 12
    assert "reading the pids cgroup from host cgroup files" in watch.fault and "ValueError" in watch.fault


def test_a_pids_cgroup_removed_with_its_container_ends_the_watch_without_a_fault(tmp_path):
    folder = tmp_path / "scope"
    folder.mkdir()
    (folder / "pids.current").write_text("3\n")
    (folder / "pids.max").write_text("100\n")
    watch = pids_watch(folder, Container()).start()
    time.sleep(0.1)
    folder.rename(tmp_path / "removed")  # the engine removes a container's cgroup folder whole
    watch.thread.join(timeout=5)
    assert watch.stop() and watch.fault == ""



def runner_for(scenario_):
    runner = ScenarioRunner.__new__(ScenarioRunner)
    runner.scenario, runner.options = scenario_, Options()
    return runner


def test_a_run_whose_probe_failed_is_error_and_names_the_trial_and_the_fault():
    record = trial("3d", "3d")
    record.faults.append("the sampler's probe failed at 1.20s: RuntimeError: exec failed")
    verdict, error = runner_for(zombies.SCENARIO).conclude_run(observations(record), "")
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed == ("a probe of the harness failed, so the watch is incomplete: 3d: the sampler's probe "
                                "failed at 1.20s: RuntimeError: exec failed")
    assert error == "3d: the sampler's probe failed at 1.20s: RuntimeError: exec failed"


def test_a_judge_that_raises_is_error_with_its_traceback_not_not_reproduced():
    def broken(obs):
        return {}["no such number"]

    import dataclasses
    scenario_ = dataclasses.replace(zombies.SCENARIO, judge=broken)
    verdict, error = runner_for(scenario_).conclude_run(observations(trial("3d", "3d")), "")
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed == "the judge failed: KeyError: 'no such number'"
    assert error.startswith("the judge failed:\nTraceback (most recent call last):")
    assert "in broken" in error


def test_a_run_that_failed_is_error_with_the_first_line_of_what_failed():
    verdict, error = runner_for(zombies.SCENARIO).conclude_run(
        observations(trial("3d", "3d")), "APIError: 500 Server Error\nTraceback ...")
    assert verdict.verdict is Verdict.ERROR
    assert verdict.observed == "the run itself failed: APIError: 500 Server Error"
    assert error == "APIError: 500 Server Error\nTraceback ..."


@pytest.mark.parametrize("verdict, scenario_word, check_word, load_word", [
    (Verdict.REPRODUCED, "REPRODUCED", "BEHAVES AS THE TEXT'S 3G", "HELD"),
    (Verdict.NOT_REPRODUCED, "NOT REPRODUCED", "DIFFERS", "NOT HELD"),
    (Verdict.ERROR, "ERROR", "ERROR", "ERROR"),
    (Verdict.CANNOT, "NOT ON THIS ENGINE", "NOT ON THIS ENGINE", "NOT ON THIS ENGINE"),
])
def test_each_command_says_each_verdict_in_its_own_words(verdict, scenario_word, check_word, load_word):
    assert (SCENARIO_WORDS(verdict), check_words("3g")(verdict), LOAD_WORDS(verdict)) == (
        scenario_word, check_word, load_word)


def test_a_judgment_of_a_held_prediction_is_reproduced_and_only_that():
    assert Judgment.of(True, "x").verdict is Verdict.REPRODUCED and Judgment.of(True, "x").reproduced
    assert Judgment.of(False, "x").verdict is Verdict.NOT_REPRODUCED
    assert not Judgment.error("x").reproduced


@pytest.mark.parametrize("verdicts, status", [
    ([Verdict.REPRODUCED, Verdict.REPRODUCED], 0),
    ([Verdict.REPRODUCED, Verdict.NOT_REPRODUCED], 1),
    ([Verdict.NOT_REPRODUCED, Verdict.ERROR], 5),
    ([Verdict.CANNOT], 4),
    ([Verdict.CANNOT, Verdict.REPRODUCED], 0),
])
def test_the_scenario_command_exits_5_for_a_fault_of_the_harness(verdicts, status):
    assert scenario.exit_status([{"verdict": v} for v in verdicts]) == status


def test_the_check_command_exits_5_for_a_fault_of_the_harness_whatever_else_it_found():
    assert check.exit_status([{"verdict_of": Verdict.NOT_REPRODUCED}, {"verdict_of": Verdict.ERROR}]) == 5
    assert check.exit_status([{"verdict_of": Verdict.REPRODUCED}, {"verdict_of": Verdict.NOT_REPRODUCED}]) == 1
    assert check.exit_status([{"verdict_of": Verdict.REPRODUCED}]) == 0
