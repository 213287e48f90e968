"""Middleware for the load knobs: `--delay-ms`, the 503 of `--login-capacity` and the 429 of
`--per-ip-limit`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from authsurge.target.capacity import LoginCapacityExceeded

HEALTH_PATH = "/healthz"


class DelayMiddleware:
    """Sleeps `--delay-ms` before every request except /healthz (which must stay instant,
    it is how the harness and start_target see that the process is up)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.delay_s = float(settings.AUTHSURGE_DELAY_MS) / 1000.0

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.delay_s > 0 and request.path != HEALTH_PATH:
            time.sleep(self.delay_s)
        return self.get_response(request)


class LoginCapacityMiddleware:
    """Turns a full login queue into 503 with Retry-After, as an overloaded IdP would."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, LoginCapacityExceeded):
            return None
        response = HttpResponse(
            "login capacity reached, try again later\n", status=503, content_type="text/plain"
        )
        response["Retry-After"] = str(max(1, math.ceil(exception.wait_s)))
        return response


class PerIpLimitMiddleware:
    """At most `--per-ip-limit` requests a second from one client address (in each worker
    process), the rest 429 with Retry-After: 1: the per-IP limiter many identity providers
    put in front, which a test from one address measures instead of the capacity.
    /healthz is exempt."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.limit = settings.AUTHSURGE_PER_IP_LIMIT
        # behind the split topology's nginx every peer is the proxy: it names the client
        self.address_key = "HTTP_X_REAL_IP" if settings.AUTHSURGE_BEHIND_PROXY else "REMOTE_ADDR"
        self.lock = threading.Lock()
        self.second = 0
        self.seen: dict[str, int] = {}  # address -> requests in this second

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.limit is None or request.path == HEALTH_PATH:
            return self.get_response(request)
        address = request.META.get(self.address_key, "")
        second = int(time.time())
        with self.lock:
            if second != self.second:  # only this second's counts matter: no growth
                self.seen.clear()
                self.second = second
            n = self.seen.get(address, 0) + 1
            self.seen[address] = n
        if n > self.limit:
            response = HttpResponse(
                "too many requests from your address\n", status=429, content_type="text/plain"
            )
            response["Retry-After"] = "1"
            return response
        return self.get_response(request)
