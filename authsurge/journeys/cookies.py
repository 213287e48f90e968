"""A cookie jar that does what a browser does for a handful of cookies, fast.

http.cookiejar is built for every corner of every cookie spec and costs tens of
microseconds per cookie; a journey holds three or four.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime

log = logging.getLogger("authsurge.journeys.client")

_secure_warned = False


class Cookie:
    __slots__ = ("name", "value", "domain", "host_only", "path", "secure", "expires")

    def __init__(
        self,
        name: str,
        value: str,
        domain: str,
        host_only: bool,
        path: str,
        secure: bool,
        expires: float | None,
    ) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.host_only = host_only
        self.path = path
        self.secure = secure
        self.expires = expires


class CookieJar:
    """RFC 6265 as a browser applies it to a handful of cookies: domain, path, Secure, expiry.

    A Secure cookie set over plain http is dropped, as browsers do for non-local origins
    and as `requests` effectively does; we warn once, loudly, because the symptom (every
    login fails) points nowhere near the cause.
    """

    __slots__ = ("_cookies",)

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def get(self, name: str) -> str | None:
        """The value of a cookie by name, whatever its domain and path (CSRF cookies)."""
        now = time.time()
        for c in self._cookies.values():
            if c.name == name and (c.expires is None or c.expires > now):
                return c.value
        return None

    def names(self) -> set[str]:
        return {c.name for c in self._cookies.values()}

    def set_cookie(self, header: str, scheme: str, host: str, path: str) -> None:
        parts = header.split(";")
        name, sep, value = parts[0].partition("=")
        if not sep:
            return  # RFC 6265 5.2: a cookie without "=" is ignored
        name = name.strip()
        value = value.strip()
        if not name:
            return
        domain = ""
        cookie_path = ""
        secure = False
        max_age: str | None = None
        expires: str | None = None
        for attr in parts[1:]:
            key, _, val = attr.partition("=")
            key = key.strip().lower()
            if key == "path":
                cookie_path = val.strip()
            elif key == "domain":
                domain = val.strip().lstrip(".").lower()
            elif key == "secure":
                secure = True
            elif key == "max-age":
                max_age = val.strip()
            elif key == "expires":
                expires = val.strip()
        if domain and domain != host:
            if not host.endswith("." + domain) or _is_ip(host):
                return  # a cookie for another site
        host_only = not domain
        if not cookie_path.startswith("/"):
            cookie_path = path[: path.rfind("/")] or "/"
        if secure and scheme != "https":
            _warn_secure(name, host)
            return
        when: float | None = None
        if max_age is not None:
            try:
                when = time.time() + int(max_age)
                if int(max_age) <= 0:
                    when = 0.0
            except ValueError:
                when = None
        elif expires is not None:
            try:
                when = parsedate_to_datetime(expires).timestamp()
            except (TypeError, ValueError, IndexError):
                when = None
        key3 = (domain or host, cookie_path, name)
        if when is not None and when <= time.time():
            self._cookies.pop(key3, None)  # deletion: an expiry in the past
            return
        self._cookies[key3] = Cookie(
            name, value, domain or host, host_only, cookie_path, secure, when
        )

    def header(self, scheme: str, host: str, path: str) -> str | None:
        """The Cookie header for a request, longest paths first (RFC 6265 5.4)."""
        if not self._cookies:
            return None
        now = time.time()
        found = []
        for c in self._cookies.values():
            if c.host_only:
                if c.domain != host:
                    continue
            elif c.domain != host and not host.endswith("." + c.domain):
                continue
            if c.path != "/" and not (
                path == c.path
                or (path.startswith(c.path) and (c.path.endswith("/") or path[len(c.path)] == "/"))
            ):
                continue
            if c.secure and scheme != "https":
                continue
            if c.expires is not None and c.expires <= now:
                continue
            found.append(c)
        if not found:
            return None
        if len(found) > 1:
            found.sort(key=lambda c: -len(c.path))
        return "; ".join(f"{c.name}={c.value}" for c in found)


def _is_ip(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host


def _warn_secure(name: str, host: str) -> None:
    global _secure_warned
    if not _secure_warned:
        _secure_warned = True
        log.warning(
            "the target at %s sets cookie %r with the Secure flag over plain http: cookie jars "
            "(ours, browsers', requests') drop it, so logins and CSRF checks will fail. Serve the "
            "target over https, or turn the Secure flag off for this test (Django: "
            "SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE = False).",
            host,
            name,
        )
