"""samples.ndjson: whole lines on disk as they are written, and a report that ends it with the counts at
death and the verdict; the timeline and the page reach the count the judge computed, not the last sample."""
import copy
import json
import threading

from scenarios.reports import report
from scenarios.judging.at_death import at_death
from scenarios.catalog import fd_exhaustion
from scenarios.executor.probe import Sample
from scenarios.executor.runner import Options, RunResult
from scenarios.reports.samples_file import SamplesFile, load_fields, sample_fields

from recorded import fd_exhaustion as fd_obs


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_line_is_on_disk_before_the_next_is_written(tmp_path):
    path = tmp_path / "samples.ndjson"
    with SamplesFile(path) as samples:
        for n in range(3):
            samples.write("sample", trial="3d", **sample_fields(Sample(t=n, alive=True, fds=10 + n, live=1,
                                                                     zombies=n)))
            # Read by another open of the file, as the page's worker does: nothing waits in a buffer.
            assert [line["fds"] for line in lines(path)] == list(range(10, 11 + n))
    assert lines(path)[-1]["processes"] == 1 + 1 + 2


def test_lines_from_many_threads_never_interleave(tmp_path):
    path = tmp_path / "samples.ndjson"
    with SamplesFile(path) as samples:
        threads = [threading.Thread(target=lambda k=k: [samples.write("event", trial=f"t{k}", text="x" * 5000)
                                                        for _ in range(50)]) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(lines(path)) == 200


def test_a_load_line_counts_requests_and_failures():
    assert load_fields({"responses": 40, "connected": 300, "failures": {"reset": 3, "timeout": 2}}) == \
        {"requests": 40, "connected": 300, "failures": 5}
    assert load_fields(None)["requests"] is None


def test_fd_exhaustion_dies_at_256_of_256_not_at_its_last_sample():
    obs = fd_obs()
    numbers = fd_exhaustion.SCENARIO.judge(obs).numbers
    deaths = at_death(obs, {t.key: t for t in fd_exhaustion.SCENARIO.trials}, numbers)
    assert max(s.fds or 0 for s in obs["3d"].samples) < 256
    assert deaths == {"3d": {"t": 1.8, "value": 256, "counter": "fds", "limit": 256,
                             "source": "the judge's fds_at_death"}}


def test_no_death_is_placed_when_two_trials_died():
    obs = fd_obs(fixed_died=True)
    numbers = fd_exhaustion.SCENARIO.judge(obs).numbers
    assert at_death(obs, {t.key: t for t in fd_exhaustion.SCENARIO.trials}, numbers) == {}


def test_the_report_ends_the_runs_samples_with_the_death_and_the_verdict(tmp_path):
    obs = fd_obs()
    result = RunResult(fd_exhaustion.SCENARIO, "fd-exhaustion-abc123", fd_exhaustion.SCENARIO.judge(obs), obs,
                       started=1700000000.0, duration_s=12.5, options=Options(reports=tmp_path))
    path = tmp_path / "fd-exhaustion" / "samples.ndjson"
    with SamplesFile(path) as samples:
        samples.write("run", scenario="fd-exhaustion", run_id="fd-exhaustion-abc123")
    report.write(result)
    kinds = [line["kind"] for line in lines(path)]
    assert kinds == ["run", "death", "verdict"]
    death, verdict = lines(path)[1:]
    assert (death["trial"], death["value"], death["limit"]) == ("3d", 256, 256)
    assert verdict["word"] == "REPRODUCED" and verdict["prediction"] == fd_exhaustion.SCENARIO.prediction
    assert verdict["observed"] and verdict["why"] == fd_exhaustion.SCENARIO.why


def test_a_report_without_a_runs_samples_writes_none(tmp_path):
    obs = fd_obs()
    result = RunResult(fd_exhaustion.SCENARIO, "x", fd_exhaustion.SCENARIO.judge(obs), obs, started=0.0,
                       duration_s=1.0, options=Options(reports=tmp_path))
    assert not (report.write(result) / "samples.ndjson").exists()


def test_a_repeated_trial_draws_every_run(tmp_path, monkeypatch):
    from scenarios.reports import timeline

    obs = fd_obs()
    obs.add(copy.copy(obs["3d"]))  # a second run of 3d
    drawn = []
    monkeypatch.setattr(timeline, "_counts", lambda ax, record, watch, last, run: drawn.append((last, run)))
    timeline.draw(obs, {t.key: t for t in fd_exhaustion.SCENARIO.trials}, "t", tmp_path / "t.png")
    assert drawn[:2] == [(False, "run 1"), (True, "run 2")]
