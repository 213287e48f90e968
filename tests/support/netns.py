"""Hosts for a multi-host test, made of network namespaces on this machine.

`TestNetwork(["target", "master", ...])` makes one namespace per host, named
`authsurge-<pid>-<host>`, and a hub namespace holding a bridge; each host is joined to the
bridge by a veth pair and gets one address from 169.254.77.0/24, a link-local network
that exists only on these links (never the cloud metadata address). The root namespace gets no
address and no route: nothing from here can reach a host, and no host can reach anything
but the others. On exit every process in the namespaces is killed by PID (`ip netns
pids`) and the namespaces are deleted, which deletes their links. Namespaces of earlier
test processes that are gone (a killed run) are removed first.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.debian import installed

PREFIX = "authsurge-"
NETWORK = ipaddress.ip_network("169.254.77.0/24")
OWN = re.compile(rf"{PREFIX}(\d+)-[a-z0-9]+")


def ip_binary() -> str:
    """iproute2's `ip` (and `ss`), installed with apt-get when missing."""
    return installed("iproute2", lambda: shutil.which("ip") or next(
        (p for p in ("/usr/sbin/ip", "/sbin/ip") if Path(p).exists()), None))


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ip_binary(), *args], capture_output=True, text=True, timeout=30,
                          check=check)


def namespaces() -> list[str]:
    listing = _ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def remove_stale() -> list[str]:
    """Delete the namespaces of authsurge test processes that are no longer running."""
    removed = []
    for name in namespaces():
        owner = OWN.fullmatch(name)
        if owner and not psutil.pid_exists(int(owner.group(1))):
            _delete(name)
            removed.append(name)
    return removed


def _delete(name: str, timeout_s: float = 10.0) -> None:
    """Kill every process in the namespace by PID until none is left, then delete it (and
    its links)."""
    deadline = time.time() + timeout_s
    while pids := _ip("netns", "pids", name, check=False).stdout.split():
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        if time.time() > deadline:
            raise RuntimeError(f"processes {pids} in namespace {name} outlived SIGKILL")
        time.sleep(0.1)
    _ip("netns", "del", name, check=False)


class TestNetwork:
    """The namespaces of one test: `address(host)`, `popen(host, argv)`, `ss(host)`."""

    __test__ = False  # not a pytest class

    def __init__(self, hosts: Sequence[str]) -> None:
        self.tag = f"{PREFIX}{os.getpid()}"
        self.hosts = list(hosts)
        self.hub = f"{self.tag}-hub"
        self.addresses = {h: str(NETWORK.network_address + 1 + i) for i, h in enumerate(self.hosts)}
        self.procs: list[subprocess.Popen[Any]] = []
        self.made: list[str] = []

    def name(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def address(self, host: str) -> str:
        return self.addresses[host]

    def __enter__(self) -> TestNetwork:
        remove_stale()
        try:
            self._make()
        except BaseException as exc:
            self.__exit__(None, None, None)
            if isinstance(exc, subprocess.CalledProcessError):
                pytest.skip(f"cannot make network namespaces here: {' '.join(exc.cmd)}: "
                            f"{exc.stderr.strip()}")
            raise
        return self

    def _make(self) -> None:
        for ns in (self.hub, *map(self.name, self.hosts)):
            _ip("netns", "add", ns)
            self.made.append(ns)
        _ip("-n", self.hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.hub, "link", "set", "br0", "up")
        for i, host in enumerate(self.hosts):
            ns = self.name(host)
            _ip("link", "add", "name", f"h{i}", "netns", self.hub, "type", "veth",
                "peer", "name", "eth0", "netns", ns)
            _ip("-n", self.hub, "link", "set", f"h{i}", "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{self.address(host)}/{NETWORK.prefixlen}", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def popen(self, host: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start `argv` inside the host's namespace (`ip netns exec` execs it: the PID is its)."""
        proc = subprocess.Popen([ip_binary(), "netns", "exec", self.name(host), *argv], **kwargs)
        self.procs.append(proc)
        return proc

    def run(self, host: str, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ip_binary(), "netns", "exec", self.name(host), *argv],
                              capture_output=True, text=True, timeout=timeout, check=False)

    def connections(self, host: str) -> list[tuple[str, str, str]]:
        """(state, local, peer) of every TCP socket in the host's namespace (`ss -tanH`),
        IPv4-mapped IPv6 addresses written as IPv4."""
        out = self.run(host, [shutil.which("ss") or "/usr/bin/ss", "-tanH"], timeout=10).stdout
        rows = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 5:
                rows.append((parts[0], _plain(parts[3]), _plain(parts[4])))
        return rows

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for ns in reversed(self.made):
            _delete(ns)
        self.made.clear()


def _plain(address: str) -> str:
    return address.replace("[::ffff:", "").replace("]", "") if "::ffff:" in address else address
