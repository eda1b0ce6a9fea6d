"""From rounds to the table: medians and spreads, summed errors, the ratios to the best peer and to granian,
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
    settings = Settings(servers=("lbaws-prefork", "gunicorn-sync", "waitress", "granian", "wsgiref"), apps=("wsgi",),
                        modes=("keep-alive",), connections=(32,), rounds=3, duration_s=1, warmup=False)
    results = Results(settings)
    cell = lambda name: servers.Config(name, "wsgi", "keep-alive", 32)  # noqa: E731
    kept = lambda name, yes: results.kept.__setitem__(servers.Instance(name, "wsgi"), yes)  # noqa: E731
    # gunicorn's sync worker is faster here, but it closed the connection: no keep-alive peer.
    results.measures[cell("gunicorn-sync")] = [measure(9000, 3, 6), measure(9200, 3, 7), measure(8800, 3, 5)]
    results.measures[cell("waitress")] = [measure(8000, 3, 6), measure(8200, 3, 7), measure(7800, 3, 5)]
    results.measures[cell("granian")] = [measure(60000, 1, 2), measure(62000, 1, 2), measure(61000, 1, 2)]
    results.measures[cell("lbaws-prefork")] = [measure(30000, 1, 2), measure(33000, 1, 3),
                                               measure(31000, 1, 2, errors=1)]
    results.failures[cell("lbaws-prefork")] = []
    for name, yes in (("gunicorn-sync", False), ("waitress", True), ("granian", True), ("lbaws-prefork", True)):
        kept(name, yes)
    results.broken[servers.Instance("wsgiref", "wsgi")] = "wsgiref (wsgi, 1 CPU) exited (1): ImportError"
    return results


def test_ratios_are_to_the_best_peer_that_kept_the_connection_and_to_granian():
    rows = {row["server"]: row for row in report.rows(_results())}
    prefork = rows["lbaws-prefork"]
    assert prefork["best_peer"] == "waitress"
    assert prefork["ratio_to_best_peer"] == pytest.approx(31000 / 8000, abs=0.001)
    assert prefork["ratio_to_granian"] == pytest.approx(31000 / 61000, abs=0.001)
    assert prefork["requests_per_s"] == {"median": 31000.0, "min": 30000.0, "max": 33000.0}
    assert prefork["errors"] == 1 and len(prefork["runs"]) == 3 and prefork["kept_connection"] is True
    assert rows["waitress"]["ratio_to_best_peer"] == 1.0
    # A keep-alive figure of a server that closed compares with nothing, and nothing with it.
    assert rows["gunicorn-sync"]["ratio_to_best_peer"] is None and rows["gunicorn-sync"]["ratio_to_granian"] is None
    assert "requests_per_s" not in rows["wsgiref"]
    assert rows["wsgiref"]["failures"] == ["wsgiref (wsgi, 1 CPU) exited (1): ImportError"]


def test_in_close_mode_every_server_counts():
    results = _results()
    results.settings = Settings(servers=("lbaws-prefork", "gunicorn-sync", "waitress"), apps=("wsgi",),
                                modes=("close",), connections=(32,), rounds=3, duration_s=1, warmup=False)
    results.measures = {servers.Config(cell.server, "wsgi", "close", 32): runs
                        for cell, runs in results.measures.items()}
    rows = {row["server"]: row for row in report.rows(results)}
    assert rows["lbaws-prefork"]["best_peer"] == "gunicorn-sync"
    assert rows["lbaws-prefork"]["ratio_to_best_peer"] == pytest.approx(31000 / 9000, abs=0.001)
    assert rows["lbaws-prefork"]["ratio_to_granian"] is None  # granian was not in this run


def test_the_headline_names_the_peer_and_the_anchor():
    assert report.headline(report.rows(_results())) == [
        "lbaws-prefork wsgi keep-alive c=32 on 1 CPU(s): 3.88x waitress (the best pure-Python peer); 0.51x granian"]


def test_the_table_shows_kept_median_spread_errors_ratios_and_failures():
    lines = report.table(report.rows(_results())).splitlines()
    assert lines[0].split() == ["cpus", "app", "mode", "conns", "server", "kept", "req/s", "(min-max)", "p50", "ms",
                                "p99", "ms", "(min-max)", "errors", "x", "best", "peer", "x", "granian"]
    prefork = next(line for line in lines if "lbaws-prefork" in line).split()
    assert prefork == ["1", "wsgi", "keep-alive", "32", "lbaws-prefork", "yes", "31000", "(30000-33000)", "1.00",
                       "2.00", "(2.00-3.00)", "1", "3.88", "0.51"]
    assert next(line for line in lines if "gunicorn-sync" in line).split()[5] == "no"
    assert next(line for line in lines if "gunicorn-sync" in line).split()[-2:] == ["-", "-"]
    assert next(line for line in lines if "wsgiref" in line).split()[6:] == ["-", "-", "-", "FAILED", "-", "-"]
    assert report.failures(report.rows(_results())) == [
        "wsgiref wsgi keep-alive c=32: wsgiref (wsgi, 1 CPU) exited (1): ImportError"]


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
    assert document["commands"]["gunicorn-sync"][:5] == ["gunicorn", "--workers", str(servers.WORKERS),
                                                          "--worker-tmp-dir", "/dev/shm"]
    assert document["kept_connection"]["gunicorn-sync-wsgi-1cpu"] is False
    assert [row["server"] for row in document["results"]] == ["lbaws-prefork", "gunicorn-sync", "waitress",
                                                              "granian", "wsgiref"]
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
