"""lbaws's request framing compared with two independent parsers: h11 and llhttp (through httptools).

Each reads the same bytes as a server would, step by step: accept (method, target, version, body, and
how many bytes the request took, which is where the next one starts), reject, or wait for more. Where they
differ, KNOWN says whether docs/http-framing.md's table explains it; anything else is a finding.

`python tests/server/differential.py --seconds 600` (what `make fuzz` runs) generates requests for as
long as asked and reports counts, the explained disagreements per table row, and the first finding, shrunk.
"""

import re
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import h11
import httptools
from hypothesis import strategies as st

from lbaws import grammar
from lbaws.http11 import MAX_BODY, MAX_HEADER_LINE, MAX_HEADERS, MAX_REQUEST_LINE, SINGLE_VALUE_FIELDS, BufferSource, HTTPError, Incomplete, RequestReader, wants_keep_alive

PEERS = ("h11", "llhttp")
Outcome = tuple  # ("accept", method, target, version, body, consumed) | ("reject",) | ("incomplete",)


def read_lbaws(raw: bytes) -> Tuple[Outcome, bool]:
    """The outcome, and whether the connection would go on to another request."""
    source = BufferSource(raw)
    try:
        request = RequestReader(source, lambda _: None).read()
    except Incomplete:
        return ("incomplete",), False
    except HTTPError:
        return ("reject",), False
    return ("accept", request.method, request.target, request.version, request.body, source.pos), \
        wants_keep_alive(request)


def read_h11(raw: bytes) -> Outcome:
    conn = h11.Connection(h11.SERVER)
    if raw:  # h11 takes no bytes for the end of the stream
        conn.receive_data(raw)
    request, body = None, b""
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                return ("incomplete",)
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                consumed = len(raw) - len(conn.trailing_data[0])
                return ("accept", request.method.decode("latin-1"), request.target.decode("latin-1"),
                        "HTTP/" + request.http_version.decode("latin-1"), body, consumed)
            else:  # PAUSED (an Upgrade or CONNECT): the generator sends neither
                return ("other", repr(event))
    except h11.RemoteProtocolError:
        return ("reject",)


class _Collect:
    def __init__(self):
        self.url, self.body, self.done = b"", b"", False

    def on_url(self, url):
        self.url += url

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        self.done = True


def read_llhttp(raw: bytes) -> Outcome:
    # One octet at a time: llhttp says where a message ends only by when its callback runs.
    collect = _Collect()
    parser = httptools.HttpRequestParser(collect)
    for end in range(1, len(raw) + 1):
        try:
            parser.feed_data(raw[end - 1:end])
        except httptools.HttpParserUpgrade:
            return ("other", "upgrade")
        except httptools.HttpParserError:
            if not collect.done:
                return ("reject",)
        if collect.done:
            return ("accept", parser.get_method().decode("latin-1"), collect.url.decode("latin-1"),
                    "HTTP/" + parser.get_http_version(), collect.body, end)
    return ("incomplete",)


READERS = {"h11": read_h11, "llhttp": read_llhttp}


# What docs/http-framing.md's table says, as tests over the request's bytes. A disagreement is explained
# when every parser that differs from lbaws is named by a row whose test holds for the request.
def _head(raw: bytes):
    """(request line, [field lines]) of the bytes' first request, read loosely, before any validation."""
    lines = re.split(rb"\r?\n", raw.lstrip(b"\r\n"))
    fields = []
    for line in lines[1:]:
        if not line:
            break
        fields.append(line)
    return lines[0], fields


def _values(raw: bytes, name: bytes) -> List[bytes]:
    found = []
    for line in _head(raw)[1]:
        field_name, colon, value = line.partition(b":")
        if colon and field_name.lower() == name:
            found.append(value.strip(b" \t"))
    return found


def _raw_lines(raw, name: bytes) -> List[bytes]:
    """The values of field `name` with the whitespace around them."""
    return [line.partition(b":")[2] for line in _head(raw)[1] if line.partition(b":")[0].lower() == name]


def _request_line_parts(raw):
    return _head(raw)[0].split(b" ")


LLHTTP_METHODS = {b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE"}
_URI_CHARS = re.compile(rb"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _chunk_lines(raw):
    return re.findall(rb"(?:^|\n)([0-9A-Fa-f]+[^\n]*?)\r?\n", re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[-1])


def _trailer(raw):
    """The lines after a last chunk (`0` and its line end), read loosely."""
    match = re.search(rb"\n0[^\r\n]*\r?\n(.*?)\r?\n\r?\n", raw, re.S)
    return re.split(rb"\r?\n", match.group(1)) if match else []


def _only_bare_lf(raw):
    """Whether llhttp reads `raw` as lbaws does once every bare LF in it is a CRLF: then the LF was its objection."""
    crlf = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
    return crlf != raw and read_llhttp(crlf) == read_lbaws(crlf)[0]


def _only_empty_lines_first(raw):
    """Whether h11 reads `raw` as lbaws does once the empty lines before the request line are gone."""
    skipped = re.match(rb"(?:\r?\n)*", raw).end()
    if not skipped:
        return False
    outcome = read_h11(raw[skipped:])
    if outcome[0] == "accept":
        outcome = outcome[:5] + (outcome[5] + skipped,)
    return outcome == read_lbaws(raw)[0]


KNOWN: Dict[str, Tuple[set, object]] = {
    "bare-lf": ({"llhttp"}, lambda raw: _only_bare_lf(raw)),
    "empty-lines-first": ({"h11"}, lambda raw: _only_empty_lines_first(raw)),
    "whitespace-runs": ({"llhttp"}, lambda raw: b"  " in _head(raw)[0]),
    "obs-fold": ({"h11"}, lambda raw: any(line[:1] in (b" ", b"\t") for line in _head(raw)[1] + _trailer(raw))),
    "repeated-content-length": ({"llhttp"},
                                lambda raw: len(b",".join(_values(raw, b"content-length")).split(b",")) > 1),
    "te-with-cl": ({"h11"}, lambda raw: bool(_values(raw, b"transfer-encoding") and _values(raw, b"content-length"))),
    "te-codings": ({"h11", "llhttp"}, lambda raw: len(b",".join(_values(raw, b"transfer-encoding")).split(b",")) > 1),
    "te-trailing-tab": ({"llhttp"}, lambda raw: any(re.search(rb"chunked[ \t]*\t", value.lower())
                                                     for value in _raw_lines(raw, b"transfer-encoding"))),
    "te-in-http-1.0": ({"h11", "llhttp"},
                       lambda raw: bool(_values(raw, b"transfer-encoding")) and _head(raw)[0].endswith(b"HTTP/1.0")),
    "controls-in-values": ({"h11"}, lambda raw: any(re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", line.partition(b":")[2])
                                                   for line in _head(raw)[1] + _trailer(raw))),
    "host": ({"llhttp"}, lambda raw: len(_values(raw, b"host")) != (1 if b"HTTP/1.1" in _head(raw)[0] else 0)
             and (len(_values(raw, b"host")) > 1 or b"HTTP/1.1" in _head(raw)[0])),
    "single-value-fields": ({"h11", "llhttp"}, lambda raw: any(len(_values(raw, name.encode())) > 1
                                                               for name in SINGLE_VALUE_FIELDS)),
    "methods": ({"llhttp"}, lambda raw: _request_line_parts(raw)[0] not in LLHTTP_METHODS),
    "versions": ({"h11", "llhttp"}, lambda raw: len(_request_line_parts(raw)) == 2 or (
        len(_request_line_parts(raw)) == 3 and _request_line_parts(raw)[2] not in (b"HTTP/1.0", b"HTTP/1.1"))),
    "target-forms": ({"h11", "llhttp"}, lambda raw: len(_request_line_parts(raw)) == 3 and not (
        _request_line_parts(raw)[1][:1] == b"/" or _request_line_parts(raw)[1].startswith((b"http://", b"https://"))
        or _request_line_parts(raw)[:2] == [b"OPTIONS", b"*"])),
    "target-characters": ({"llhttp"}, lambda raw: len(_request_line_parts(raw)) == 3
                          and _URI_CHARS.fullmatch(_request_line_parts(raw)[1]) is None),
    "chunk-size-whitespace": ({"h11"}, lambda raw: any(re.match(rb"[0-9A-Fa-f]+[ \t]+$", line)
                                                       for line in _chunk_lines(raw))),
    "chunk-extension-bws": ({"h11", "llhttp"}, lambda raw: any(re.match(rb'[0-9A-Fa-f]+[^"]*;[^"]*', line) and
                                                               re.search(rb"[ \t]", line.partition(b'"')[0])
                                                               for line in _chunk_lines(raw))),
    "chunk-extension-syntax": ({"h11", "llhttp"}, lambda raw: any(b";" in line and grammar.chunk_size_line(line, MAX_BODY) is None
                                                        for line in _chunk_lines(raw))),
    "limits": ({"h11", "llhttp"}, lambda raw: any(len(v.lstrip(b"0")) > 7 for v in _values(raw, b"content-length"))
               or len(_head(raw)[0]) > MAX_REQUEST_LINE or len(_head(raw)[1]) > MAX_HEADERS
               or any(len(line) > MAX_HEADER_LINE for line in _head(raw)[1])
               or any(len(re.match(rb"[0-9A-Fa-f]*", line).group().lstrip(b"0")) > 6 for line in _chunk_lines(raw))),
}


def explain(raw: bytes, dissenters) -> Optional[List[str]]:
    """The rows of the table that explain `dissenters` differing from lbaws on `raw`, or None."""
    rows = []
    for peer in dissenters:
        matching = [row for row, (peers, holds) in KNOWN.items() if peer in peers and holds(raw)]
        if not matching:
            return None
        rows.extend(matching)
    return sorted(set(rows))


def compare(raw: bytes, max_requests: int = 4):
    """Walk the requests in `raw` with all three readers while they agree.

    Returns (steps, finding): steps is a list of (bytes of the step, {reader: outcome}, explaining rows);
    finding is the first unexplained disagreement as such a triple, or None.
    """
    steps = []
    for _ in range(max_requests):
        if not raw:
            break
        ours, keep_alive = read_lbaws(raw)
        outcomes = {"lbaws": ours, **{name: read(raw) for name, read in READERS.items()}}
        dissenters = [name for name in PEERS if outcomes[name] != ours]
        rows = explain(raw, dissenters) if dissenters else []
        if rows is None and _refused_at_the_end(raw, ours, {name: outcomes[name] for name in dissenters}):
            rows = ["refused-at-the-line-end"]
        step = (raw, outcomes, rows)
        steps.append(step)
        if rows is None:
            return steps, step
        if dissenters or ours[0] != "accept" or not keep_alive:
            break
        raw = raw[ours[5]:]
    return steps, None


def _refused_at_the_end(raw, ours, theirs):
    """Whether lbaws and the dissenters differ only in when they refuse: one at the first bad octet, the
    other once the line (lbaws) or the head (h11, which looks for the empty line first) has ended."""
    for name, outcome in theirs.items():
        if ours == ("incomplete",) and outcome == ("reject",):
            if read_lbaws(raw + b"\r\n")[0] != ("reject",):
                return False
        elif ours == ("reject",) and outcome == ("incomplete",):
            if READERS[name](raw + b"\r\n\r\n") != ("reject",):
                return False
        else:
            return False
    return True


def describe(step) -> str:
    raw, outcomes, rows = step
    lines = [f"request: {raw!r}"]
    lines.extend(f"  {name:7s} {outcome!r}" for name, outcome in outcomes.items())
    return "\n".join(lines)


# The generator: requests aimed at framing. Each request is well formed but for one or two of its parts,
# drawn from the forms at the edges of the grammar, so that a disagreement points at the part that caused it.
PARTS = ("leading", "separator", "method", "target", "version", "eol", "host", "field", "value",
         "content-length", "transfer-encoding", "chunk", "chunk-end", "trailer", "framing")


def _odd(odd, part, normal, *forms):
    """The strategy for `part`: its normal form, or one of its odd ones when the request deviates there."""
    return st.sampled_from(forms) if part in odd else st.just(normal)


EDGE = [b"\x00", b"\x01", b"\x0b", b"\x7f", b"\x80", b"\x85", b"\xa0", b"\xff", b"\t", b" ", b"\r"]
OWS_FORMS = [b" ", b"\t", b" \t", b"\xa0", b"\x85", b"\x0b", b"\x0c"]


@st.composite
def content_length(draw, odd, size):
    digits = str(size).encode()
    value = draw(_odd(odd, "content-length", digits, b"0" + digits, digits + b", " + digits,
                      digits + b"," + str(size + 1).encode(), b"+" + digits, b"", digits + b" " + digits,
                      digits + b",", b"9" * 24, b"\xa0" + digits, digits + b"\x85", b"\t" + digits + b" "))
    count = draw(_odd(odd, "content-length", 1, 1, 2))
    return [b"Content-Length: " + value] * count


@st.composite
def transfer_encoding(draw, odd):
    value = draw(_odd(odd, "transfer-encoding", b"chunked", b"Chunked", b"chunked\x85", b"\xa0chunked",
                      b"gzip, chunked", b"chunked, chunked", b", chunked", b"chunked,", b"identity", b"",
                      b"chunked;q=1", b" chunked\t"))
    lines = [b"Transfer-Encoding: " + value]
    if draw(_odd(odd, "transfer-encoding", False, False, True)):
        lines.insert(0, b"Transfer-Encoding: gzip")
    return lines


@st.composite
def chunked_body(draw, odd):
    out = b""
    for data in draw(st.lists(st.binary(min_size=1, max_size=8), max_size=3)):
        size = b"%x" % len(data)
        size = draw(_odd(odd, "chunk", size, size.upper(), b"000" + size, size + b" ", b"0x" + size, size + b";a=b",
                         size + b" ;a", size + b';a="q \\" r"', size + b";", size + b";a=", size + b"; a = b",
                         b"%x" % (len(data) + 1), b"fffffffff", b" " + size))
        size_eol = draw(_odd(odd, "chunk-end", b"\r\n", b"\r\n", b"\n"))
        data_end = draw(_odd(odd, "chunk-end", b"\r\n", b"\r\n", b"\n", b"", b"\r", b"XY"))
        out += size + size_eol + data + data_end
    out += draw(_odd(odd, "chunk", b"0", b"0;a=b", b"0 ", b"00")) + draw(_odd(odd, "chunk-end", b"\r\n", b"\n"))
    trailers = draw(st.lists(st.sampled_from([b"X-T: v", b"X-T:v"]), max_size=1))
    if "trailer" in odd:
        trailers.append(draw(st.sampled_from([b"X-T : v", b"GET /x HTTP/1.1", b"X-T: a\x01b", b" folded", b"X-T: v\n"])))
    for line in trailers:
        out += line + b"\r\n"
    return out + draw(_odd(odd, "chunk-end", b"\r\n", b"\n"))


@st.composite
def requests(draw):
    """One request aimed at framing, sometimes with empty lines before it or a second request after it."""
    odd = draw(st.sets(st.sampled_from(PARTS), max_size=2))
    raw = draw(_odd(odd, "leading", b"", b"\r\n", b"\n", b"\r\n\r\n", b" \r\n"))
    separator = _odd(odd, "separator", b" ", b"  ", b"\t", b"\x0b", b"\x0c", b"\x85", b"\xa0", b"\x00", b"")
    eol = _odd(odd, "eol", b"\r\n", b"\r\n", b"\n", b"\r\r\n", b"\r")
    raw += (draw(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH"]))
            + draw(_odd(odd, "method", b"", b"X", b"(", b"\xe9")) + draw(separator)
            + draw(st.sampled_from([b"/", b"/a/b?x=1", b"/a#frag", b"http://h.example/p?q=1", b"/%41%20"]))
            + draw(_odd(odd, "target", b"", b"\xe9", b'"', b"{", b"|", b"\x7f", b"#")) + draw(separator)
            + draw(_odd(odd, "version", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/1.2", b"HTTP/2.0", b"http/1.1",
                        b"HTTP/1.10", b"HTTP/1.1 ", b"HTTP/0.9")) + draw(eol))
    fields = [b"Host: x"] * draw(_odd(odd, "host", 1, 0, 2))
    value = b"a b"
    if "value" in odd:
        at = draw(st.integers(0, len(value)))
        value = value[:at] + draw(st.sampled_from(EDGE)) + value[at:]
    fields.append(b"X-A:" + draw(_odd(odd, "value", b" ", *OWS_FORMS)) + value)
    if "field" in odd:
        fields.append(draw(st.sampled_from([b"X-T : v", b" folded", b"NoColon", b": v", b"X\x85: v",
                                            b"Content-Type: a", b"Authorization: a"])))
    body = draw(st.binary(max_size=10))
    framing = draw(st.sampled_from(["none", "length", "chunked"] + (["both"] if "framing" in odd else [])))
    if framing in ("length", "both"):
        fields += draw(content_length(odd, len(body)))
    if framing in ("chunked", "both"):
        fields += draw(transfer_encoding(odd))
        body = draw(chunked_body(odd))
    for line in draw(st.permutations(fields)):
        raw += line + draw(eol)
    raw += draw(eol) + (b"" if framing == "none" else body)
    if draw(st.booleans()):
        raw += draw(st.sampled_from([b"", b"\r\n"])) + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
    return raw


def main(argv=None) -> int:
    """Generate requests for --seconds, compare, report; exit 1 on a finding."""
    import argparse

    from hypothesis import HealthCheck, Phase, given, settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to generate requests")
    parser.add_argument("--batch", type=int, default=200, help="examples per Hypothesis run")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        print("fuzz: --seconds must be positive", file=sys.stderr)
        return 2
    counts = {"examples": 0, "steps": 0, "agreed": 0}
    rows_seen: Dict[str, int] = {}
    findings = []

    @settings(max_examples=args.batch, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(requests())
    def run(raw):
        steps, finding = compare(raw)
        if finding is not None:
            findings.append(describe(finding))
            raise AssertionError("unexplained disagreement:\n" + describe(finding))
        counts["examples"] += 1
        for _, _, rows in steps:
            counts["steps"] += 1
            counts["agreed"] += not rows
            for row in rows:
                rows_seen[row] = rows_seen.get(row, 0) + 1

    started = time.monotonic()
    failed = False
    while time.monotonic() - started < args.seconds and not failed:
        try:
            run()
        except AssertionError:
            failed = True
    elapsed = time.monotonic() - started
    print(f"fuzz: {counts['examples']} requests ({counts['steps']} reads) in {elapsed:.1f} s; "
          f"{counts['agreed']} reads agreed with h11 and llhttp, the rest differ as docs/http-framing.md says:")
    for row, count in sorted(rows_seen.items(), key=lambda item: -item[1]):
        print(f"  {row:26s} {count}")
    if failed:
        print("fuzz: a disagreement outside the table (shrunk):\n" + findings[-1])
        return 1
    print("fuzz: no disagreement outside the table")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
