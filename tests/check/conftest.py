"""The pool of flood checks that test_check.py and test_check_any_language.py read (flood_checks.py)."""
import pytest

import flood_checks as pool
import languages


@pytest.fixture(scope="session")
def shell_image(tmp_path_factory):
    tag = languages.build_shell_image(tmp_path_factory.mktemp("shell-image"))
    try:
        yield tag
    finally:
        languages.remove_image(tag)


@pytest.fixture(scope="session")
def flood_checks(tmp_path_factory, shell_image, floods_apart):
    """Every flood check, run as a reader runs it, once for both modules; never beside a real bench run."""
    with floods_apart():
        return pool.run_every_one(tmp_path_factory, shell_image)
