"""`authsurge target serve|stop|status|reset-signups`: thin argument parsing over authsurge.target.

The main CLI calls `add_target_parser(subparsers)`; each action sets `func(args) -> int`.
`python -m authsurge.target.cli ...` runs the same actions on their own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from authsurge import crashlog
from authsurge.errors import ExitStatus
from authsurge.target.options import (
    CLIENT_SECRET_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_HASHER_ITERATIONS,
    DEFAULT_MFA_USERS,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    PASSWORD_ENV,
    SIGNUP_VERIFICATIONS,
    TOPOLOGIES,
    TargetOptions,
)

SERVE_DESCRIPTION = f"""\
Serve the embedded target: Django form login (CSRF) and django-oauth-toolkit as an
OpenID Connect provider, on gunicorn (gthread), SQLite in WAL mode, loopback only.
The first start creates the data dir: database, RSA signing key, OIDC clients
(surge-public, surge-consent, surge-confidential, surge-service, surge-password,
surge-device) and users user0001..userNNNN sharing the password from
${PASSWORD_ENV}; the confidential clients use ${CLIENT_SECRET_ENV}. When a variable
is not set, serve uses the documented demo value (authsurge/target/README.md) and
says so. Later starts reuse the data dir and add users when --users grew.
Without --foreground the target keeps running in the background; stop it with
`authsurge target stop`."""

RESET_DESCRIPTION = """\
Remove the accounts signed up on the embedded target (--signup): every user whose
e-mail address is on the reserved top-level domain .test or .example (what sign-up
journeys use, e.g. surge-<run>-<n>@signup.example.test), with its e-mail addresses
and tokens. The prepared users user0001..userNNNN, staff and superusers are kept.
Works whether the target runs or not."""

EPILOG = """exit codes:
  0    ok; for status: a target runs from the data dir and answers /healthz
  2    bad input, nothing done; for status: no target runs from the data dir,
       or it does not answer /healthz
  3    the harness failed: an internal error (one line on stderr, the full
       traceback in a log file in the temp dir), or a foreground target exited
  130  interrupted
never 1: that means a failed gate (SLO, regression), and these commands have none"""


def add_target_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `target serve|stop|status` on the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "target",
        help="serve, stop or inspect the embedded target (Django + django-oauth-toolkit)",
        description="The embedded default target: a real Django + django-oauth-toolkit auth stack.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_actions(parser.add_subparsers(dest="target_command", metavar="ACTION", required=True))
    return parser


def add_actions(sub: argparse._SubParsersAction) -> None:
    d = TargetOptions()
    p = sub.add_parser(
        "serve",
        help="start the target (in the background unless --foreground)",
        description=SERVE_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("where")
    g.add_argument(
        "--host",
        default=d.host,
        help=f"address to listen on: loopback, or 169.254.77.0/24, the links a multi-host "
        f"test makes itself in network namespaces (default {d.host})",
    )
    g.add_argument(
        "--port", type=int, default=d.port, help=f"TCP port, 0 picks a free one (default {d.port})"
    )
    g.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help=f"database, keys, PID file and log (default {DEFAULT_DATA_DIR})",
    )
    g.add_argument(
        "--certfile",
        type=Path,
        metavar="PEM",
        help="serve HTTPS with this certificate (chain); needs --keyfile (default: plain HTTP)",
    )
    g.add_argument("--keyfile", type=Path, metavar="PEM", help="private key of --certfile")
    g = p.add_argument_group("how big")
    g.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help=f"gunicorn worker processes (default {d.workers})",
    )
    g.add_argument(
        "--threads", type=int, default=d.threads, help=f"threads per worker (default {d.threads})"
    )
    g.add_argument(
        "--topology",
        choices=TOPOLOGIES,
        default=d.topology,
        help="shared: one gunicorn pool serves everything, so the API queues behind the "
        "password hashes; split: the API (/api/) gets its own pool behind an nginx reverse "
        f"proxy on the same URL (needs Debian's nginx) (default {d.topology})",
    )
    g.add_argument(
        "--api-workers",
        type=int,
        default=d.api_workers,
        help=f"split topology: worker processes of the API pool (default {d.api_workers})",
    )
    g.add_argument(
        "--api-threads",
        type=int,
        default=d.api_threads,
        help=f"split topology: threads per API worker (default {d.api_threads})",
    )
    g.add_argument(
        "--users",
        type=int,
        default=d.users,
        help=f"test users user0001..userNNNN (default {d.users})",
    )
    g = p.add_argument_group("how fast")
    g.add_argument(
        "--hasher-iterations",
        type=int,
        default=DEFAULT_HASHER_ITERATIONS,
        metavar="N",
        help=f"PBKDF2 iterations: the CPU cost of one password check (default {DEFAULT_HASHER_ITERATIONS})",
    )
    g.add_argument(
        "--login-capacity",
        type=float,
        metavar="N",
        help="allow at most N password checks per second across all workers (default: no cap)",
    )
    g.add_argument(
        "--login-queue",
        type=int,
        metavar="Q",
        help="password checks that may wait for a slot; more get 503 at once (default: N)",
    )
    g.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        metavar="D",
        help="sleep D ms in every request except /healthz (a slow target; default 0)",
    )
    g.add_argument(
        "--access-log",
        type=Path,
        metavar="FILE",
        help="write gunicorn's access log (client address first) to FILE (default: none)",
    )
    g.add_argument(
        "--per-ip-limit",
        type=int,
        metavar="R",
        help="at most R requests a second from one client address (per worker process); "
        "the rest get 429 with Retry-After: 1 (default: no limit)",
    )
    g.add_argument(
        "--token-lifetime",
        type=int,
        metavar="S",
        help="access tokens expire after S seconds (default: DOT's 36000)",
    )
    g.add_argument(
        "--session-age",
        type=int,
        metavar="S",
        help="sign-in sessions expire after S seconds; the API then answers 401 "
        "(default: Django's two weeks)",
    )
    g = p.add_argument_group(
        "sign-up and e-mail (django-allauth; off by default, authsurge/target/README.md)"
    )
    g.add_argument(
        "--signup",
        action="store_true",
        help="add sign-up with mandatory e-mail verification and sign-in by e-mailed code "
        "under /accounts/ (needs --smtp-port)",
    )
    g.add_argument(
        "--smtp-port",
        type=int,
        metavar="N",
        help="send the mail (verification links, sign-in codes) to the SMTP server on "
        "127.0.0.1:N, no TLS (e.g. authsurge's mail sink)",
    )
    g.add_argument(
        "--signup-verification",
        choices=SIGNUP_VERIFICATIONS,
        default=d.signup_verification,
        help="link: the mail's link verifies the address; code: the mail's code is typed "
        f"into /accounts/confirm-email/ (default {d.signup_verification})",
    )
    g.add_argument(
        "--signup-rate-limits",
        action="store_true",
        help="keep allauth's rate limits (e.g. 20 sign-ups a minute per client address), "
        "also with --app-login alone; default: off, since a load test comes from one address",
    )
    g = p.add_argument_group(
        "sign-in for apps (django-allauth headless; off by default, authsurge/target/README.md)"
    )
    g.add_argument(
        "--app-login",
        action="store_true",
        help="add JSON sign-in for apps under /_allauth/app/v1/ (session token and JWT "
        "access token) with a TOTP second factor for the accounts mfa0001..",
    )
    g.add_argument(
        "--mfa-users",
        type=int,
        metavar="N",
        help="--app-login: TOTP accounts mfa0001..mfaNNNN (the users' password); their "
        f"secrets go to mfa-secrets.csv in the data dir (default {DEFAULT_MFA_USERS})",
    )
    g = p.add_argument_group(
        "device authorization grant (RFC 8628, client surge-device; authsurge/target/README.md)"
    )
    g.add_argument(
        "--device-code-lifetime",
        type=int,
        default=d.device_code_lifetime_s,
        metavar="S",
        help="device codes and user codes expire after S seconds (the answer's expires_in; "
        f"default {d.device_code_lifetime_s})",
    )
    g.add_argument(
        "--device-interval",
        type=int,
        default=d.device_interval_s,
        metavar="S",
        help="the polling interval the device authorization answer gives "
        f"(default {d.device_interval_s})",
    )
    g.add_argument(
        "--device-slow-down",
        action="store_true",
        help="enforce the interval per device code: a poll sooner than the interval after "
        "the previous one gets 400 slow_down and raises that code's interval by 5 s "
        "(default: off, as in DOT)",
    )
    p.add_argument(
        "--foreground", action="store_true", help="stay attached; Ctrl-C stops the target"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "stop",
        help="stop the target running from a data dir (by its PID file)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between SIGTERM and SIGKILL (default 10)",
    )
    p.set_defaults(func=cmd_stop)

    p = sub.add_parser(
        "status",
        help="is a target running from a data dir, and where (exit 0 if it answers, else 2)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}"
    )
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "reset-signups",
        help="remove the accounts signed up on the target (e-mail on .test/.example), "
        "keep the prepared users",
        description=RESET_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help=f"default {DEFAULT_DATA_DIR}"
    )
    p.set_defaults(func=cmd_reset_signups)


def options_from_args(args: argparse.Namespace) -> TargetOptions:
    return TargetOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        topology=args.topology,
        api_workers=args.api_workers,
        api_threads=args.api_threads,
        users=args.users,
        hasher_iterations=args.hasher_iterations,
        login_capacity=args.login_capacity,
        login_queue=args.login_queue,
        delay_ms=args.delay_ms,
        data_dir=args.data_dir,
        certfile=args.certfile,
        keyfile=args.keyfile,
        access_log=args.access_log,
        per_ip_limit=args.per_ip_limit,
        token_lifetime_s=args.token_lifetime,
        session_age_s=args.session_age,
        signup=args.signup,
        signup_verification=args.signup_verification,
        signup_rate_limits=args.signup_rate_limits,
        smtp_port=args.smtp_port,
        app_login=args.app_login,
        mfa_users=args.mfa_users,
        device_code_lifetime_s=args.device_code_lifetime,
        device_interval_s=args.device_interval,
        device_slow_down=args.device_slow_down,
    ).checked()


def use_demo_secrets_if_unset() -> None:
    """serve (only serve) falls back to the documented demo values; it names the variable, never the value."""
    for env, value in ((PASSWORD_ENV, DEMO_PASSWORD), (CLIENT_SECRET_ENV, DEMO_CLIENT_SECRET)):
        if not os.environ.get(env):
            os.environ[env] = value
            print(
                f"{env} is not set: using the documented demo value (authsurge/target/README.md); "
                "export your own for anything but a demo",
                file=sys.stderr,
            )


def cmd_serve(args: argparse.Namespace) -> int:
    from authsurge.target.process import start_target

    opts = options_from_args(args)
    use_demo_secrets_if_unset()
    if not args.foreground:
        target = start_target(opts, log=print, detach=True)
        print(f"stop it with: authsurge target stop --data-dir {args.data_dir}")
        return ExitStatus.SUCCESS
    target = start_target(opts, log=print)
    print("serving in the foreground; Ctrl-C stops it", flush=True)
    try:
        while target.is_running():
            time.sleep(0.5)
        print(
            f"authsurge: error: the target exited by itself; see {target.data_dir / 'gunicorn.log'}",
            file=sys.stderr,
        )
        return ExitStatus.RUN_FAILED
    except KeyboardInterrupt:
        return ExitStatus.SUCCESS  # Ctrl-C is how a foreground target is meant to end
    finally:
        target.stop()
        print("target stopped", flush=True)


def cmd_stop(args: argparse.Namespace) -> int:
    from authsurge.target.process import stop_target

    if stop_target(args.data_dir, timeout_s=args.timeout):
        print(f"target from {args.data_dir} stopped")
    else:
        print(f"no target running from {args.data_dir}")
    return ExitStatus.SUCCESS


def cmd_status(args: argparse.Namespace) -> int:
    from authsurge.target.process import target_status

    status = target_status(args.data_dir)
    if args.json:
        print(json.dumps(asdict(status), default=str, indent=2))
    elif status.running:
        health = "answers /healthz" if status.healthy else "does NOT answer /healthz"
        print(
            f"running at {status.base_url} (PIDs {status.pids}), {health}; "
            f"{status.users} users; data dir {status.data_dir}"
        )
    else:
        print(
            f"not running (data dir {status.data_dir}"
            + (f", {status.users} users" if status.users is not None else ", not created yet")
            + ")"
        )
    # Like `systemctl status`, scripts can ask "is it up?" through the exit status. Not 1:
    # CI reads 1 as a failed gate. A target that does not answer is what `run` reports as
    # an unreachable target, bad input (2); not 3, which says the harness itself failed.
    return ExitStatus.SUCCESS if status.running and status.healthy else ExitStatus.BAD_INPUT


def cmd_reset_signups(args: argparse.Namespace) -> int:
    from authsurge.target.signups import reset_signups

    result = reset_signups(args.data_dir)
    print(
        f"removed {result.users_removed} signed-up accounts "
        f"({result.addresses_removed} e-mail addresses) from {args.data_dir}; "
        f"{result.users_kept} users left"
    )
    return ExitStatus.SUCCESS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m authsurge.target.cli",
        description="serve, stop or inspect the embedded target",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_actions(parser.add_subparsers(dest="target_command", metavar="ACTION", required=True))
    args = parser.parse_args(argv)
    # the target commands have no run directory: a crash logs in the temp dir
    return crashlog.run_command(lambda: args.func(args), f"target {args.target_command}")


if __name__ == "__main__":
    sys.exit(main())
