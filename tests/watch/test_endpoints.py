"""The page's JSON over http.client, from a real lbaws watch: a run read line by line with ?since=N, a
spoiled or half-written samples file read as far as it goes, the archive, a check, and a port in use."""
import http.client
import json
import os
import subprocess
import sys

from scenarios.reports import past_runs
from watch import launch

from watchhelp import LBAWS, children

RUN = {"kind": "run", "wall": 100.0, "scenario": "fd-exhaustion", "run_id": "fd-exhaustion-1", "started": "2026-01-01"}
TRIAL = {"kind": "trial", "wall": 100.5, "trial": "3d", "key": "3d", "counter": "fds", "limit": 256}


def sample(fds, t):
    return {"kind": "sample", "wall": 101 + t, "trial": "3d", "t": t, "alive": True, "fds": fds, "live": 1,
            "zombies": 0}


def write(folder, lines, tail=b""):
    folder.mkdir(parents=True, exist_ok=True)
    data = b"".join(json.dumps(line).encode() + b"\n" if isinstance(line, dict) else line for line in lines)
    (folder / "samples.ndjson").write_bytes(data + tail)


def get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type"), body


def get_json(port, path):
    status, kind, body = get(port, path)
    assert kind == "application/json"
    return status, json.loads(body)


def test_a_run_is_read_from_where_the_last_poll_stopped(watching):
    folder = watching.reports / "fd-exhaustion"
    write(folder, [RUN, TRIAL, sample(10, 0.5)])
    status, first = get_json(watching.port, "/api/run/fd-exhaustion?since=0")
    assert status == 200 and first["next"] == 3 and first["errors"] == [] and not first["done"]
    assert [line["kind"] for line in first["lines"]] == ["run", "trial", "sample"]
    assert first["run"]["state"] == "running"
    write(folder, [RUN, TRIAL, sample(10, 0.5), sample(50, 0.75), {"kind": "verdict", "wall": 103, "word": "REPRODUCED",
                                                                "verdict": "reproduced", "duration_s": 3.0}])
    status, then = get_json(watching.port, f"/api/run/fd-exhaustion?since={first['next']}")
    assert [line.get("fds") for line in then["lines"]] == [50, None]
    assert then["done"] and then["run"]["verdict"] == "REPRODUCED" and then["run"]["state"] == "done"


def test_a_spoiled_and_half_written_file_shows_what_it_has_and_names_what_it_could_not_read(watching):
    write(watching.reports / "fd-exhaustion", [RUN, b"{not json\n", TRIAL, b"[1, 2]\n", sample(40, 1.0)],
          tail=b'{"kind": "sample", "trial": "3d", "fd')
    status, data = get_json(watching.port, "/api/run/fd-exhaustion")
    assert status == 200
    assert [line["kind"] for line in data["lines"]] == ["run", "trial", "sample"]
    assert data["next"] == 5
    assert data["errors"][0].startswith("line 2: could not read it (Expecting property name")
    assert data["errors"][1].startswith('line 4: could not read it (not an object with a "kind")')
    assert data["errors"][2].startswith("line 6: no end of line (still being written, or cut short); its 37 bytes")


def test_the_archive_lists_runs_newest_first_and_a_check_with_its_scenarios(watching):
    write(watching.reports / "zombies", [dict(RUN, scenario="zombies", wall=50.0)])
    write(watching.reports / "fd-exhaustion", [RUN])
    check = watching.reports / "check" / "webserver3g"
    write(check / "fd-exhaustion", [dict(RUN, wall=200.0)])
    (check / "summary.json").write_text(json.dumps({"file": "/home/me/webserver3g.py", "stage": "3g",
                                                    "agrees": True, "scenarios": [{"scenario": "fd-exhaustion"}]}))
    status, data = get_json(watching.port, "/api/runs")
    assert [row["id"] for row in data["runs"]] == ["check/webserver3g/fd-exhaustion", "fd-exhaustion", "zombies"]
    assert data["runs"][0]["checked_file"] == "/home/me/webserver3g.py"
    assert [c["id"] for c in data["checks"]] == ["check/webserver3g"]
    status, found = get_json(watching.port, "/api/check/check/webserver3g")
    assert found["stage"] == "3g" and [r["scenario"] for r in found["runs"]] == ["fd-exhaustion"]


def test_bad_addresses_get_json_errors_and_nothing_outside_the_folder(watching):
    (watching.reports.parent / "secret").mkdir()
    (watching.reports.parent / "secret" / "report.json").write_text("{}")
    assert get_json(watching.port, "/api/run/../secret")[0] == 404
    assert get_json(watching.port, "/api/run/nothing")[0] == 404
    assert get_json(watching.port, "/files/nothing/report.json")[0] == 404
    write(watching.reports / "fd-exhaustion", [RUN])
    status, data = get_json(watching.port, "/api/run/fd-exhaustion?since=-1")
    assert status == 400 and "since" in data["error"]
    assert get_json(watching.port, "/static/../app.py")[0] == 404


def test_the_page_and_its_script_come_from_the_server_itself(watching):
    status, kind, page = get(watching.port, "/run/fd-exhaustion")
    assert status == 200 and kind.startswith("text/html")
    assert b"http" not in page.replace(b'meta name="viewport"', b"")  # no CDN, no remote font
    for name in ("watch.js", "chart.js", "watch.css"):
        status, kind, body = get(watching.port, f"/static/{name}")
        assert status == 200 and b"https://" not in body and b"@import" not in body


def test_lbaws_watch_is_a_prefork_master_and_its_workers_and_stops_them_all(watching):
    assert watching.line.startswith(f"lbaws watch: {watching.url()} shows the runs under ")
    masters = children(watching.process.pid)
    assert len(masters) == 1
    workers = children(masters[0])
    assert len(workers) == 2
    assert "serve\0prefork\0watch.app:app" in open(f"/proc/{masters[0]}/cmdline").read()
    tree = watching.stop()
    assert watching.process.returncode == 0
    assert not [pid for pid in tree if os.path.exists(f"/proc/{pid}")]


def test_a_port_in_use_is_one_line_and_nothing_is_left_running(watching, tmp_path):
    result = subprocess.run([LBAWS, "watch", "--port", str(watching.port), "--reports", str(watching.reports)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr == (f"lbaws watch: port {watching.port} is already in use on 127.0.0.1; "
                             f"choose another with --port N\n")
    assert launch.ping(watching.port) is not None  # the first one still serves


def test_a_missing_reports_folder_is_a_usage_error(tmp_path):
    result = subprocess.run([LBAWS, "watch", "--port", "0", "--reports", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=30)
    assert (result.returncode, result.stderr) == (2, f"lbaws watch: --reports {tmp_path / 'nope'}: no such folder\n")


def test_the_run_before_the_last_is_kept_and_listed_with_its_own_samples(watching):
    folder = watching.reports / "fd-exhaustion"
    write(folder, [RUN, TRIAL, sample(30, 0.5)])
    past_runs.set_aside(folder)  # what the runner does before a new run writes its first line
    write(folder, [dict(RUN, run_id="fd-exhaustion-2", wall=300.0)])
    status, data = get_json(watching.port, "/api/runs")
    assert [(row["id"], row["run_id"]) for row in data["runs"]] == [
        ("fd-exhaustion", "fd-exhaustion-2"), ("fd-exhaustion/past/fd-exhaustion-1", "fd-exhaustion-1")]
    status, old = get_json(watching.port, "/api/run/fd-exhaustion/past/fd-exhaustion-1")
    assert status == 200 and [line.get("fds") for line in old["lines"]] == [None, None, 30]
    status, kind, page = get(watching.port, "/run/fd-exhaustion/past/fd-exhaustion-1")
    assert status == 200 and kind.startswith("text/html")


def pollbench(*args):
    return subprocess.run([sys.executable, "-m", "watch.pollbench", *args], capture_output=True, text=True,
                          timeout=60)


def test_pollbench_counts_every_answer_at_the_pages_pace_and_a_missing_run_as_failures(watching):
    write(watching.reports / "fd-exhaustion", [RUN, TRIAL, sample(10, 0.5)])
    port = str(watching.port)
    done = pollbench("--port", port, "--run", "fd-exhaustion", "--clients", "5", "--polls", "3", "--interval", "0.05")
    assert done.returncode == 0, done.stderr
    assert ("5 clients x 3 polls of /api/run/fd-exhaustion?since=0, every 0.05s after each answer: 15 answers, "
            "0 failures; p50 ") in done.stdout
    missing = pollbench("--port", port, "--run", "no-such-run", "--clients", "2", "--polls", "2", "--interval", "0")
    assert missing.returncode == 1 and "back to back: 4 answers, 4 failures" in missing.stdout


def test_pollbench_without_a_server_says_so_in_one_line():
    done = pollbench("--port", str(launch.free_port()), "--run", "fd-exhaustion", "--clients", "2", "--polls", "1")
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        "pollbench: no answer from 127.0.0.1:" + done.args[4] + " (2 failures)"]
