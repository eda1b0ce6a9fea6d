"""bench.run's loop against a place that answers with recorded wrk output: what runs when, and what a
server that never starts or a wrk that prints nothing becomes."""
from bench import run, servers
from bench.servers import ServerFailed


class RecordedPlace:
    """Starts nothing; answers each wrk with recorded text, and says `broken` never answered."""

    where = "recorded"
    run_id = "000000"

    def __init__(self, text, broken=(), silent=(), closes=()):
        self.text, self.broken, self.silent, self.closes = text, set(broken), set(silent), set(closes)
        self.calls, self.closed = [], False

    def open(self):
        pass

    def wrk_version(self):
        return "4.1.0"

    def start(self, server, instance):
        self.calls.append(("start", server.name, instance.app))

    def ready(self, instance):
        if (instance.server, instance.app) in self.broken:
            raise ServerFailed(f"{instance} exited (3): lbaws: cannot import")

    def check_alive(self, instance):
        pass

    def url(self, instance):
        return f"http://{instance.server}-{instance.app}:8888/hello"

    def curl(self, instance, argv):
        self.calls.append(("curl", argv[-1]))
        server = argv[-1].split("//")[1].split("-wsgi")[0].split("-flask")[0]
        return "200 1\n200 1\n" if server in self.closes else "200 1\n200 0\n"

    def stop(self, instance):
        self.calls.append(("stop", instance.server, instance.app))
        if instance.server == "lbaws-prefork":
            return "lbaws: 40 connections over 2 worker(s); shares: 55.0% 45.0%\n"
        return ""

    def script(self):
        return "/tmp/x.lua"

    def wrk(self, instance, argv, timeout):
        url = argv[-1]
        self.calls.append(("wrk", url, argv[argv.index("--connections") + 1], "Connection: close" in argv, timeout))
        if url in self.silent:
            return 124, "", ""
        return 0, self.text, ""


SETTINGS = run.Settings(servers=("lbaws-prefork", "gunicorn-sync"), apps=("wsgi", "flask"), modes=("close",),
                        connections=(1, 256), rounds=3, duration_s=2, warmup=False)


def test_every_server_starts_before_any_wrk_and_rounds_interleave(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"))
    results = run.run(place, SETTINGS, lambda line: None)
    starts = [call for call in place.calls if call[0] == "start"]
    assert place.calls[:4] == starts == [("start", "lbaws-prefork", "wsgi"), ("start", "gunicorn-sync", "wsgi"),
                                         ("start", "lbaws-prefork", "flask"), ("start", "gunicorn-sync", "flask")]
    # Each is asked whether it keeps a connection before any wrk, and stopped after the last.
    first_wrk = next(n for n, call in enumerate(place.calls) if call[0] == "wrk")
    assert [call[0] for call in place.calls[4:first_wrk]] == ["curl"] * 4
    assert [call[0] for call in place.calls[-4:]] == ["stop"] * 4
    runs = [call for call in place.calls if call[0] == "wrk"]
    assert len(runs) == 8 * 3
    assert runs[:8] == runs[8:16] == runs[16:]  # round 2 repeats round 1's order
    assert all(close and timeout == 2 + run.WRK_GRACE_S for _, _, _, close, timeout in runs)
    assert len(results.measures) == 8
    assert all(len(measures) == 3 for measures in results.measures.values())
    assert results.wrk_version == "4.1.0" and not results.failures and not results.broken
    assert all(results.kept.values()) and len(results.kept) == 4
    assert {i.alias: line for i, line in results.shares.items()} == {
        f"lbaws-prefork-{app}-1cpu": "40 connections over 2 worker(s); shares: 55.0% 45.0%" for app in ("wsgi", "flask")}


def test_a_server_that_closes_is_recorded_as_not_keeping_the_connection(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), closes={"gunicorn-sync"})
    results = run.run(place, SETTINGS, lambda line: None)
    assert {(i.server, i.app): kept for i, kept in results.kept.items()} == {
        ("lbaws-prefork", "wsgi"): True, ("gunicorn-sync", "wsgi"): False,
        ("lbaws-prefork", "flask"): True, ("gunicorn-sync", "flask"): False}


def test_cpus_runs_every_server_once_per_cpu_count(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"))
    settings = run.Settings(servers=("lbaws-prefork", "granian"), apps=("wsgi",), modes=("keep-alive",),
                            connections=(32,), rounds=3, duration_s=1, warmup=False, cpus=(1, 2))
    results = run.run(place, settings, lambda line: None)
    assert sorted((c.server, c.cpus) for c in results.measures) == [
        ("granian", 1), ("granian", 2), ("lbaws-prefork", 1), ("lbaws-prefork", 2)]
    assert len([call for call in place.calls if call[0] == "start"]) == 4


def test_a_server_that_never_answers_is_broken_and_gets_no_wrk(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), broken={("lbaws-prefork", "flask")})
    heard = []
    results = run.run(place, SETTINGS, heard.append)
    broken = servers.Instance("lbaws-prefork", "flask")
    assert results.broken == {broken: "lbaws-prefork (flask, 1 CPU) exited (3): lbaws: cannot import"}
    assert not any("lbaws-prefork-flask" in call[1] for call in place.calls if call[0] == "wrk")
    assert "bench: lbaws-prefork (flask, 1 CPU) exited (3): lbaws: cannot import" in heard
    assert broken not in results.kept
    assert len(results.measures) == 6


def test_a_wrk_cut_off_by_its_bound_is_a_failed_round_saying_so(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), silent={"http://gunicorn-sync-wsgi:8888/hello"})
    results = run.run(place, SETTINGS, lambda line: None)
    failed = results.failures[servers.Config("gunicorn-sync", "wsgi", "close", 1)]
    assert failed == [f"round {n}: wrk did not end within {2 + run.WRK_GRACE_S} s" for n in (1, 2, 3)]
    assert servers.Config("gunicorn-sync", "wsgi", "close", 1) not in results.measures


def test_a_wrk_stuck_once_runs_its_round_once_more(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), silent={"http://gunicorn-sync-wsgi:8888/hello"})
    stuck = place.wrk

    def stuck_once(instance, argv, timeout):
        code, out, err = stuck(instance, argv, timeout)
        if code == run.TIMED_OUT:
            place.silent.clear()
        return code, out, err

    place.wrk = stuck_once
    heard = []
    results = run.run(place, SETTINGS, heard.append)
    assert not results.failures
    assert len(results.measures[servers.Config("gunicorn-sync", "wsgi", "close", 1)]) == 3
    assert sum("running it once more" in line for line in heard) == 1


def test_a_refused_wrk_quotes_wrk(recorded):
    place = RecordedPlace("")
    place.wrk = lambda instance, argv, timeout: (1, "", recorded("wrk-refused.txt"))
    results = run.run(place, SETTINGS, lambda line: None)
    assert all(lines == [f"round {n}: wrk printed no result: unable to connect to 127.0.0.1:18555 Connection "
                         f"refused" for n in (1, 2, 3)] for lines in results.failures.values())
    assert not results.measures
