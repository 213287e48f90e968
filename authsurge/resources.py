"""Once-a-second CPU/RSS samples of the target's processes and of the harness itself."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import psutil

from authsurge.rundir.records import StreamTable

log = logging.getLogger(__name__)


def pids_listening_on(port: int) -> list[int]:
    """PIDs with a TCP socket listening on `port` (local targets found by port).

    The system-wide table names one holder per socket; a pre-fork server's master holds
    the same listening socket as its workers, so each holder's parents that listen on
    the port are added too (gunicorn's master is half the target's processes).
    """
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return []
    found = {
        c.pid
        for c in conns
        if c.pid and c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }
    for pid in list(found):
        try:
            parent = psutil.Process(pid).parent()
            while parent is not None and _listens_on(parent, port):
                found.add(parent.pid)
                parent = parent.parent()
        except psutil.Error:
            continue
    return sorted(found)


def _listens_on(proc: psutil.Process, port: int) -> bool:
    try:
        conns = proc.net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


def target_pids(
    base_url: str, pids: Iterable[int] = (), pid_file: Path | None = None, port: int | None = None
) -> list[int]:
    """The target's process ids from explicit PIDs, a PID file, or (loopback only) its port."""
    found = list(pids)
    if pid_file is not None:
        try:
            found.append(int(Path(pid_file).read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            log.warning("cannot read target PID file %s; target CPU will not be sampled", pid_file)
    if not found:
        parts = urlsplit(base_url)
        if parts.hostname in ("127.0.0.1", "localhost", "::1"):
            found = pids_listening_on(
                port or parts.port or (443 if parts.scheme == "https" else 80)
            )
    return sorted(set(found))


class ProcessGroup:
    """A set of root processes and their children; cpu_percent summed (100 = one core).

    `rediscover`, when given, names the roots again once all of them are gone: a target
    restarted mid-run (a crash, a deploy) has new PIDs, and without it the rest of the
    run would have no target CPU at all.
    """

    def __init__(
        self,
        pids: Iterable[int],
        children: bool = True,
        rediscover: Callable[[], list[int]] | None = None,
    ) -> None:
        self.roots = self._procs_of(pids)
        self.children = children
        self.rediscover = rediscover
        self._procs: dict[int, psutil.Process] = {}

    @classmethod
    def _procs_of(cls, pids: Iterable[int]) -> list[psutil.Process]:
        return [p for p in (cls._proc(pid) for pid in pids) if p is not None]

    @staticmethod
    def _proc(pid: int) -> psutil.Process | None:
        try:
            return psutil.Process(pid)
        except psutil.Error:
            return None

    def sample(self) -> tuple[float, int, int]:
        cpu, rss, n, _ = self.sample_all()
        return cpu, rss, n

    def cores(self) -> int:
        """The cores the processes may run on (the union of their CPU affinities): under
        `taskset -c 0` a target has one core, however many the machine has. 0 while no
        process is alive (the analysis takes the run's largest count); the machine's
        count where the platform has no affinity."""
        allowed: set[int] = set()
        for proc in [*self.roots, *self._procs.values()]:
            try:
                allowed.update(proc.cpu_affinity() or [])
            except AttributeError:  # no CPU affinity on this platform
                return psutil.cpu_count() or 1
            except psutil.Error:  # gone
                continue
        return len(allowed)

    def sample_all(self) -> tuple[float, int, int, float]:
        """CPU percent summed over the processes, RSS, their count, and the busiest one's CPU."""
        if self.rediscover is not None and not any(r.is_running() for r in self.roots):
            self.roots = self._procs_of(self.rediscover())
        current: dict[int, psutil.Process] = {}
        for root in self.roots:
            try:
                family = root.children(recursive=True) if self.children else []
                for p in [root, *family]:
                    current[p.pid] = self._procs.get(p.pid, p)
            except psutil.Error:
                continue
        cpu, rss, busiest = 0.0, 0, 0.0
        for pid, p in list(current.items()):
            try:
                with p.oneshot():
                    # the first call of cpu_percent on a new Process object returns 0.0 and primes it
                    one = p.cpu_percent(None)
                    cpu += one
                    busiest = max(busiest, one)
                    rss += p.memory_info().rss
            except psutil.Error:
                current.pop(pid, None)
        self._procs = current
        return cpu, rss, len(current), busiest


class LoopLag:
    """Worst gevent loop lag seen since the last read, measured by a sleeping greenlet."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.worst_ms = 0.0
        self._greenlet = None

    def start(self) -> LoopLag:
        import gevent

        def run() -> None:
            while True:
                t = time.perf_counter()
                gevent.sleep(self.interval)
                self.worst_ms = max(self.worst_ms, (time.perf_counter() - t - self.interval) * 1000)

        self._greenlet = gevent.spawn(run)
        return self

    def read(self) -> float:
        worst, self.worst_ms = self.worst_ms, 0.0
        return worst

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)


def parse_prometheus(text: str, names: Iterable[str]) -> dict[str, float]:
    """Sum the samples of each wanted metric in Prometheus' text format (all label sets)."""
    wanted = set(names)
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(" ") if "{" not in line else line.partition("} ")
        name = head.split("{", 1)[0]
        if name not in wanted:
            continue
        try:
            value = float(rest.split()[0])
        except (IndexError, ValueError):
            continue
        totals[name] = totals.get(name, 0.0) + value
    return totals


class PrometheusScraper:
    """Scrapes a Prometheus endpoint's chosen metrics into the metrics table."""

    def __init__(
        self, url: str, names: list[str], table: StreamTable, timeout: float = 0.8
    ) -> None:
        self.url, self.names, self.table, self.timeout = url, names, table, timeout

    def scrape(self, now: float) -> None:
        import urllib.request

        with urllib.request.urlopen(self.url, timeout=self.timeout) as response:  # noqa: S310 - allowed host
            text = response.read(4_000_000).decode("utf-8", "replace")
        for name, value in parse_prometheus(text, self.names).items():
            self.table.append({"t": now, "metric": name, "value": value})


class ResourceSampler:
    """Samples target and harness once a second from an OS thread into a StreamTable."""

    def __init__(
        self,
        table: StreamTable,
        target: list[int],
        worker: str,
        loop_lag: Callable[[], float] | None = None,
        interval: float = 1.0,
        prometheus: PrometheusScraper | None = None,
        rediscover: Callable[[], list[int]] | None = None,
    ) -> None:
        self.prometheus = prometheus
        self.table = table
        self.target = ProcessGroup(target, rediscover=rediscover) if target else None
        # not the children: `make demo` runs the target as a child of the harness process
        self.harness = ProcessGroup([os.getpid()], children=False)
        self.worker = worker
        self.loop_lag = loop_lag
        self.interval = interval
        self.latest: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="authsurge-resources", daemon=True)

    def start(self) -> ResourceSampler:
        self._sample()  # primes cpu_percent
        self._thread.start()
        return self

    def _sample(self) -> None:
        now = time.time()
        if self.target is not None:
            cpu, rss, n, busiest = self.target.sample_all()
            self.latest["target_cpu"] = cpu
            self.table.append(
                {
                    "t": now,
                    "source": "target",
                    "cpu_percent": cpu,
                    "rss_bytes": rss,
                    "processes": n,
                    "cpu_count": self.target.cores(),
                    "busiest_cpu_percent": busiest,
                }
            )
        cpu, rss, n = self.harness.sample()
        lag = self.loop_lag() if self.loop_lag else float("nan")
        self.latest["harness_cpu"] = cpu
        self.latest["loop_lag_ms"] = lag
        self.table.append(
            {
                "t": now,
                "source": f"harness:{self.worker}",
                "cpu_percent": cpu,
                "rss_bytes": rss,
                "processes": n,
                "loop_lag_ms": lag,
                "cpu_count": 1,
            }
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._sample()
            except Exception:  # a sampler must never take the run down
                log.debug("resource sample failed", exc_info=True)
            if self.prometheus is not None:
                try:
                    self.prometheus.scrape(time.time())
                except Exception as exc:  # an unreachable exporter is noted, never fatal
                    log.debug("prometheus scrape of %s failed: %s", self.prometheus.url, exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
