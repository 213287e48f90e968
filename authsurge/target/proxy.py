"""The split topology's ingress: nginx on the public port, /api/ to the API pool, the rest
to the auth pool, as an ingress routes one base URL to two deployments in production.

nginx is Debian's (`apt-get install nginx`; `make demo`, `make test` and `make setup`
install it). It runs as a child of the harness with its own prefix in the data dir,
never the system service, and is stopped by PID (authsurge.target.tree); if the harness
dies without stopping it, the API pool's owner watch stops it (gunicorn_conf). It keeps upstream
connections alive, so the proxy adds about a connection's bookkeeping per request, not
a TCP handshake; its own worker is one process and is counted with the target's PIDs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from authsurge.errors import BadInput
from authsurge.target.layout import PROXY_DIR, companion_pid_file
from authsurge.target.options import url_host

NGINX_CONF = """\
# written by authsurge.target.proxy for one start of the split topology
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_timeout 60s;
    keepalive_requests 100000;
    upstream auth {{ server {upstream_host}:{auth_port}; keepalive 64; }}
    upstream api {{ server {upstream_host}:{api_port}; keepalive 32; }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    # the per-IP limit (--per-ip-limit) reads the client from here: every peer is nginx
    proxy_set_header X-Real-IP $remote_addr;
    # a gunicorn pool that does not answer within this is what a real ingress reports: 504
    proxy_read_timeout 60s;
    server {{
        listen {listen}:{port};
        location /api/ {{ proxy_pass http://api; }}
        location / {{ proxy_pass http://auth; }}
    }}
}}
"""


def nginx_binary() -> str:
    """Debian's nginx, or BadInput saying how to install it."""
    for path in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if path and os.access(path, os.X_OK):
            return path
    raise BadInput(
        "the split topology needs nginx: apt-get install nginx "
        "(`make demo` and `make test` install it), or use --topology shared"
    )


def write_conf(prefix: Path, host: str, port: int, auth_port: int, api_port: int) -> Path:
    """nginx.conf for one start (the ports change every time)."""
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            prefix=prefix,
            listen=url_host(host),
            port=port,
            upstream_host=url_host(host),
            auth_port=auth_port,
            api_port=api_port,
        )
    )
    return conf


def start_proxy(
    data_dir: Path,
    host: str,
    port: int,
    auth_port: int,
    api_port: int,
    env: dict[str, str],
    log_file: Path,
) -> subprocess.Popen[bytes]:
    """Start nginx in its own session (a Ctrl-C reaches the harness first, which stops it)."""
    binary = nginx_binary()
    prefix = data_dir / PROXY_DIR
    conf = write_conf(prefix, host, port, auth_port, api_port)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )


def stop_proxy_of(data_dir: Path) -> None:
    """SIGTERM the nginx this data dir started, if it still runs (the API pool calls this
    when its owner died without stopping the target)."""
    import psutil

    try:
        pid = int((data_dir / companion_pid_file("proxy")).read_text().split()[0])
        proc = psutil.Process(pid)
        if is_our_proxy(proc.cmdline(), data_dir):
            proc.terminate()
    except (OSError, ValueError, IndexError, psutil.Error):
        pass


def is_our_proxy(cmdline: list[str], data_dir: Path) -> bool:
    """Whether a process is the nginx master this data dir started (nginx rewrites its
    argv to a title that still names the config file)."""
    text = " ".join(cmdline)
    return "nginx" in text and str(data_dir / PROXY_DIR / "nginx.conf") in text
