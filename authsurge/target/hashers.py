"""Django's PBKDF2 hasher with the iteration count the target was started with.

The algorithm name stays `pbkdf2_sha256`, so hashes are ordinary Django hashes; only the
work factor changes, and it is what sets the cost of one password (or client secret) check.
Every hash's thread CPU time is counted (authsurge.target.hash_cpu).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from authsurge.target import hash_cpu


class SurgePBKDF2PasswordHasher(PBKDF2PasswordHasher):
    def __init__(self) -> None:
        self.iterations = int(settings.AUTHSURGE_HASHER_ITERATIONS)

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        return hash_cpu.timed(functools.partial(super().encode, password, salt, iterations))
