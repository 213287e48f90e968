"""URL helpers for the hot path: split, resolve and form-encode without urllib's slow paths.

urllib is correct and general; per request it costs more than the socket work (its
quote() walks a long value character by character through a dict). These helpers take a
fast path for what journeys actually send (absolute http(s) URLs, unreserved token
characters) and fall back to urllib for everything else, so results are identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus, urljoin, urlsplit

_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z")  # what quote_plus leaves as it is
# Characters a Location header may carry as they are; anything else is percent-encoded.
_LOCATION_OK = re.compile(r"[A-Za-z0-9%/:=&?~#+!$,;'@()*\[\]._-]*\Z")
_LOCATION_SAFE = "%/:=&?~#+!$,;'@()*[]"


# quote_plus for ASCII as one str.translate: every ASCII character but the unreserved
# ones becomes %XX, and the space "+".
_ASCII_QUOTE = {
    c: ("+" if c == 32 else f"%{c:02X}")
    for c in range(128)
    if not (chr(c).isalnum() or chr(c) in "_.-~")
}


def quote_value(value: str, charset: str = "utf-8") -> str:
    """quote_plus, fast for what journeys send (tokens, URLs, ASCII form values)."""
    if _UNRESERVED.match(value):
        return value
    if value.isascii():
        return value.translate(_ASCII_QUOTE)
    return quote_plus(value, encoding=charset, errors="xmlcharrefreplace")


def form_encode(pairs: Iterable[tuple[str, str]] | dict[str, str], charset: str = "utf-8") -> str:
    """application/x-www-form-urlencoded, like urllib.parse.urlencode."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return "&".join(f"{quote_value(k, charset)}={quote_value(v, charset)}" for k, v in items)


def add_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + form_encode(params)


@lru_cache(maxsize=256)
def _netloc(scheme: str, netloc: str) -> tuple[str, int]:
    """(host, port) of a netloc; port 0 when it is not a valid port."""
    parts = urlsplit(f"{scheme}://{netloc}/")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    return (parts.hostname or "").lower(), port


def split(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, path, query) of an absolute URL; the fragment is dropped."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", "", 0, "/", ""
    rest = rest.split("#", 1)[0]
    netloc, slash, tail = rest.partition("/")
    path_query = slash + tail
    if not slash:  # "http://host?x=1"
        netloc, q, query = netloc.partition("?")
        path_query = "/" + (q + query if q else "")
    path, _, query = path_query.partition("?")
    host, port = _netloc(scheme.lower(), netloc)
    return scheme.lower(), host, port, path or "/", query


def resolve_location(base: str, location: str) -> str:
    """An absolute URL for a Location header (relative, absolute, or with raw spaces)."""
    location = location.strip()
    if not _LOCATION_OK.match(location):
        # A server may put raw spaces or non-ASCII into Location; browsers percent-encode them.
        location = quote(location, safe=_LOCATION_SAFE)
    if location.startswith(("http://", "https://")):
        return location
    return urljoin(base, location)


def without_query(url: str) -> str:
    return url.split("#", 1)[0].split("?", 1)[0]


def resolve_url(base_url: str, url: str) -> str:
    """A scenario URL: absolute as given, else relative to the target's base URL (which may
    carry a path prefix, so this is concatenation, not urljoin)."""
    if "://" in url:
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")
