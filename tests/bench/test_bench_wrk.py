"""bench.wrk on wrk's real output (data/): the script's line read exactly, failures as one clear error."""
import re

import pytest

from bench import wrk


def test_a_keep_alive_run_is_read_from_the_scripts_line(recorded):
    measure = wrk.parse(recorded("wrk-keepalive.txt"))
    assert measure.requests == 3141
    assert measure.duration_s == pytest.approx(1.008901)
    assert measure.requests_per_s == pytest.approx(3141 / 1.008901)
    assert (measure.p50_ms, measure.p99_ms, measure.max_ms) == (6.038, 237.047, 283.381)
    assert measure.error_count == 0


def test_the_scripts_figures_agree_with_wrks_own_summary(recorded):
    text = recorded("wrk-keepalive.txt")
    measure = wrk.parse(text)
    own_rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    own_p99 = float(re.search(r"99%\s+([\d.]+)ms", text).group(1))
    assert measure.requests_per_s == pytest.approx(own_rate, rel=0.01)
    assert measure.p99_ms == pytest.approx(own_p99, abs=0.01)


def test_non_2xx_responses_count_as_status_errors(recorded):
    measure = wrk.parse(recorded("wrk-close-404.txt"))
    assert measure.errors == {"connect": 0, "read": 0, "write": 0, "status": 1104, "timeout": 0}
    assert measure.error_count == 1104
    assert measure.as_dict()["errors_by_kind"]["status"] == 1104


def test_timeouts_count_as_errors_and_leave_no_latency(recorded):
    measure = wrk.parse(recorded("wrk-timeouts.txt"))
    assert measure.errors["timeout"] == 2
    assert measure.p99_ms == 0


def test_wrk_that_could_not_connect_is_one_error_quoting_it(recorded):
    with pytest.raises(wrk.WrkOutputError, match="wrk printed no result: unable to connect to 127.0.0.1:18555 "
                                                 "Connection refused"):
        wrk.parse("", recorded("wrk-refused.txt"))


def test_a_malformed_result_line_is_an_error_not_a_figure():
    with pytest.raises(wrk.WrkOutputError, match="malformed"):
        wrk.parse('LBAWS-WRK {"requests":12,"duration_us":1000}\n')
    with pytest.raises(wrk.WrkOutputError, match="malformed"):
        wrk.parse("LBAWS-WRK not json\n")


def test_the_command_sets_mode_connections_duration_and_script():
    keep = wrk.command("http://s:8888/hello", 256, 5, keep_alive=True, script="/tmp/x.lua")
    close = wrk.command("http://s:8888/hello", 1, 1, keep_alive=False, script="/tmp/x.lua")
    assert keep[:9] == ["wrk", "--threads", "1", "--connections", "256", "--duration", "5s", "--timeout", "5s"]
    assert "Connection: close" not in keep and keep[-1] == "http://s:8888/hello"
    assert close[close.index("--header") + 1] == "Connection: close"
    assert close[close.index("--script") + 1] == "/tmp/x.lua"


def test_the_version_is_read_from_wrks_banner():
    assert wrk.version("wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer\nUsage: ...") == \
        "debian/4.1.0-3+b2"
    assert wrk.version("nothing here") == "unknown"
