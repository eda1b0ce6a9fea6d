"""bench.run's loop against a place that answers with recorded wrk output: what runs when, and what a
server that never starts or a wrk that prints nothing becomes."""
from bench import run, servers
from bench.servers import ServerFailed


class RecordedPlace:
    """Starts nothing; answers each wrk with recorded text, and says `broken` never answered."""

    where = "recorded"
    run_id = "000000"

    def __init__(self, text, broken=(), silent=()):
        self.text, self.broken, self.silent = text, set(broken), set(silent)
        self.calls, self.closed = [], False

    def open(self):
        pass

    def wrk_version(self):
        return "4.1.0"

    def start(self, server, app):
        self.calls.append(("start", server.name, app))

    def ready(self, server, app):
        if (server, app) in self.broken:
            raise ServerFailed(f"{server} ({app}) exited (3): lbaws: cannot import")

    def check_alive(self, server, app):
        pass

    def url(self, server, app):
        return f"http://{server}-{app}:8888/hello"

    def script(self):
        return "/tmp/x.lua"

    def wrk(self, argv, timeout):
        url = argv[-1]
        self.calls.append(("wrk", url, argv[argv.index("--connections") + 1], "Connection: close" in argv, timeout))
        if url in self.silent:
            return 124, "", ""
        return 0, self.text, ""


SETTINGS = run.Settings(servers=("lbaws-prefork", "gunicorn"), apps=("wsgi", "flask"), modes=("close",),
                        connections=(1, 256), rounds=3, duration_s=2, warmup=False)


def test_every_server_starts_before_any_wrk_and_rounds_interleave(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"))
    results = run.run(place, SETTINGS, lambda line: None)
    starts = [call for call in place.calls if call[0] == "start"]
    assert place.calls[:4] == starts == [("start", "lbaws-prefork", "wsgi"), ("start", "gunicorn", "wsgi"),
                                         ("start", "lbaws-prefork", "flask"), ("start", "gunicorn", "flask")]
    runs = [call for call in place.calls if call[0] == "wrk"]
    assert len(runs) == 8 * 3
    assert runs[:8] == runs[8:16] == runs[16:]  # round 2 repeats round 1's order
    assert all(close and timeout == 2 + run.WRK_GRACE_S for _, _, _, close, timeout in runs)
    assert len(results.measures) == 8
    assert all(len(measures) == 3 for measures in results.measures.values())
    assert results.wrk_version == "4.1.0" and not results.failures and not results.broken


def test_a_server_that_never_answers_is_broken_and_gets_no_wrk(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), broken={("lbaws-prefork", "flask")})
    heard = []
    results = run.run(place, SETTINGS, heard.append)
    assert results.broken == {("lbaws-prefork", "flask"): "lbaws-prefork (flask) exited (3): lbaws: cannot import"}
    assert not any("lbaws-prefork-flask" in call[1] for call in place.calls if call[0] == "wrk")
    assert "bench: lbaws-prefork (flask) exited (3): lbaws: cannot import" in heard
    assert len(results.measures) == 6


def test_a_wrk_cut_off_by_its_bound_is_a_failed_round_saying_so(recorded):
    place = RecordedPlace(recorded("wrk-keepalive.txt"), silent={"http://gunicorn-wsgi:8888/hello"})
    results = run.run(place, SETTINGS, lambda line: None)
    failed = results.failures[servers.Config("gunicorn", "wsgi", "close", 1)]
    assert failed == [f"round {n}: wrk did not end within {2 + run.WRK_GRACE_S} s" for n in (1, 2, 3)]
    assert servers.Config("gunicorn", "wsgi", "close", 1) not in results.measures


def test_a_refused_wrk_quotes_wrk(recorded):
    place = RecordedPlace("")
    place.wrk = lambda argv, timeout: (1, "", recorded("wrk-refused.txt"))
    results = run.run(place, SETTINGS, lambda line: None)
    assert all(lines == [f"round {n}: wrk printed no result: unable to connect to 127.0.0.1:18555 Connection "
                         f"refused" for n in (1, 2, 3)] for lines in results.failures.values())
    assert not results.measures
