"""The stage table's switches: enum members only, each with its own branch, and the text's reapers."""

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

from lbaws import cli, handlers, process_models, stages
from lbaws.stages import (HELLO, STAGES, AppUse, Forking, Handler, Iterative, Prefork, ProcessModel, Reaper,
                          Stage)
from srvnet import raw_exchange

pytestmark = pytest.mark.timeout(60)

ROW = dict(name="9z", tutorial_file="webserver9z.py", summary="a stage with a typo",
           model=ProcessModel.FORK, switches=Forking(), backlog=5)


@pytest.mark.parametrize("field,typo,allowed", [
    ("model", "forking", "ProcessModel.ITERATIVE, ProcessModel.FORK, ProcessModel.PREFORK"),
    ("model", "fork", "ProcessModel.ITERATIVE, ProcessModel.FORK, ProcessModel.PREFORK"),  # the old string is refused too
    ("handler", "htpp", "Handler.ANYTHING, Handler.HTTP"),
    ("app", "requird", "AppUse.NONE, AppUse.OPTIONAL, AppUse.REQUIRED"),
])
def test_a_mistyped_switch_is_refused_naming_the_field_and_the_allowed_members(field, typo, allowed):
    with pytest.raises(TypeError) as raised:
        Stage(**dict(ROW, **{field: typo}))
    assert str(raised.value) == f"stage '9z': {field} must be one of {allowed}, not {typo!r}"


@pytest.mark.parametrize("typo", ["waitpd", None, AppUse.NONE])
def test_a_mistyped_reaper_in_the_forking_switches_is_refused_naming_the_stage(typo):
    with pytest.raises(TypeError) as raised:
        Stage(**dict(ROW, switches=Forking(reaper=typo)))
    assert str(raised.value) == \
        f"stage '9z': reaper must be one of Reaper.NONE, Reaper.WAIT_ONE, Reaper.WAITPID_ALL, not {typo!r}"
    assert Stage(**dict(ROW, switches=Forking(reaper=Reaper.WAITPID_ALL))).switches.reaper is Reaper.WAITPID_ALL


@pytest.mark.parametrize("kind,switch,value", [
    (Prefork, "reaper", Reaper.WAITPID_ALL),  # the prefork master reaps in its loop, whatever a row says
    (Prefork, "restart_accept", True),
    (Prefork, "survive_exhaustion", True),
    (Prefork, "graceful_shutdown", True),
    (Prefork, "sleep", 1.0),               # its workers never sleep after a response
    (Iterative, "close_parent_copy", False),  # an iterative stage forks nothing
    (Iterative, "reaper", Reaper.WAIT_ONE),
    (Iterative, "workers", 2),
    (Forking, "workers", 2),
    (Forking, "keep_alive", True),
])
def test_a_row_cannot_set_a_switch_its_model_does_not_read(kind, switch, value):
    with pytest.raises(TypeError) as raised:
        kind(**{switch: value})
    assert str(raised.value).endswith(f"__init__() got an unexpected keyword argument '{switch}'")
    # Nor on the stage itself: the model's switches live in its switch object only.
    with pytest.raises(TypeError) as raised:
        Stage(**ROW, **{switch: value})
    assert str(raised.value).endswith(f"__init__() got an unexpected keyword argument '{switch}'")


@pytest.mark.parametrize("model,switches,expected", [
    (ProcessModel.PREFORK, Forking(reaper=Reaper.WAITPID_ALL),
     "stage '9z': the switches of ProcessModel.PREFORK must be Prefork(...), not Forking(sleep=0.0, "
     "close_parent_copy=True, reaper=<Reaper.WAITPID_ALL: 'waitpid'>, restart_accept=False, "
     "survive_exhaustion=False, graceful_shutdown=False, log_child_pid=False, log_client_count=False)"),
    (ProcessModel.ITERATIVE, Prefork(),
     "stage '9z': the switches of ProcessModel.ITERATIVE must be Iterative(...), "
     "not Prefork(workers=2, keep_alive=True)"),
    (ProcessModel.FORK, Iterative(sleep=3.0),
     "stage '9z': the switches of ProcessModel.FORK must be Forking(...), not Iterative(sleep=3.0)"),
    (ProcessModel.FORK, None, "stage '9z': the switches of ProcessModel.FORK must be Forking(...), not None"),
])
def test_switches_of_another_model_are_refused(model, switches, expected):
    with pytest.raises(TypeError) as raised:
        Stage(**dict(ROW, model=model, switches=switches))
    assert str(raised.value) == expected


def test_every_member_of_every_switch_has_its_own_branch():
    assert set(process_models.MODELS) == set(ProcessModel)
    assert set(stages.SWITCHES) == set(ProcessModel)
    assert set(process_models.REAPERS) == set(Reaper)
    assert set(handlers.HANDLERS) == set(Handler)
    assert set(cli._APP_IN_LISTING) == set(AppUse)
    assert set(cli._APP_REFUSALS) == {(use, given) for use in AppUse for given in (False, True)}


def test_the_table_gives_each_stage_the_texts_process_model_and_reaper():
    by_name = {stage.name: stage for stage in STAGES}
    assert {name for name, stage in by_name.items() if stage.model is ProcessModel.ITERATIVE} == \
        {"1", "2", "3a", "3b"}
    forking = {name: stage.switches for name, stage in by_name.items() if stage.model is ProcessModel.FORK}
    assert set(forking) == {"3c", "3d", "3e", "3f", "3g", "3h"}
    assert {name: switches.reaper for name, switches in forking.items() if switches.reaper is not Reaper.NONE} == \
        {"3e": Reaper.WAIT_ONE, "3f": Reaper.WAIT_ONE, "3g": Reaper.WAITPID_ALL, "3h": Reaper.WAITPID_ALL}
    assert process_models.REAPERS[forking["3e"].reaper] is process_models.wait_one_reaper
    assert process_models.REAPERS[forking["3g"].reaper] is process_models.waitpid_all_reaper
    assert process_models.REAPERS[forking["3d"].reaper] is None
    # prefork reaps with 3g's loop in its master's main loop: its SIGCHLD handler only records.
    assert stages.names("has_sigchld_handler") == "3e, 3f, 3g, 3h"
    assert {stage.name for stage in STAGES if stage.keep_alive or stage.workers} == {"prefork"}
    assert by_name["prefork"].switches == Prefork(workers=2, keep_alive=True) and by_name["prefork"].multiprocess
    for stage in STAGES:
        assert type(stage.switches) is stages.SWITCHES[stage.model]
        assert dataclasses.replace(stage) == stage, "every row passes its own checks"


def test_what_the_options_of_serve_ask_of_each_stage():
    # The sleep after each response (the lab's scenarios read it too), 0 where the model has none.
    assert {stage.name: stage.sleep for stage in STAGES if stage.sleep} == {"3b": 60.0, "3c": 60.0, "3e": 3.0}
    assert stages.names("sleeps") == "1, 2, 3a, 3b, 3c, 3d, 3e, 3f, 3g, 3h"
    assert stages.names("drains") == "3g, 3h, prefork"
    assert stages.names("workers") == "prefork"
    assert stages.names("takes_default_sigterm") == "1, 2, 3a, 3b, 3c, 3d, 3e, 3f, 3g, 3h"
    # Each refusal of `lbaws serve` reads one of these properties: a new stage needs no new refusal.
    assert {reads for reads, _ in cli._STAGE_OPTIONS.values()} == \
        {"has_sigchld_handler", "workers", "sleeps", "drains", "takes_default_sigterm"}


# Forks CHILDREN that exit at once, waits until all are zombies, then delivers one SIGCHLD's worth of
# reaping by calling the stage's handler once, as the kernel would for signals that coalesced.
ONE_SIGNAL = textwrap.dedent("""
    import json, os, signal, sys, time
    from lbaws import process_models, unix
    from lbaws.stages import Reaper

    def state(pid):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return "gone"

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    pids = []
    for _ in range(int(sys.argv[2])):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    end = time.monotonic() + 10
    while any(state(pid) != "Z" for pid in pids) and time.monotonic() < end:
        time.sleep(0.01)
    before = sum(state(pid) == "Z" for pid in pids)
    handler = process_models.REAPERS[Reaper[sys.argv[1]]](unix.Python2Signals(False))
    handler(signal.SIGCHLD, None)
    print(json.dumps({"before": before, "after": sum(state(pid) == "Z" for pid in pids)}))
""")


@pytest.mark.parametrize("member,left", [("WAIT_ONE", 4), ("WAITPID_ALL", 0)])
def test_one_sigchld_reaps_one_child_with_wait_and_every_child_with_waitpid(member, left):
    result = subprocess.run([sys.executable, "-c", ONE_SIGNAL, member, "5"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"before": 5, "after": left}


def test_hello_is_the_body_on_the_wire_of_part_one_and_of_3a(serve):
    assert HELLO == "Hello, World!"
    for name in ("1", "3a"):
        server = serve(name)
        response = raw_exchange(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert response.startswith(b"HTTP/1.1 200 OK\r\n")
        assert response.split(b"\r\n\r\n", 1)[1] == b"Hello, World!\n"
