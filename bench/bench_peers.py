"""Requests/s per harness core against nginx: authsurge's recording user vs its peers.

One trivial keep-alive endpoint (nginx from Debian's packages, `return 200 "ok"`, one
worker pinned to core 0), and one client at a time pinned to core 1, each for the same
warm-up and measurement window, in the same run:

  authsurge      authsurge's HTTP client (authsurge.journeys.client, as the journeys use
                 it) with the Recorder on events.request writing every request to a real
                 StreamTable flushed by a Flusher: the run format, as `authsurge run` writes it
  authsurge-bare the same client, no Recorder
  authsurge-ab   the recording user in one process with the Recorder attached and
                 detached in alternate 1-s slices (on, off, off, on, ...): what recording
                 costs, measured where a shared machine disturbs it least (the target row)
  fasthttp       plain Locust FastHttpUser (geventhttpclient), one request per task, as
                 locustfiles are written; Locust's stats only
  fasthttp-loop  the same user with one task looping over requests: no per-request task
                 dispatch or wait, the same shape as the authsurge loop (the fairer peer)
  httpuser       plain Locust HttpUser (requests), Locust's stats only
  wrk            wrk, 1 thread: the near-physical reference

All Python clients run `--users` greenlets in a closed loop (no wait time) on one
keep-alive connection each, inside a Locust Environment + LocalRunner (so Locust's own
stats listener is on events.request in every case, as it is in a real run); wrk gets
the same number of connections. A Python client measures itself: requests completed
and its process CPU seconds (os.times, every thread) over the measurement window only;
wrk's CPU comes from wait4's rusage of the measured wrk process. The headline figure is
requests / client CPU seconds ("req/s per client core"), which the other work on this
shared 2-core machine disturbs less than wall req/s; both are reported, with the nginx
CPU share over the window (near 100%: the server, not the client, set the wall rate) and
the load average before and after. With `--rounds` > 1 clients alternate and each
client's best round is kept (the least disturbed one).

Targets: authsurge (recording) >= 80% of FastHttpUser's req/s per core (the better of the
two FastHttpUser shapes); recording costs at most 10% of the client's throughput.

    python bench/bench_peers.py [--duration 10] [--warmup 2] [--users 16] [--rounds 1]
                                [--only authsurge,fasthttp] [--json OUT]

Installs nginx and wrk with apt-get when they are missing (root only). Traffic goes to
127.0.0.1 only; nginx and every client are stopped by PID.
"""

from __future__ import annotations  # noqa: I001 - locust first: gevent patches before ssl/requests

from locust import User, constant, task  # noqa: F401 - imported first: gevent patches before ssl
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent
import psutil
from machine import cpu_seconds  # bench/machine.py (bench/ is sys.path[0] when run)

HERE = Path(__file__).resolve().parent
RATIO_TARGET = 0.8  # authsurge recording user vs plain FastHttpUser, req/s per core
OVERHEAD_TARGET = 0.10  # recording may cost at most this share of throughput
CLIENTS = (
    "authsurge",
    "authsurge-bare",
    "fasthttp",
    "fasthttp-loop",
    "httpuser",
    "wrk",
    "authsurge-ab",
)
SERVER_CORE, CLIENT_CORE = "0", "1"

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        location /ok {{ return 200 "ok"; }}
    }}
}}
"""


# --- tools ----------------------------------------------------------------------------------


def ensure_tool(binary: str, package: str) -> str:
    """The path of `binary`, installing its Debian package with apt-get when it is missing."""
    found = _which(binary)
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise SystemExit(
            f"{binary} is missing: install the Debian package {package!r} (apt-get needs root)"
        )
    # RUNLEVEL=1: Debian's invoke-rc.d does not start the package's service (no stray nginx on :80)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"}
    install = ["apt-get", "install", "-y", "-qq", package]
    if subprocess.run(install, env=env, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=600, check=True)
        subprocess.run(install, env=env, timeout=600, check=True)
    found = _which(binary)
    if not found:
        raise SystemExit(f"{binary} still missing after installing {package}")
    return found


def _which(binary: str) -> str | None:
    for path in (shutil.which(binary), f"/usr/sbin/{binary}", f"/usr/bin/{binary}"):
        if path and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if shutil.which("taskset") else argv


class Nginx:
    """nginx on a free 127.0.0.1 port with its own config in a temp dir; stopped by PID."""

    def __init__(self, binary: str, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=self.port))
        self.proc = subprocess.Popen(
            pinned(SERVER_CORE, [binary, "-p", str(tmp), "-c", str(conf)]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}/ok"

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise SystemExit(f"nginx exited ({self.proc.returncode}): {err.strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"nginx did not answer on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def pids(self) -> list[int]:
        try:
            master = psutil.Process(self.proc.pid)
            return [master.pid, *(c.pid for c in master.children(recursive=True))]
        except psutil.Error:
            return []

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(
                self.proc.pid, signal.SIGTERM
            )  # nginx: fast shutdown, the master stops its worker
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


# --- the clients (each runs in its own process, `--client NAME`) ---------------------------


def _authsurge_user(url: str, record: bool, tmp: Path) -> tuple[type[User], Any]:
    """A Locust user running authsurge's HTTP client in a tight loop, as a journey step does."""
    from authsurge.journeys.client import HttpClient, HttpSettings, StepFailed
    from authsurge.journeys.reporting import Reporter
    from authsurge.recorder import Recorder
    from authsurge.rundir import records as rec

    settings = HttpSettings(timeout_s=10.0)
    state: dict[str, Any] = {"recorder": None, "tables": []}

    class AuthsurgeUser(User):
        wait_time = constant(0)
        host = url

        @task
        def loop(self) -> None:
            n = id(self)
            reporter = Reporter(
                self.environment.events.request.fire,
                {
                    "journey": "bench",
                    "journey_id": f"j{n:x}",
                    "person_id": f"p{n:x}",
                    "attempt": 1,
                    "t_intended": time.time(),
                    "worker": "worker-0",
                },
            )
            client = HttpClient(settings, reporter)
            try:
                while True:  # bounded: the runner kills this greenlet at the end of the window
                    try:
                        client.expect(client.request("bench.ok", "GET", url), (200,))
                    except StepFailed:  # reported (and counted) already; a journey would stop here
                        gevent.sleep(0.01)
            finally:
                client.close()

    def attach(env: Environment) -> None:
        if not record:
            return
        table = rec.StreamTable(tmp / "requests" / "worker-0.parquet", rec.REQUEST_SCHEMA)
        recorder = Recorder(table, "worker-0")
        recorder.attach(env.events)
        state.update(recorder=recorder, tables=[table], flusher=rec.Flusher([table]).start())

    def switch(env: Environment, on: bool) -> None:
        """Attach or detach the Recorder (the A/B run); the table and flusher keep going."""
        listener = state["recorder"].on_request
        handlers = env.events.request._handlers
        if on and listener not in handlers:
            env.events.request.add_listener(listener)
        elif not on and listener in handlers:
            env.events.request.remove_listener(listener)

    def finish() -> dict[str, Any]:
        if not record:
            return {}
        state["flusher"].stop()
        table = state["tables"][0]
        table.close()
        import pyarrow.parquet as pq

        rows = pq.read_metadata(table.parquet_path).num_rows
        return {"recorded": state["recorder"].requests, "rows_in_parquet": rows}

    return AuthsurgeUser, (attach, finish, switch)


def _locust_user(kind: str, url: str) -> type[User]:
    if kind == "fasthttp-loop":

        class FastLoop(FastHttpUser):
            wait_time = constant(0)
            host = url.rsplit("/", 1)[0]

            @task
            def loop(self) -> None:
                while True:  # bounded: the runner kills this greenlet at the end of the window
                    self.client.get("/ok")

        return FastLoop
    if kind == "fasthttp":

        class Fast(FastHttpUser):
            wait_time = constant(0)
            host = url.rsplit("/", 1)[0]

            @task
            def ok(self) -> None:
                self.client.get("/ok")

        return Fast
    from locust import HttpUser

    class Plain(HttpUser):
        wait_time = constant(0)
        host = url.rsplit("/", 1)[0]

        @task
        def ok(self) -> None:
            self.client.get("/ok")

    return Plain


def run_client(
    kind: str, url: str, users: int, warmup: float, duration: float, server_pids: list[int]
) -> dict[str, Any]:
    """Run one Python client in this process; numbers over the measurement window only."""
    hooks: Any = None
    with tempfile.TemporaryDirectory(prefix="authsurge-peers-") as tmp:
        if kind.startswith("authsurge"):
            user, hooks = _authsurge_user(url, kind == "authsurge", Path(tmp))
        else:
            user = _locust_user(kind, url)
        env = Environment(user_classes=[user], host=url.rsplit("/", 1)[0])
        runner = env.create_local_runner()
        if hooks:
            hooks[0](env)
        runner.start(users, spawn_rate=100)  # Locust warns above 100/s
        gevent.sleep(warmup)
        total = env.stats.total
        r0, f0 = total.num_requests, total.num_failures
        c0, w0, s0 = _own_cpu(), time.perf_counter(), cpu_seconds(server_pids)
        gevent.sleep(duration)
        r1, f1 = total.num_requests, total.num_failures
        c1, w1, s1 = _own_cpu(), time.perf_counter(), cpu_seconds(server_pids)
        runner.quit()
        extra = hooks[1]() if hooks else {}
    return {
        "client": kind,
        "requests": r1 - r0,
        "failures": f1 - f0,
        "cpu_s": c1 - c0,
        "wall_s": w1 - w0,
        "server_cpu_s": s1 - s0,
        **extra,
    }


def run_ab(
    url: str, users: int, warmup: float, duration: float, slice_s: float = 1.0
) -> dict[str, Any]:
    """Recording overhead within one process: the Recorder on and off in alternate slices.

    Slices go on, off, off, on, ... (ABBA, so a steady drift hits both alike); each slice's
    req/s per core is requests / CPU s in it. Adjacent slices share the machine's state far
    better than two processes run a minute apart, which is what makes this the overhead
    figure on a shared machine.
    """
    with tempfile.TemporaryDirectory(prefix="authsurge-peers-") as tmp:
        user, (attach, finish, switch) = _authsurge_user(url, True, Path(tmp))
        env = Environment(user_classes=[user], host=url.rsplit("/", 1)[0])
        runner = env.create_local_runner()
        attach(env)
        runner.start(users, spawn_rate=100)
        gevent.sleep(warmup)
        total = env.stats.total
        slices: list[dict[str, Any]] = []
        for i in range(max(2, int(duration / slice_s))):
            on = (i % 4) in (0, 3)
            switch(env, on)
            r0, c0 = total.num_requests, time.process_time()
            gevent.sleep(slice_s)
            r1, c1 = total.num_requests, time.process_time()
            slices.append({"recording": on, "requests": r1 - r0, "cpu_s": c1 - c0})
        switch(env, True)
        runner.quit()
        finish()
    rate = {True: [], False: []}  # type: dict[bool, list[float]]
    for sl in slices:
        if sl["cpu_s"] > 0:
            rate[sl["recording"]].append(sl["requests"] / sl["cpu_s"])
    on, off = statistics.median(rate[True]), statistics.median(rate[False])
    return {
        "client": "authsurge-ab",
        "per_core_on": on,
        "per_core_off": off,
        "overhead": 1.0 - on / off,
        "slices": slices,
    }


def recorder_cost_us(n: int = 100_000, rounds: int = 5) -> float:
    """CPU µs the Recorder adds to one request event (flushes included), in this process.

    The same event (as authsurge's client fires it, with Locust's stats listener on)
    fired n times with and without the Recorder on a real StreamTable, flushed every
    5,000 rows (about every half second at the measured rates); the best round of each.
    A microbenchmark, so it is steady where the A/B figures are not: an estimate of the
    overhead next to the direct measurement.
    """
    import locust.event
    from locust.stats import RequestStats

    from authsurge.journeys.reporting import Reporter
    from authsurge.recorder import Recorder
    from authsurge.rundir import records as rec

    def run(recording: bool) -> float:
        events = locust.event.Events()
        stats = RequestStats()
        events.request.add_listener(
            lambda request_type, name, response_time, response_length, **_: stats.log_request(
                request_type, name, response_time, response_length
            )
        )
        with tempfile.TemporaryDirectory(prefix="authsurge-peers-") as tmp:
            table = rec.StreamTable(Path(tmp) / "w.parquet", rec.REQUEST_SCHEMA)
            if recording:
                Recorder(table, "worker-0").attach(events)
            reporter = Reporter(
                events.request.fire,
                {
                    "journey": "bench",
                    "journey_id": "j1",
                    "person_id": "p1",
                    "attempt": 1,
                    "t_intended": time.time(),
                    "worker": "worker-0",
                },
            )
            t0 = time.process_time()
            for i in range(n):
                reporter.request(
                    "GET", "bench.ok", "http://127.0.0.1/ok", 200, time.time(), 0.5, 2, "ok", ""
                )
                if i % 5000 == 4999:
                    table.flush()
            table.flush()
            spent = time.process_time() - t0
            table.close()
        return spent / n * 1e6

    on, off = [], []
    for _ in range(rounds):
        off.append(run(False))
        on.append(run(True))
    return min(on) - min(off)


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def run_wrk(
    wrk: str, url: str, users: int, warmup: float, duration: float, server_pids: list[int]
) -> dict[str, Any]:
    """wrk -t1 on the client core: a warm-up run, then the measured one (CPU from wait4)."""

    def once(seconds: float) -> tuple[str, float, float]:
        argv = pinned(CLIENT_CORE, [wrk, "-t1", f"-c{users}", f"-d{max(1, round(seconds))}s", url])
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t0 = time.perf_counter()
        try:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if proc.returncode is None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        if proc.returncode != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {out.strip()}")
        return out, usage.ru_utime + usage.ru_stime, time.perf_counter() - t0

    once(warmup)
    s0 = cpu_seconds(server_pids)
    out, cpu, _ = once(duration)
    s1 = cpu_seconds(server_pids)
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not done:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    wall = float(done.group(2)) / (1000.0 if done.group(3) == "ms" else 1.0)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "client": "wrk",
        "requests": int(done.group(1)),
        "failures": int(errors.group(1)) if errors else 0,
        "cpu_s": cpu,
        "wall_s": wall,
        "server_cpu_s": s1 - s0,
    }


def spawn_client(
    kind: str, url: str, args: argparse.Namespace, server_pids: list[int]
) -> dict[str, Any]:
    """One Python client in its own process pinned to the client core; its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    argv = pinned(
        CLIENT_CORE,
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--client",
            kind,
            "--url",
            url,
            "--users",
            str(args.users),
            "--warmup",
            str(args.warmup),
            "--duration",
            str(args.duration),
            "--server-pids",
            ",".join(map(str, server_pids)),
            "--json",
            str(out),
        ],
    )
    proc = subprocess.Popen(argv, cwd=HERE.parent)
    try:
        proc.wait(timeout=args.warmup + args.duration + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"client {kind} failed (exit {proc.returncode})")
        return json.loads(out.read_text())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        out.unlink(missing_ok=True)


# --- the comparison -----------------------------------------------------------------------


def per_core(r: dict[str, Any]) -> float:
    return r["requests"] / r["cpu_s"] if r["cpu_s"] > 0 else float("nan")


def best_rounds(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for r in results:
        r["per_core"] = per_core(r)
        r["wall_rps"] = r["requests"] / r["wall_s"]
        r["server_cpu_percent"] = 100.0 * r["server_cpu_s"] / r["wall_s"]
        if r["client"] not in best or r["per_core"] > best[r["client"]]["per_core"]:
            best[r["client"]] = r
    for name, b in best.items():
        b["rounds"] = [round(x["per_core"]) for x in results if x["client"] == name]
    return best


def rows_for(
    best: dict[str, dict[str, Any]],
    ab: list[dict[str, Any]],
    micro: float | None,
    load: tuple[float, float],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    labels = {
        "fasthttp-loop": "Locust FastHttpUser, task looping",
        "authsurge": "authsurge recording user",
        "authsurge-bare": "authsurge client, no recorder",
        "fasthttp": "Locust FastHttpUser",
        "httpuser": "Locust HttpUser",
        "wrk": "wrk -t1",
    }
    for name in CLIENTS:
        if name not in best:
            continue
        b = best[name]
        rows.append(
            {
                "metric": f"{labels[name]}: req/s per client core",
                "value": round(b["per_core"]),
                "unit": "req/s/core",
                "target": None,
                "meets_target": None,
            }
        )
        rows.append(
            {
                "metric": f"{labels[name]}: wall req/s (nginx CPU {b['server_cpu_percent']:.0f}%)",
                "value": round(b["wall_rps"]),
                "unit": "req/s",
                "target": None,
                "meets_target": None,
            }
        )
    fast = [c for c in ("fasthttp", "fasthttp-loop") if c in best]
    if "authsurge" in best and fast:
        # against the stronger of the two FastHttpUser shapes: the harder comparison
        peer = max(fast, key=lambda c: best[c]["per_core"])
        ratio = best["authsurge"]["per_core"] / best[peer]["per_core"]
        rows.append(
            {
                "metric": f"authsurge recording user / {labels[peer]} (per core)",
                "value": round(ratio, 3),
                "unit": "x",
                "target": f">= {RATIO_TARGET}",
                "meets_target": ratio >= RATIO_TARGET,
            }
        )
    if ab:  # the overhead figure: on/off slices in one process (median over rounds)
        cost = statistics.median(r["overhead"] for r in ab)
        rows.append(
            {
                "metric": "authsurge recording overhead (A/B slices in one process)",
                "value": round(cost, 3),
                "unit": "share",
                "target": f"<= {OVERHEAD_TARGET}",
                "meets_target": cost <= OVERHEAD_TARGET,
            }
        )
    if "authsurge" in best and "authsurge-bare" in best:  # two processes: noisier
        cost = 1.0 - best["authsurge"]["per_core"] / best["authsurge-bare"]["per_core"]
        rows.append(
            {
                "metric": "authsurge recording overhead (separate processes, best rounds)",
                "value": round(cost, 3),
                "unit": "share",
                "target": None if ab else f"<= {OVERHEAD_TARGET}",
                "meets_target": None if ab else cost <= OVERHEAD_TARGET,
            }
        )
    if micro is not None:
        rows.append(
            {
                "metric": "Recorder CPU per request (microbenchmark, flushes included)",
                "value": round(micro, 2),
                "unit": "us",
                "target": None,
                "meets_target": None,
            }
        )
        if "authsurge-bare" in best:
            share = micro / (1e6 / best["authsurge-bare"]["per_core"])
            rows.append(
                {
                    "metric": "recording overhead estimate (Recorder us / bare client us per request)",
                    "value": round(share, 3),
                    "unit": "share",
                    "target": None,
                    "meets_target": None,
                }
            )
    for name in ("authsurge", "fasthttp", "fasthttp-loop", "httpuser"):
        if name in best and "wrk" in best:
            rows.append(
                {
                    "metric": f"{labels[name]} / wrk (per core)",
                    "value": round(best[name]["per_core"] / best["wrk"]["per_core"], 4),
                    "unit": "x",
                    "target": None,
                    "meets_target": None,
                }
            )
    rows.append(
        {
            "metric": "load average (1 min) before / after",
            "value": f"{load[0]:.2f} / {load[1]:.2f}",
            "unit": "",
            "target": None,
            "meets_target": None,
        }
    )
    return rows


def print_table(best: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'client':<16} {'req/s/core':>11} {'wall req/s':>11} {'requests':>9} {'cpu s':>6} "
        f"{'nginx cpu':>9} {'fail':>5}  rounds (req/s/core)"
    )
    for name in CLIENTS:
        if name in best:
            b = best[name]
            print(
                f"{name:<16} {b['per_core']:>11,.0f} {b['wall_rps']:>11,.0f} {b['requests']:>9,} "
                f"{b['cpu_s']:>6.2f} {b['server_cpu_percent']:>8.0f}% {b['failures']:>5}  {b['rounds']}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per client")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--users", type=int, default=16, help="greenlets (wrk: connections)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="alternating rounds; best per client kept"
    )
    parser.add_argument("--only", default=",".join(CLIENTS), help="comma-separated clients")
    parser.add_argument("--json", type=Path, help="write the run_all rows here")
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--server-pids", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (
        0 < args.duration <= 120
        and 0 <= args.warmup <= 30
        and 1 <= args.rounds <= 10
        and 1 <= args.users <= 512
    ):
        parser.error("out of bounds: duration (0, 120], warmup [0, 30], rounds 1..10, users 1..512")

    if args.client:  # child: one client, result to --json
        server_pids = [int(p) for p in args.server_pids.split(",") if p]
        if args.client == "authsurge-ab":
            result = run_ab(args.url, args.users, args.warmup, args.duration)
        else:
            result = run_client(
                args.client, args.url, args.users, args.warmup, args.duration, server_pids
            )
        args.json.write_text(json.dumps(result))
        return 0

    only = [c for c in args.only.split(",") if c]
    unknown = set(only) - set(CLIENTS)
    if unknown:
        parser.error(f"unknown client(s) {sorted(unknown)}; known: {', '.join(CLIENTS)}")
    nginx_bin = ensure_tool("nginx", "nginx")
    wrk_bin = ensure_tool("wrk", "wrk") if "wrk" in only else ""
    load_before = os.getloadavg()[0]
    print(
        f"load average before: {os.getloadavg()}; nginx on core {SERVER_CORE}, clients on core "
        f"{CLIENT_CORE}; {args.users} connections, {args.warmup:g} s warm-up + {args.duration:g} s each",
        flush=True,
    )
    results: list[dict[str, Any]] = []
    ab: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="authsurge-nginx-") as tmp:
        nginx = Nginx(nginx_bin, Path(tmp))
        try:
            nginx.wait_ready()
            server_pids = nginx.pids()
            for rnd in range(args.rounds):
                for kind in only:
                    if kind == "wrk":
                        r = run_wrk(
                            wrk_bin, nginx.url, args.users, args.warmup, args.duration, server_pids
                        )
                    else:
                        r = spawn_client(kind, nginx.url, args, server_pids)
                    r["round"] = rnd
                    if kind == "authsurge-ab":
                        ab.append(r)
                        print(
                            f"  round {rnd + 1} {kind:<15} recording overhead {r['overhead'] * 100:+.1f}% "
                            f"({r['per_core_on']:,.0f} vs {r['per_core_off']:,.0f} req/s per core, "
                            f"medians of {len(r['slices']) // 2} slices each)",
                            flush=True,
                        )
                        continue
                    results.append(r)
                    print(
                        f"  round {rnd + 1} {kind:<15} {per_core(r):>10,.0f} req/s per core "
                        f"({r['requests']:,} requests, {r['cpu_s']:.2f} CPU s, {r['failures']} failed)",
                        flush=True,
                    )
        finally:
            nginx.stop()
    load_after = os.getloadavg()[0]
    micro = recorder_cost_us() if "authsurge" in only or "authsurge-bare" in only else None
    best = best_rounds(results)
    print()
    print_table(best)
    rows = rows_for(best, ab, micro, (load_before, load_after))
    for row in rows:
        if row["unit"] in ("x", "share"):
            meets = {True: "  (meets target)", False: "  (MISSES target)", None: ""}[
                row["meets_target"]
            ]
            print(f"{row['metric']}: {row['value']}{meets}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    if args.json:
        results += ab
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "peers",
                    "rows": rows,
                    "raw": results,
                    "median_per_core": {c: statistics.median(b["rounds"]) for c, b in best.items()},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
