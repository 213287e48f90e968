"""`--device-slow-down`: the polling interval of the device authorization grant enforced per
device code, with RFC 8628 3.5's `slow_down` answer. Off by default.

Why it exists: a device polls the token endpoint every `interval` seconds until the
person approves, and a server may tell a device that polls too often to slow down (400
`slow_down`; the device must then add 5 s to its interval for this and every later
poll). Neither DOT (a TODO in its TokenView: "slow_down" error, essentially
rate-limiting) nor panva's oidc-provider ever sends it, so a harness that honours it
would never be tested against it. With this flag the target sends it predictably:

- for POST /o/token/ with grant_type urn:ietf:params:oauth:grant-type:device_code,
  per device_code: a poll less than the code's current interval after its previous
  poll (any previous poll, slowed down or not) answers 400 `{"error": "slow_down"}`
  (application/json, Cache-Control: no-store) and raises that code's interval by 5 s;
- any other poll passes on to DOT (authorization_pending, the token, ...); every poll
  is recorded as the code's previous one.

The first interval is the device authorization answer's (`--device-interval`). The
state (last poll, interval) lives in the device cache, a table in the one database, so
all gunicorn workers agree; one read and one write per poll in one IMMEDIATE
transaction (two concurrent polls of one code queue, they do not both pass). Keys are
hashes of the device code, which is never stored, logged or echoed here. A poll with an
unknown code is judged the same way (DOT answers it 404 device_not_found when it
passes); entries expire with the codes (`--device-code-lifetime`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from authsurge.target.device import DEVICE_GRANT_TYPE, cache_key, error_response

TOKEN_PATH = "/o/token/"
SLOW_DOWN_STEP_S = 5  # RFC 8628 3.5: "increased by 5 seconds"


class SlowDownMiddleware:
    """Answers a device-code poll that comes too soon with 400 slow_down (module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.interval_s = int(settings.AUTHSURGE_DEVICE_INTERVAL_S)
        # a code's state is useless once the code expired; the slack covers a slow poll
        self.keep_s = int(settings.AUTHSURGE_DEVICE_CODE_LIFETIME_S) + 60

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path != TOKEN_PATH:
            return self.get_response(request)
        # the token endpoint takes form posts only; reading POST here leaves the body
        # readable for DOT (Django keeps a form body it parsed)
        if request.POST.get("grant_type") != DEVICE_GRANT_TYPE:
            return self.get_response(request)
        device_code = request.POST.get("device_code")
        if device_code and self.too_soon(cache_key("poll", device_code)):
            return error_response("slow_down")
        return self.get_response(request)

    def too_soon(self, key: str) -> bool:
        """Record this poll; True when it came sooner than the code's interval after the
        previous one (whose interval then grows by SLOW_DOWN_STEP_S)."""
        now = time.time()  # wall clock: the workers are separate processes
        cache = caches[settings.AUTHSURGE_DEVICE_CACHE]  # Django's handle of this thread
        with transaction.atomic():  # IMMEDIATE: read and write under one lock
            state = cache.get(key)
            last, interval = state if state else (None, self.interval_s)
            soon = last is not None and now - last < interval
            if soon:
                interval += SLOW_DOWN_STEP_S
            cache.set(key, (now, interval), timeout=self.keep_s)
        return soon
