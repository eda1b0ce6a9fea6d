"""`lbaws bench --loopback` for real: host processes pinned with taskset, wrk on 127.0.0.1; every server
chosen gets figures, and none of them (nor a worker) outlives the run."""
import json
from pathlib import Path

import pytest

from bench.loopback import RUN_ENV

pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]


def servers_left():
    """Processes a --loopback run started (the run's name in their environment), wherever they are now.

    Other tests serve from the apps folder at the same time: only the environment tells the bench's own."""
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"{RUN_ENV}=".encode() in (entry / "environ").read_bytes():
                    left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return left


def test_loopback_quick_gives_each_server_figures_and_stops_them_all(run_bench, tmp_path):
    assert servers_left() == []
    result = run_bench("--loopback", "--quick", "--server", "lbaws-prefork", "--server", "gunicorn-gthread",
                       "--server", "granian", "--server", "wsgiref", "--reports", str(tmp_path), timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    document = json.loads((tmp_path / "bench.json").read_text())
    assert document["where"] == "loopback"
    names = {"lbaws-prefork", "gunicorn-gthread", "granian", "wsgiref"}
    assert {row["server"] for row in document["results"]} == names
    for row in document["results"]:
        assert row["failures"] == [] and all(run["requests"] > 0 for run in row["runs"]), row["server"]
    # wsgiref speaks HTTP/1.0 and closes; the others keep the connection, checked before measuring.
    assert document["kept_connection"] == {f"{name}-wsgi-1cpu": name != "wsgiref" for name in names}
    assert "lbaws-prefork-wsgi-1cpu" in document["worker_shares"]
    assert (tmp_path / "bench.png").exists()
    assert servers_left() == []
