"""The grammar of an HTTP/1.1 request's framing and routing (RFC 9112, RFC 9110), over bytes.

Every rule is an explicit set of ASCII octets. Python's text methods are deliberately not used on what
frames a message: str.strip(), str.split() and int() accept Unicode whitespace and digits such as
\\xa0 or \\x85 in latin-1 text, where the RFC allows only SP and HTAB as whitespace and 0-9 as DIGIT.
Each function returns None (or False) for bytes outside its rule; the caller decides the status.
"""

import re
from typing import List, Optional, Tuple

# RFC 9110 5.6.2: tchar, the characters of a token (methods, field names, coding names).
_TCHAR = rb"!#$%&'*+\-.^_`|~0-9A-Za-z"
# RFC 5234 B.1 and RFC 9110 5.5: VCHAR, and obs-text (%x80-FF) which a field value may hold.
_VCHAR = rb"\x21-\x7e"
_OBS_TEXT = rb"\x80-\xff"
# RFC 9110 5.6.3: OWS = *( SP / HTAB ).
OWS = b" \t"

_TOKEN = re.compile(rb"[%s]+" % _TCHAR)
_DIGITS = re.compile(rb"[0-9]+")
# RFC 9110 5.5: a field value is field-vchar, SP and HTAB; anything else (CR, LF, NUL, other controls, DEL)
# is rejected rather than passed on to the application.
_NOT_FIELD_CONTENT = re.compile(rb"[^\t %s%s]" % (_VCHAR, _OBS_TEXT))
# RFC 9112 3.2 and RFC 3986: every form of request-target is made of visible ASCII; obs-text is no part of a URI.
_TARGET = re.compile(rb"[%s]+" % _VCHAR)
# RFC 9112 2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, case-sensitive.
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
# RFC 9112 7.1: chunk-size [ chunk-ext ]; 7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
# chunk-ext-val = token / quoted-string (RFC 9110 5.6.4). Each repetition starts with a ";" that nothing
# else may match, so the pattern cannot backtrack into itself.
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_CHUNK_LINE = re.compile(
    rb"([0-9A-Fa-f]+)(?:[ \t]*;[ \t]*[%s]+(?:[ \t]*=[ \t]*(?:[%s]+|%s))?)*" % (_TCHAR, _TCHAR, _QUOTED))
# The same sets as text, for what the server itself writes (response field names and values, reasons).
_TOKEN_TEXT = re.compile(_TOKEN.pattern.decode("ascii"))
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

_HEX_VALUES = {byte: int(chr(byte), 16) for byte in b"0123456789abcdefABCDEF"}


def is_token(data) -> bool:
    """A method, field name or coding: 1*tchar (bytes, or text the server writes)."""
    pattern = _TOKEN if isinstance(data, (bytes, bytearray)) else _TOKEN_TEXT
    return pattern.fullmatch(data) is not None


def has_control(text: str) -> bool:
    """Whether text the server writes (a field value, a reason phrase) holds a control other than HTAB."""
    return _CONTROL_TEXT.search(text) is not None


def strip_ows(data: bytes) -> bytes:
    """`data` without the OWS (SP and HTAB only) at either end."""
    return data.strip(OWS)


def decimal(data: bytes, limit: int) -> Optional[int]:
    """1*DIGIT as a number, or None; any value above `limit` comes back as limit + 1.

    Leading zeros are allowed, as the grammar allows them; the digits are summed by hand, since
    int() also accepts signs, underscores and whitespace.
    """
    if _DIGITS.fullmatch(data) is None:
        return None
    significant = data.lstrip(b"0")
    if len(significant) > len(str(limit)):
        return limit + 1
    number = 0
    for byte in significant:
        number = number * 10 + byte - 48
    return min(number, limit + 1)


def _hex_value(digits: bytes, limit: int) -> int:
    significant = digits.lstrip(b"0")
    if len(significant) > len(f"{limit:x}"):
        return limit + 1
    number = 0
    for byte in significant:
        number = number * 16 + _HEX_VALUES[byte]
    return min(number, limit + 1)


def list_elements(value: bytes) -> List[bytes]:
    """The elements of a #rule list (RFC 9110 5.6.1), OWS trimmed; empty elements are ignored, as 5.6.1 says."""
    elements = []
    for element in value.split(b","):  # bytes.split with a separator: exactly that octet, nothing else
        element = strip_ows(element)
        if element:
            elements.append(element)
    return elements


def request_line(line: bytes) -> Optional[Tuple[bytes, bytes, bytes]]:
    """method SP request-target SP HTTP-version (RFC 9112 3), each separated by exactly one SP, or None."""
    parts = line.split(b" ")
    if len(parts) != 3:
        return None
    method, target, version = parts
    if _TOKEN.fullmatch(method) is None or _TARGET.fullmatch(target) is None:
        return None
    return method, target, version


def http_version(version: bytes) -> Optional[Tuple[int, int]]:
    """(major, minor) of an HTTP-version (RFC 9112 2.3), or None."""
    match = _VERSION.fullmatch(version)
    if match is None:
        return None
    return match.group(1)[0] - 48, match.group(2)[0] - 48


def field_line(line: bytes) -> Optional[Tuple[int, int, int]]:
    """field-name ":" OWS field-value OWS (RFC 9112 5) as (end of the name, start and end of the value), or None.

    Positions, not copies: the reader slices the line's text with them, one character per octet. No
    whitespace may stand between the name and the colon (RFC 9112 5.1: MUST be rejected), and a line that
    starts with whitespace is obs-fold (RFC 9112 5.2), which the name's grammar refuses as well.
    """
    colon = line.find(b":")
    if colon <= 0 or _TOKEN.fullmatch(line, 0, colon) is None:
        return None
    value = line[colon + 1:].lstrip(OWS)
    start = len(line) - len(value)
    end = start + len(value.rstrip(OWS))
    if _NOT_FIELD_CONTENT.search(line, start, end) is not None:
        return None
    return colon, start, end


def chunk_size_line(line: bytes, limit: int) -> Optional[int]:
    """chunk-size [ chunk-ext ] (RFC 9112 7.1) as the size, capped at limit + 1, or None.

    Whitespace may stand only as the BWS before an extension's ";", never after the size alone.
    """
    match = _CHUNK_LINE.fullmatch(line)
    if match is None:
        return None
    return _hex_value(match.group(1), limit)
