"""Key material in the data dir: Django's SECRET_KEY and the RS256 signing keys.

All are made once, on the first start, and kept (mode 0600) so that sessions, ID tokens,
allauth's JWTs and JWKS stay valid when the target restarts on the same data dir.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authsurge.target.layout import RSA_KEY_FILE, SECRET_KEY_FILE


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 0600), atomically."""
    # create with 0600 from the start: no window in which the key is world-readable
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def ensure_secret_key(data_dir: Path) -> bool:
    """Create the Django SECRET_KEY file if missing; True if it was created."""
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        return False
    write_private(path, secrets.token_urlsafe(50).encode())
    return True


def ensure_rsa_key(data_dir: Path, name: str = RSA_KEY_FILE) -> bool:
    """Create a 2048-bit RSA key if missing; True if created. The default one signs ID
    tokens (RS256); --app-login makes a second one for allauth's JWTs (APP_JWT_KEY_FILE),
    so neither token kind verifies against the other's JWKS."""
    path = data_dir / name
    if path.exists():
        return False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(path, pem)
    return True
