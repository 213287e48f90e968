"""Key material in the data dir: Django's SECRET_KEY and the OIDC RS256 signing key.

Both are made once, on the first start, and kept (mode 0600) so that sessions, ID tokens
and JWKS stay valid when the target restarts on the same data dir.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authsurge.target.layout import RSA_KEY_FILE, SECRET_KEY_FILE


def _write_private(path: Path, data: bytes) -> None:
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
    _write_private(path, secrets.token_urlsafe(50).encode())
    return True


def ensure_rsa_key(data_dir: Path) -> bool:
    """Create the 2048-bit RSA key that signs ID tokens (RS256) if missing; True if created."""
    path = data_dir / RSA_KEY_FILE
    if path.exists():
        return False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(path, pem)
    return True
