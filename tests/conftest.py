"""How `make test` spreads the suite over pytest-xdist's workers (`-n auto --dist loadgroup`), in one pass.

Most of the suite waits (sleeps, timeouts, containers starting), so its tests run side by side. What
tests share goes to one worker as a group, so it is made once and nothing else touches it meanwhile:

- tests/lab's Compose projects (the `lab` and `compose_project` fixtures): one project per session, and
  services with fixed UIDs, whose RLIMIT_NPROC the host kernel counts across containers: two workers
  running them would share those counts;
- a module with a module-scoped fixture (one real scenario run, one server, one check, read by all its
  tests): the module, so the fixture runs once;
- the scenario runs that flood the server (FLOODS): two lanes, each one after another, beside the rest. Their
  experiments wait for their event (the load's connects as patient as its deadline) and say ERROR, in the
  machine's terms, when a busy machine still starved them, so they need no quiet machine. Beside the lane
  run the reader's flood checks (their own pool, three at a time, tests/check/flood_checks.py), the
  workbench's two flood blocks and the browser's fd-exhaustion (marker `flood`, in their modules' groups);
- `lbaws bench`'s real runs (marker `bench`): wrk against every server, never two at once, and never
  beside a flood: a bench run holds the bench lock alone (`_bench_lock`), a flood shares it with the others.
  Beside load, a single-threaded peer (wsgiref) stalled wrk past its bound.

Every other test owns what it uses: a free loopback port, a scenario run with its own id, UIDs and
network (lab.runs), a runner host of its own where it kills a runner (tests/scenarios/test_leftovers).
Images are built once: lab.images holds a file lock while it builds, so the first worker builds and
the others find them current.
"""
import contextlib
import fcntl
import os
import pathlib

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
# The Compose project of tests/lab and its extra projects: services with fixed UIDs.
COMPOSE_FIXTURES = {"lab", "compose_project"}
# The experiments that flood the server (a backlog of 5 dropping handshakes, SIGCHLDs coalescing, a steady
# rate, the pids cgroup read every 50 ms): two lanes of them (FLOOD_LANES), each one after another.
FLOODS = {"fd-exhaustion", "nproc-exhaustion", "missed-signals", "waitpid-reaper", "prefork-respawn",
          "prefork-hung-worker", "pids-cgroup",
          # Timed against the server's own sleep: a shell's `sleep 0.5` between two curls overshoots on
          # a busy machine, and 3c's ten children must all be alive at once.
          "iterative-blocking", "concurrent-fork"}
FLOOD_TESTS = {"test_every_fixed_stage_answers_every_request_without_zombie_or_leak",
               "test_fd_exhaustion_with_the_repositorys_client_counts_what_reached_accept"}
# Tests that run the scenario their `name` says: a flood when that scenario is one.
SCENARIO_TESTS = {"test_scenario_reproduces", "test_reproduces_with_the_limits_from_the_entrypoint"}
# Five workers on two cores: the tests mostly wait. The flood-check pool and the two flood lanes hold three of
# them for most of the run; a fifth keeps two for the rest (measured: 577 s against 589 s with four).
WORKERS = 5
# Each `lbaws scenario` and `lbaws check` the suite runs sits beside the workers' other tests (and the flood
# checks beside each other), so each takes three experiments at a time, not a lone command's two per core.
os.environ.setdefault("LBAWS_JOBS", "3")


# The scenario floods' lanes: each flood's lane, dealt in the collection's order (pytest_collection_modifyitems).
FLOOD_LANES = 2
LANES = {}


def pytest_xdist_auto_num_workers(config):
    return int(os.environ.get("LBAWS_TEST_WORKERS", WORKERS))


def group_of(item) -> str | None:
    named = item.get_closest_marker("xdist_group")
    if named is not None:  # a module that names its group (tests/check's pool of flood checks)
        return named.args[0] if named.args else named.kwargs.get("name")
    if COMPOSE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "compose-lab"
    if _floods(item):
        return f"floods-{LANES[item.nodeid]}" if item.nodeid in LANES else "floods"
    if item.get_closest_marker("bench"):
        return "bench"
    if _has_module_fixture(item):
        return os.path.relpath(str(item.path), TESTS)
    return None


def _floods(item) -> bool:
    name = item.originalname if hasattr(item, "originalname") else item.name
    if name in FLOOD_TESTS:
        return True
    callspec = getattr(item, "callspec", None)
    return name in SCENARIO_TESTS and callspec is not None and callspec.params.get("name") in FLOODS


def _has_module_fixture(item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    return bool(info) and any(definition.scope == "module" for definitions in info.name2fixturedefs.values()
                              for definition in definitions)


def floods(item) -> bool:
    """A scenario run that floods a server, or a test that says it does (marker `flood`)."""
    return item.get_closest_marker("flood") is not None


@contextlib.contextmanager
def _bench_lock(config, kind):
    """Hold the lock a real bench run takes alone (kind LOCK_EX) and floods share (LOCK_SH)."""
    basetemp = config.option.basetemp
    if not (basetemp and hasattr(config, "workerinput")):
        yield  # no xdist workers beside this one: nothing to keep apart
        return
    # Each worker's base temp is a folder of the session's own, which every worker shares.
    with open(pathlib.Path(basetemp).parent / "bench-or-floods.lock", "a") as held:
        fcntl.flock(held, kind)  # released when the file closes
        yield


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """A real bench run and the floods never at once: outside pytest-timeout's own wrapper, so the wait
    for the other side to finish is not counted against the test's timeout."""
    bench = item.get_closest_marker("bench") is not None
    # The pool of flood checks takes the floods' side itself, for as long as its checks run (floods_apart):
    # its tests only read their results, and need not wait for a bench run that began since.
    if not bench and not floods(item) or "flood_checks" in getattr(item, "fixturenames", ()):
        yield
        return
    with _bench_lock(item.config, fcntl.LOCK_EX if bench else fcntl.LOCK_SH):
        yield


@pytest.fixture(scope="session")
def floods_apart(request):
    """The floods' side of the bench lock, for a session fixture that floods (tests/check's pool of checks)."""
    return lambda: _bench_lock(request.config, fcntl.LOCK_SH)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    lanes = [item for item in items if _floods(item) and not item.get_closest_marker("xdist_group")]
    LANES.update({item.nodeid: 1 + index % FLOOD_LANES for index, item in enumerate(lanes)})
    # Before xdist's own hook (trylast), which reads the marks into the names it schedules by.
    for item in items:
        group = group_of(item)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
        if _floods(item):  # so `-m flood` selects every flood, the scenario runs among them
            item.add_marker(pytest.mark.flood)


def pytest_report_collectionfinish(config, start_path, items):
    groups = {}
    for item in items:
        group = group_of(item)
        if group:
            groups[group] = groups.get(group, 0) + 1
    if groups:
        return [f"xdist groups: {', '.join(f'{name} ({count})' for name, count in sorted(groups.items()))}"]
    return []


def pytest_terminal_summary(terminalreporter):
    """The figures tests/server's tests measured (its `measured` fixture), from every worker's reports."""
    lines = [value for reports in terminalreporter.stats.values() for report in reports
             if getattr(report, "when", None) == "teardown"
             for name, value in getattr(report, "user_properties", ()) if name == "lbaws-measured"]
    if lines:
        terminalreporter.section("what the stages did (lbaws server tests)")
        for line in lines:
            terminalreporter.write_line(line)
