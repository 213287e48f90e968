"""Finding a local target's processes by its port, and again after it restarted."""

from __future__ import annotations

import os
import subprocess
import sys

from authsurge.resources import ProcessGroup, pids_listening_on


def test_the_port_finds_the_master_too_and_the_group_covers_every_worker(target_factory):
    target = target_factory(workers=2)
    found = pids_listening_on(target.port)
    assert target.pid in found  # the master: the system table names only one holder
    group = ProcessGroup(found)
    _, rss, processes = group.sample()
    assert processes == len(target.pids()) == 3 and rss > 0


def test_a_group_whose_processes_are_gone_finds_them_again(target_factory):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    target = target_factory(workers=1)
    group = ProcessGroup([gone.pid], rediscover=lambda: pids_listening_on(target.port))
    _, _, processes = group.sample()
    assert processes == 2  # gunicorn master + its worker
    assert ProcessGroup([gone.pid]).sample()[2] == 0  # without rediscover: nothing to sample


def test_a_group_pinned_to_one_core_counts_only_the_cores_it_may_use():
    # pinned before exec, as taskset does
    pinned = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"],
                              preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    try:
        assert ProcessGroup([pinned.pid]).cores() == 1
        assert ProcessGroup([os.getpid()]).cores() == len(os.sched_getaffinity(0))
    finally:
        pinned.kill()
        pinned.wait()
