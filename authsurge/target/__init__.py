"""The embedded default target: Django auth + django-oauth-toolkit (OIDC), served by gunicorn.

    with running_target(TargetOptions(port=0)) as target:
        ...  # target.base_url, target.issuer, target.pids()

Endpoints and knobs: authsurge/target/README.md.
"""

from authsurge.target.options import (
    CLIENT_SECRET_ENV,
    DEFAULT_HASHER_ITERATIONS,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    PASSWORD_ENV,
    TargetOptions,
)
from authsurge.target.process import (
    TargetProcess,
    TargetStatus,
    running_target,
    start_target,
    stop_target,
    target_status,
)

__all__ = [
    "CLIENT_SECRET_ENV",
    "DEFAULT_HASHER_ITERATIONS",
    "DEMO_CLIENT_SECRET",
    "DEMO_PASSWORD",
    "PASSWORD_ENV",
    "TargetOptions",
    "TargetProcess",
    "TargetStatus",
    "running_target",
    "start_target",
    "stop_target",
    "target_status",
]
