"""make test's second chance runs exactly the tests that failed, whatever xdist group they ran in."""
import json

from rerun_failed import failed_ids


def test_the_failed_ids_lose_their_xdist_group_and_nothing_else(tmp_path):
    cache = tmp_path / "lastfailed"
    cache.write_text(json.dumps({"tests/a.py::test_x[one two]@floods": True, "tests/a.py::test_x[one two]": True,
                                 "tests/b.py::test_y": True}))
    assert failed_ids(cache) == ["tests/a.py::test_x[one two]", "tests/b.py::test_y"]


def test_no_cache_is_no_id(tmp_path):
    assert failed_ids(tmp_path / "missing") == []
