"""From rounds to the table: medians and spreads, summed errors, the ratio to gunicorn of the same run,
the interleaved order, the JSON and the plot, on recorded wrk output and on measures written out here."""
import json

import pytest

from bench import report, servers, stats, wrk
from bench.run import Results, Settings


def measure(requests, p50, p99, errors=0, seconds=1.0):
    return wrk.Measure(requests=requests, duration_s=seconds, p50_ms=p50, p99_ms=p99, max_ms=p99 * 2,
                       errors={"connect": 0, "read": errors, "write": 0, "status": 0, "timeout": 0})


def test_spread_is_the_median_with_min_and_max():
    assert stats.spread([3, 1, 2]) == stats.Spread(2, 1, 3)
    assert stats.spread([10.0, 40.0, 20.0, 30.0]) == stats.Spread(25.0, 10.0, 40.0)
    with pytest.raises(ValueError):
        stats.spread([])


def test_summarise_takes_medians_and_sums_errors_over_rounds(recorded):
    runs = [wrk.parse(recorded("wrk-keepalive.txt")), measure(1000, 5.0, 50.0, errors=3), measure(5000, 1.0, 9.0)]
    summary = stats.summarise(runs)
    assert summary["requests_per_s"].median == pytest.approx(3141 / 1.008901)
    assert summary["requests_per_s"].low == 1000 and summary["requests_per_s"].high == 5000
    assert summary["p50_ms"] == stats.Spread(5.0, 1.0, 6.038)
    assert summary["p99_ms"] == stats.Spread(50.0, 9.0, 237.047)
    assert summary["errors"] == 3 and summary["rounds"] == 3


def test_rounds_interleave_every_config_before_the_next_round():
    cells = servers.configs(("a", "b"), ("wsgi",), ("close",), (1, 32))
    order = servers.interleaved(cells, 3)
    assert len(order) == 12
    assert [number for number, _ in order] == [1] * 4 + [2] * 4 + [3] * 4
    assert [cell for _, cell in order[:4]] == cells == [cell for _, cell in order[4:8]]
    assert [(c.connections, c.server) for c in cells] == [(1, "a"), (1, "b"), (32, "a"), (32, "b")]


def _results():
    settings = Settings(servers=("lbaws-prefork", "gunicorn", "wsgiref"), apps=("wsgi",), modes=("keep-alive",),
                        connections=(32,), rounds=3, duration_s=1, warmup=False)
    results = Results(settings)
    cell = lambda name: servers.Config(name, "wsgi", "keep-alive", 32)  # noqa: E731
    results.measures[cell("gunicorn")] = [measure(8000, 3, 6), measure(8200, 3, 7), measure(7800, 3, 5)]
    results.measures[cell("lbaws-prefork")] = [measure(30000, 1, 2), measure(33000, 1, 3),
                                               measure(31000, 1, 2, errors=1)]
    results.failures[cell("lbaws-prefork")] = []
    results.broken["wsgiref", "wsgi"] = "wsgiref (wsgi) exited (1): ImportError"
    return results


def test_rows_give_each_server_its_ratio_to_gunicorn_and_name_failures():
    rows = {row["server"]: row for row in report.rows(_results())}
    assert rows["gunicorn"]["ratio_to_gunicorn"] == 1.0
    assert rows["lbaws-prefork"]["ratio_to_gunicorn"] == pytest.approx(31000 / 8000, abs=0.001)
    assert rows["lbaws-prefork"]["requests_per_s"] == {"median": 31000.0, "min": 30000.0, "max": 33000.0}
    assert rows["lbaws-prefork"]["errors"] == 1
    assert len(rows["lbaws-prefork"]["runs"]) == 3
    assert "requests_per_s" not in rows["wsgiref"]
    assert rows["wsgiref"]["failures"] == ["wsgiref (wsgi) exited (1): ImportError"]


def test_without_gunicorn_in_the_run_there_is_no_ratio():
    results = _results()
    results.settings = Settings(servers=("lbaws-prefork",), apps=("wsgi",), modes=("keep-alive",),
                                connections=(32,), rounds=3, duration_s=1, warmup=False)
    del results.measures[servers.Config("gunicorn", "wsgi", "keep-alive", 32)]
    [row] = report.rows(results)
    assert row["ratio_to_gunicorn"] is None
    assert report.table([row]).splitlines()[-1].endswith("-")


def test_the_table_shows_median_spread_errors_ratio_and_failures():
    lines = report.table(report.rows(_results())).splitlines()
    assert lines[0].split() == ["app", "mode", "conns", "server", "req/s", "(min-max)", "p50", "ms", "p99", "ms",
                                "(min-max)", "errors", "x", "gunicorn"]
    prefork = next(line for line in lines if "lbaws-prefork" in line).split()
    assert prefork == ["wsgi", "keep-alive", "32", "lbaws-prefork", "31000", "(30000-33000)", "1.00", "2.00",
                       "(2.00-3.00)", "1", "3.88"]
    assert next(line for line in lines if "wsgiref" in line).split()[4:] == ["-", "-", "-", "FAILED", "-"]
    assert report.failures(report.rows(_results())) == [
        "wsgiref wsgi keep-alive c=32: wsgiref (wsgi) exited (1): ImportError"]


class FakePlace:
    where = "lab network"
    host = "0.0.0.0"

    def limits(self):
        return {"cpuset": {"server": "0", "wrk": "1"}}


def test_write_leaves_the_json_and_a_png(tmp_path):
    results = _results()
    rows = report.rows(results)
    data, image = report.write(tmp_path / "bench", results, rows, FakePlace())
    document = json.loads(data.read_text())
    assert document["where"] == "lab network"
    assert document["settings"]["rounds"] == 3 and document["settings"]["workers"] == servers.WORKERS
    assert document["commands"]["gunicorn"][:3] == ["gunicorn", "--workers", str(servers.WORKERS)]
    assert [row["server"] for row in document["results"]] == ["lbaws-prefork", "gunicorn", "wsgiref"]
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
