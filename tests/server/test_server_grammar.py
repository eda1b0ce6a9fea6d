"""The grammar's octet sets, against the Python text methods that took Unicode whitespace and digits for ASCII."""

import pytest

from lbaws import grammar

LIMIT = 16 * 1024 * 1024


@pytest.mark.parametrize("data,expected", [
    (b"5", 5), (b"0005", 5), (b"0", 0), (b"16777216", LIMIT), (b"9" * 5000, LIMIT + 1),
    (b"\xb2", None), (b" 5", None), (b"5\x85", None), (b"\xa05", None), (b"5_0", None), (b"+5", None),
    (b"-5", None), (b"", None), (b"0x5", None),
])
def test_decimal_is_ascii_digits_only(data, expected):
    # int() reads b" 5", b"5_0" and b"+5" as numbers, and str.isdigit() says yes to a superscript two.
    assert grammar.decimal(data, LIMIT) == expected


@pytest.mark.parametrize("line,expected", [
    (b"5", 5), (b"a", 10), (b"A", 10), (b"000f", 15), (b"5;name", 5), (b"5 ; name = value", 5),
    (b'5;name="a \\" b"', 5), (b"fffffffff", LIMIT + 1),
    (b"5 ", None), (b" 5", None), (b"5\t", None), (b"5;", None), (b"5;a=", None), (b"0x5", None),
    (b"5\x85", None), (b"5;a\rb", None), (b'5;a="x', None), (b"", None),
])
def test_chunk_size_line(line, expected):
    assert grammar.chunk_size_line(line, LIMIT) == expected


@pytest.mark.parametrize("line,expected", [
    (b"Host: x", (b"Host", b"x")), (b"X:v", (b"X", b"v")), (b"X: \t a b \t", (b"X", b"a b")),
    (b"X:", (b"X", b"")), (b"X: caf\xe9", (b"X", b"caf\xe9")),
    (b"X : v", None), (b" X: v", None), (b": v", None), (b"X\x85: v", None), (b"X: a\x00b", None),
    (b"X: a\rb", None), (b"X: a\x7f", None), (b"NoColon", None),
])
def test_field_line(line, expected):
    spans = grammar.field_line(line)
    assert (None if spans is None else (line[:spans[0]], line[spans[1]:spans[2]])) == expected


def test_ows_is_sp_and_htab_only():
    assert grammar.strip_ows(b" \t5\t ") == b"5"
    assert grammar.strip_ows(b"\xa05\x85") == b"\xa05\x85"
    assert grammar.list_elements(b" gzip ,, chunked\t, ") == [b"gzip", b"chunked"]
    assert grammar.list_elements(b"chunked\x85") == [b"chunked\x85"]


@pytest.mark.parametrize("line,expected", [
    (b"GET / HTTP/1.1", (b"GET", b"/", b"HTTP/1.1")), (b"OPTIONS * HTTP/1.0", (b"OPTIONS", b"*", b"HTTP/1.0")),
    (b"GET  / HTTP/1.1", None), (b"GET\t/ HTTP/1.1", None), (b"GET\x85/ HTTP/1.1", None),
    (b"GET /\xa0HTTP/1.1", None), (b"GET / HTTP/1.1 ", None), (b"GET /\xe9 HTTP/1.1", None), (b"G(T / HTTP/1.1", None),
])
def test_request_line_is_three_parts_and_two_sp(line, expected):
    assert grammar.request_line(line) == expected


def test_http_version():
    assert grammar.http_version(b"HTTP/1.1") == (1, 1)
    assert [grammar.http_version(v) for v in (b"HTTP/1.10", b"http/1.1", b"HTTP/\xb9.1", b"HTTP/1.1\n")] == [None] * 4


def test_tokens_in_bytes_and_in_text():
    assert grammar.is_token(b"X-Custom_1!") and grammar.is_token("X-Custom_1!")
    assert not any(grammar.is_token(t) for t in (b"", b"a b", b"a:b", b"caf\xe9", "café", "a\n"))
