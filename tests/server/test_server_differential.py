"""lbaws's framing against h11 and llhttp: generated requests and the data files, every difference explained
by a row of docs/http-framing.md's table or a failure that prints the (shrunk) request and the three readings.

Bounded here (a fixed seed, EXAMPLES requests); `make fuzz SECONDS=600` runs the same comparison for longer.
"""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from differential import KNOWN, compare, describe, read_h11, read_llhttp, requests
from requestfiles import load_all

EXAMPLES = 2000
TABLE = Path(__file__).resolve().parents[2] / "docs" / "http-framing.md"
CASES = load_all()


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests())
# What earlier runs found, shrunk: each taught the table a row (or a row its exact extent).
@example(b"GET / HTTP/1.1\r\nHost: x\r\r")
@example(b"GET / HTTP/1.1\r\nHost: x\nX-A: a b\r\n\r\r\n")
@example(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: v\r\n folded\r\n\r\n")
@example(b"GETX / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\n\x00\r\n0;a=b\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\r\n\x00\r\n0;a=b\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding: chunked\r\n\r\n1; a = b\r\n\x00\r\n0\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding:  chunked\t\r\n\r\n0\r\n\r\n")
@example(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a b\r\nTransfer-Encoding: chunked\r\n\n0 \r\n\r\n")
def test_generated_requests_are_read_as_h11_and_llhttp_read_them_or_as_the_table_says(raw):
    _, finding = compare(raw)
    assert finding is None, "a disagreement outside docs/http-framing.md:\n" + describe(finding)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_request_file_is_read_as_h11_and_llhttp_read_it_or_as_the_table_says(case):
    _, finding = compare(case.raw)
    assert finding is None, "a disagreement outside docs/http-framing.md:\n" + describe(finding)


def _table_rows():
    """{row id: the data files its last column names} from the docs table."""
    rows = {}
    for line in TABLE.read_text().splitlines():
        match = re.match(r"\| `([a-z0-9.-]+)` \|.*\|([^|]*)\|$", line)
        if match:
            rows[match.group(1)] = re.findall(r"`([a-z0-9-]+)`", match.group(2))
    return rows


def test_the_docs_table_and_the_comparison_know_the_same_rows():
    explained = set(KNOWN) | {"refused-at-the-line-end"}
    assert set(_table_rows()) == explained


def test_each_row_of_the_table_is_tested_both_ways_by_request_files():
    names = {case.name: case for case in CASES}
    for row, files in _table_rows().items():
        assert files, f"row {row} names no request file"
        assert all(name in names for name in files), (row, [name for name in files if name not in names])
        if row != "refused-at-the-line-end":
            outcomes = {names[name].expect == "accept" for name in files}
            assert outcomes == {True, False}, f"row {row}: its files are not on both sides of the line"


def test_the_peers_are_the_real_parsers_and_read_a_plain_request():
    # A reader that always says "reject" would agree with every 400; this one must accept the ordinary case.
    raw = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
    expected = ("accept", "POST", "/a", "HTTP/1.1", b"hi", len(raw))
    assert read_h11(raw) == read_llhttp(raw) == expected
    assert read_h11(raw[:-1]) == read_llhttp(raw[:-1]) == ("incomplete",)
