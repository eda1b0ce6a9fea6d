"""Finding and reading a container's pids cgroup from the host, on cgroup v1 and v2, from recorded files.

v1/ and v1-full/ were recorded on the lab's machine (cgroup v1, cgroupfs driver) from a container with
--pids-limit 200 and one filled to --pids-limit 5; v2/ is written in the kernel's format (see its README).
"""
import json
import shutil
from pathlib import Path

import pytest

from scenarios.executor.cgroups import (UNIFIED, from_stats, parse_events, parse_limit, parse_mountinfo,
                                        parse_proc_cgroup, pids_dir, read_dir)

DATA = Path(__file__).resolve().parent / "cgroup"
V1_ID = "7acb15b1731eb497aca84f6c91c8d92ba9154c7ea94552ccfa289cc87644e347"


def text(*parts):
    return DATA.joinpath(*parts).read_text()


def test_v1_proc_cgroup_names_every_controller_and_the_unified_line():
    paths = parse_proc_cgroup(text("v1", "proc-pid-cgroup"))
    assert paths["pids"] == paths["memory"] == f"/docker/{V1_ID}"
    assert paths[UNIFIED] == f"/docker/{V1_ID}"


def test_v1_hybrid_host_finds_the_pids_hierarchy_not_the_empty_unified_one():
    mounts = parse_mountinfo(text("v1", "mountinfo"))
    assert mounts["pids"] == ("/sys/fs/cgroup/pids", "/")
    assert mounts[UNIFIED] == ("/sys/fs/cgroup/unified", "/")
    assert pids_dir(text("v1", "proc-pid-cgroup"), text("v1", "mountinfo")) == Path(
        f"/sys/fs/cgroup/pids/docker/{V1_ID}")


def test_v2_finds_the_scope_under_the_single_hierarchy():
    folder = pids_dir(text("v2", "proc-pid-cgroup"), text("v2", "mountinfo"))
    assert folder.parent == Path("/sys/fs/cgroup/system.slice")
    assert folder.name.startswith("docker-") and folder.name.endswith(".scope")


def test_a_mount_of_a_subtree_is_joined_without_its_root_twice():
    # Inside a cgroup namespace's view, a hierarchy may be mounted from a subtree, not from "/".
    mountinfo = "40 31 0:36 /docker /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    assert pids_dir("8:pids:/docker/abc\n", mountinfo) == Path("/sys/fs/cgroup/pids/abc")


def test_no_cgroup_mounted_is_none():
    assert pids_dir(text("v1", "proc-pid-cgroup"), "26 30 0:24 / /proc rw - proc proc rw\n") is None


@pytest.mark.parametrize("version, current, limit, refused", [
    ("v1", 1, 200, 0), ("v1-full", 5, 5, 4), ("v2", 37, 200, 2)])
def test_the_pids_files_read_the_same_on_both_versions(tmp_path, version, current, limit, refused):
    for name in ("pids.current", "pids.max", "pids.events"):
        shutil.copy(DATA / version / name, tmp_path / name)
    reading = read_dir(tmp_path, t=1.23456)
    assert (reading.t, reading.current, reading.limit, reading.refused) == (1.235, current, limit, refused)


def test_a_cgroup_without_a_limit_or_events_file():
    assert parse_limit("max\n") is None and parse_limit("4096\n") == 4096
    assert parse_events("") is None and parse_events("max 0\nmax.imposed 3\n") == 0


def test_a_cgroup_that_is_gone_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        read_dir(tmp_path / "gone", t=0)


@pytest.mark.parametrize("name, expected", [
    ("stats-running.json", (1, 200)), ("stats-full.json", (5, 5)), ("stats-no-limit.json", (1, None))])
def test_the_engines_stats_api_says_the_count_and_limit(name, expected):
    reading = from_stats(json.loads(text(name)), t=2.0)
    assert (reading.current, reading.limit) == expected and reading.refused is None


def test_the_stats_of_a_container_that_is_not_running_have_no_count():
    assert from_stats(json.loads(text("stats-exited.json")), t=2.0) is None
