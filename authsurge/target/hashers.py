"""Django's PBKDF2 hasher with the iteration count the target was started with.

The algorithm name stays `pbkdf2_sha256`, so hashes are ordinary Django hashes; only the
work factor changes, and it is what sets the cost of one password (or client secret) check.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class SurgePBKDF2PasswordHasher(PBKDF2PasswordHasher):
    def __init__(self) -> None:
        self.iterations = int(settings.AUTHSURGE_HASHER_ITERATIONS)
