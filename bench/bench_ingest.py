"""How many records/s one master takes in: the distributed run's ingestion limit.

In a distributed run every worker ships its rows to the one master twice a second, as
Arrow IPC bytes in a Locust message (MSG_RECORDS); the master writes each worker's rows to
its own shard of the run directory (authsurge.run.ingest.RecordIngest, with the progress
count MasterRun keeps on each batch). Here:

- the master is a real Locust MasterRunner with that RecordIngest, in its own process
  pinned to CPU 0, writing into a run directory on disk;
- this process, pinned to CPU 1, is W fake workers: each a Locust RPC client (zmq DEALER,
  as Locust's workers are) that says client_ready, sends a heartbeat a second and replays
  pre-encoded record batches, 3,750 rows every 0.5 s = 7,500 records/s: the planning
  figure of ~40 generator cores for 300,000 records/s (a core running full OIDC sign-ins
  ships 1,700-2,900; one recording the cheapest requests, up to ~10,800: bench_peers.py);
- W grows each step (4, 8, 16, 32, then 16 more each time), `--step-s` seconds each, until
  the master's CPU passes 90% of its core; a step counts as kept up with when the master
  absorbed at least 97% of what was offered and the lag's p99 stayed under 250 ms.

Twice (`--live both`, the default): a master that only records, and one that also feeds
the live view (`authsurge run --web` or `--metrics`: LiveState groups every batch). The
replayed batches carry the same few seconds over and over, so this measures the live
view's grouping, not its readers (a page's snapshot once a second, a /metrics scrape:
bench_live.py) nor its letting go of closed seconds.
Per step: records/s offered and absorbed, the master's CPU (100% = one core) and memory,
and the lag from a batch's send time to its rows landing in the run directory (p50, p99);
a record waits up to 0.5 s more in its worker's buffer before it is sent. At the end the
master compacts its shards to Parquet (time and peak memory).

    python bench/bench_ingest.py [--step-s 6] [--max-workers 256] [--live off|on|both] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROWS_PER_MESSAGE = 3750  # one generator core's 0.5 s: 7,500 records/s
SEND_INTERVAL_S = 0.5  # a worker's flush interval (authsurge.rundir.records.Flusher)
SATURATED_SHARE = 0.97  # the first step loses ~2% to its workers connecting
SATURATED_LAG_S = 0.25
GOAL = 300_000  # records/s (the issue: ~40 generator cores)


# --- the master (its own process) --------------------------------------------------------------


def serve_master(port_file: Path, run_dir: Path, log_file: Path, live: bool) -> None:
    """A MasterRunner with the run's RecordIngest; logs (landed, rows, lag) per message.
    `live`: the live view watches every batch too (`--web`, `--metrics`)."""
    import gevent
    from locust.env import Environment  # noqa: I001 - locust first: gevent patches
    from locust.event import Events

    from authsurge.run.driver_user import MSG_RECORDS, MSG_RESOURCES, SurgeDriver
    from authsurge.run.ingest import RecordIngest
    from authsurge.run.master import MasterCounter
    from authsurge.rundir import records as record

    env = Environment(user_classes=[SurgeDriver], events=Events())
    master = env.create_master_runner(master_bind_host="127.0.0.1", master_bind_port=0)
    resources = record.StreamTable(run_dir / "resources.parquet", record.RESOURCE_SCHEMA)
    counter = MasterCounter()
    observers = [counter.add]
    if live:
        import numpy as np

        from authsurge.live.state import LiveState
        from authsurge.scenario import parse_scenario

        scenario = parse_scenario(
            "name: bench_ingest\ntarget: {base_url: 'http://127.0.0.1:9'}\n"
            "journeys: {oidc_login: {steps: [form_login, api, form_logout]}}\n"
            "traffic: {model: open, shape: {kind: steady, rate: 10}}\nrun: {duration_s: 600}\n",
            Path("bench_ingest.yaml"),
        )
        state = LiveState(scenario, np.full(600, 10.0))
        state.start(time.time(), "bench")
        observers.append(state.observe)
    ingest = RecordIngest(run_dir, resources, observers)
    landed: list[tuple[float, int, float]] = []
    missing = [0]

    def on_records(environment: object, msg: object, **_: object) -> None:
        data = msg.data  # type: ignore[attr-defined]
        rows = ingest.records(data)
        now = time.time()
        landed.append((now, rows, now - data["created"]))

    def on_close(environment: object, msg: object, **_: object) -> None:
        import psutil

        started = time.time()
        ingest.close()
        resources.close()
        doc = {
            "landed": landed,
            "journeys_counted": counter.journeys,
            "compact_s": time.time() - started,
            "peak_rss": psutil.Process().memory_info().rss,
            "missing_workers_max": missing[0],
        }
        log_file.write_text(json.dumps(doc))
        os._exit(0)

    def watch_heartbeats() -> None:
        while True:
            gevent.sleep(1)
            missing[0] = max(missing[0], sum(1 for c in master.clients.all if c.state == "missing"))

    master.register_message(MSG_RECORDS, on_records)
    master.register_message(MSG_RESOURCES, lambda environment, msg, **_: ingest.resource_samples(msg.data))
    master.register_message("bench_close", on_close)
    gevent.spawn(watch_heartbeats)
    port_file.write_text(str(master.server.port))
    master.greenlet.join()


# --- the fake workers (this process) -----------------------------------------------------------


def payloads(count: int, rows: int) -> list[bytes]:
    """Arrow IPC bytes of request rows as workers ship them: eight steps of an OIDC sign-in,
    unique journey and person ids, 3% errors with a reason."""
    import numpy as np
    import pyarrow as pa

    from authsurge.rundir import records as record

    steps = np.array(["login.form", "login.submit", "oidc.authorize", "oidc.consent", "oidc.callback",
                      "oidc.token", "api.call", "logout"], dtype=object)
    rng = np.random.default_rng(11)
    out = []
    for k in range(count):
        t0 = time.time()
        idx = np.arange(rows)
        journey = np.array([f"w{k}-{i // 8:07d}-1" for i in idx], dtype=object)
        failed = rng.random(rows) < 0.03
        columns = {
            "kind": np.full(rows, record.KIND_REQUEST, dtype=object),
            "t_intended": t0 + idx * 1e-4,
            "t_start": t0 + idx * 1e-4 + 0.002,
            "step": steps[idx % 8],
            "journey": np.full(rows, "oidc_login", dtype=object),
            "journey_id": journey,
            "person_id": np.array([j[:-2] for j in journey], dtype=object),
            "attempt": np.ones(rows, dtype=np.int16),
            "method": np.where(idx % 8 == 1, "POST", "GET").astype(object),
            "status": np.where(failed, 503, 200).astype(np.int32),
            "outcome": np.where(failed, record.HTTP_5XX, record.OK).astype(object),
            "reason": np.where(failed, "503 on POST /accounts/login/", "").astype(object),
            "latency_ms": rng.lognormal(3.5, 1.0, rows),
            "bytes": rng.integers(200, 9000, rows),
            "worker": np.full(rows, "worker-0", dtype=object),
            "cohort": np.full(rows, record.SURGE, dtype=object),
            "source": np.full(rows, "", dtype=object),
        }
        batch = pa.RecordBatch.from_pydict(
            {f.name: pa.array(columns[f.name], f.type) for f in record.REQUEST_SCHEMA},
            schema=record.REQUEST_SCHEMA,
        )
        out.append(record.batch_to_bytes(batch))
    return out


def message(kind: str, data: object, node: str) -> bytes:
    """A Locust RPC message as its Message.serialize makes it (locust.rpc.protocol)."""
    import msgpack

    return msgpack.dumps((kind, data, node))


class FakeWorkers:
    """W Locust RPC clients in one process: client_ready, a heartbeat a second, and batches."""

    def __init__(self, port: int) -> None:
        import zmq

        # not `import locust` here: it would monkey-patch this process for gevent
        self.zmq, self.version, self.port = zmq, metadata.version("locust"), port
        self.context = zmq.Context()
        self.sockets: list[tuple[str, object]] = []
        self.refused = 0

    def grow(self, count: int) -> None:
        while len(self.sockets) < count:
            node = f"bench-{len(self.sockets)}"
            sock = self.context.socket(self.zmq.DEALER)
            sock.setsockopt(self.zmq.IDENTITY, node.encode())
            sock.connect(f"tcp://127.0.0.1:{self.port}")
            sock.send(message("client_ready", self.version, node))
            self.sockets.append((node, sock))

    def send(self, index: int, kind: str, data: object) -> None:
        node, sock = self.sockets[index]
        try:
            sock.send(message(kind, data, node), self.zmq.NOBLOCK)  # type: ignore[attr-defined]
        except self.zmq.Again:
            self.refused += 1  # its queue is full: the master is behind

    def heartbeats(self) -> None:
        for index, (_node, sock) in enumerate(self.sockets):
            while True:  # the master's answers, which nobody else reads
                try:
                    sock.recv(self.zmq.NOBLOCK)  # type: ignore[attr-defined]
                except self.zmq.Again:
                    break
            self.send(index, "heartbeat", {"state": "running", "current_cpu_usage": 50.0,
                                           "current_memory_usage": 100 << 20})


def replay(workers: FakeWorkers, count: int, seconds: float, pool: list[bytes]) -> int:
    """Each of `count` workers sends one batch every SEND_INTERVAL_S, staggered; rows sent."""
    workers.grow(count)
    sent, start = 0, time.time()
    slots = [(i * SEND_INTERVAL_S / count, i) for i in range(count)]
    next_heartbeat = start
    tick = 0
    while True:
        base = start + tick * SEND_INTERVAL_S
        if base >= start + seconds:
            return sent
        for offset, i in slots:
            due = base + offset
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            workers.send(i, "authsurge_records",
                         {"worker": f"worker-{i}", "data": pool[(tick + i) % len(pool)], "run": "bench",
                          "created": due})
            sent += ROWS_PER_MESSAGE
            if time.time() >= next_heartbeat:
                workers.heartbeats()
                next_heartbeat += 1.0
        tick += 1


def step_figures(landed: list[list[float]], start: float, end: float, offered: float) -> dict:
    import numpy as np

    rows = sum(r for t, r, _ in landed if start <= t < end)
    # the lag of the batches sent during the step, whenever they landed
    lags = np.array([lag for t, _, lag in landed if start <= t - lag < end] or [float("nan")])
    return {"absorbed": rows / (end - start), "offered": offered,
            "lag_p50_ms": float(np.nanpercentile(lags, 50) * 1000),
            "lag_p99_ms": float(np.nanpercentile(lags, 99) * 1000)}


def measure(live: bool, step_s: float, max_workers: int, pool: list[bytes], cpus: tuple[int, int]) -> dict:
    """One master (live view on or off) through growing steps until it saturates."""
    import psutil

    master_cpu, _ = cpus
    with tempfile.TemporaryDirectory(prefix="authsurge-bench-ingest-") as tmp:
        port_file, run_dir, log_file = Path(tmp, "port"), Path(tmp, "run"), Path(tmp, "landed.json")
        master = subprocess.Popen(
            ["taskset", "-c", str(master_cpu), sys.executable, __file__, "--serve-master",
             str(port_file), str(run_dir), str(log_file), *(["--live", "on"] if live else [])],
        )
        try:
            deadline = time.time() + 30
            while not port_file.exists() or not port_file.read_text():
                if time.time() > deadline or master.poll() is not None:
                    raise RuntimeError("the master did not start")
                time.sleep(0.05)
            proc = psutil.Process(master.pid)
            workers = FakeWorkers(int(port_file.read_text()))
            steps, count = [], 4
            while count <= max_workers:
                cpu0, t0 = proc.cpu_times(), time.time()
                sent = replay(workers, count, step_s, pool)
                cpu1, t1 = proc.cpu_times(), time.time()
                steps.append({"workers": count, "start": t0, "end": t1, "sent": sent,
                              "cpu_percent": ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))
                              / (t1 - t0) * 100, "rss": proc.memory_info().rss})
                print(f"  {count:4d} workers: offered {sent / (t1 - t0):>9,.0f} records/s, master CPU "
                      f"{steps[-1]['cpu_percent']:.0f}%", flush=True)
                if steps[-1]["cpu_percent"] > 90 or workers.refused:
                    break  # saturated: the figures below say by how much
                count = count * 2 if count < 32 else count + 16
            workers.send(0, "bench_close", None)
            master.wait(timeout=600)
        finally:
            if master.poll() is None:
                master.kill()
                master.wait()
        doc = json.loads(log_file.read_text())
    table = []
    for s in steps:
        figures = step_figures(doc["landed"], s["start"], s["end"], s["sent"] / (s["end"] - s["start"]))
        table.append({**s, **figures})
    held = [s for s in table if s["absorbed"] >= SATURATED_SHARE * s["offered"]
            and s["lag_p99_ms"] < SATURATED_LAG_S * 1000]
    for s in table:
        print(f"  {s['workers']:4d} workers  offered {s['offered']:>9,.0f}/s  absorbed {s['absorbed']:>9,.0f}/s  "
              f"CPU {s['cpu_percent']:5.1f}%  RSS {s['rss'] / 2**20:6.0f} MiB  "
              f"lag p50 {s['lag_p50_ms']:7.1f} ms  p99 {s['lag_p99_ms']:8.1f} ms")
    return {"live": live, "steps": table, "best": max((s["absorbed"] for s in held), default=0.0),
            "peak_rss": max([s["rss"] for s in table] + [doc["peak_rss"]]), "compact_s": doc["compact_s"],
            "missing": doc["missing_workers_max"]}


def rows_of(m: dict) -> list[dict]:
    what = "with the live view" if m["live"] else "recording only"
    rows = [
        {"metric": f"{what}: records/s one master keeps up with (absorbed >= 97% of offered, lag p99 < 250 ms)",
         "value": round(m["best"]), "unit": "records/s", "target": f">= {GOAL:,}",
         "meets_target": bool(m["best"] >= GOAL)},
        {"metric": f"{what}: generator cores one master serves (7,500 records/s each)",
         "value": int(m["best"] // 7500), "unit": "cores", "target": "", "meets_target": None},
        {"metric": f"{what}: the master's peak memory (RSS)", "value": round(m["peak_rss"] / 2**20),
         "unit": "MiB", "target": "", "meets_target": None},
        {"metric": f"{what}: compaction of the shards to Parquet at the end", "value": round(m["compact_s"], 1),
         "unit": "s", "target": "", "meets_target": None},
        {"metric": f"{what}: fake workers the master marked missing (late heartbeats)", "value": m["missing"],
         "unit": "", "target": "", "meets_target": None},
    ]
    for s in m["steps"]:
        rows.append({"metric": f"{what}, {s['workers']} workers: absorbed of {s['offered']:,.0f} offered; "
                               f"master CPU, RSS, lag p50/p99 {s['cpu_percent']:.0f}%, {s['rss'] / 2**20:.0f} MiB, "
                               f"{s['lag_p50_ms']:.0f}/{s['lag_p99_ms']:.0f} ms",
                     "value": round(s["absorbed"]), "unit": "records/s", "target": "", "meets_target": None})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step-s", type=float, default=6.0, help="seconds at each rate")
    parser.add_argument("--max-workers", type=int, default=256, help="the last step's fake workers")
    parser.add_argument("--live", choices=("off", "on", "both"), default="both",
                        help="the master also feeds the live view (authsurge run --web or --metrics): "
                             "off, on, or one master of each (default)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve-master", nargs=3, metavar=("PORT_FILE", "RUN_DIR", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_master:
        serve_master(*(Path(p) for p in args.serve_master), live=args.live == "on")
        return 0
    if len(os.sched_getaffinity(0)) < 2:
        print("needs two CPUs: the master on one, the fake workers on the other", file=sys.stderr)
        return 2
    cpus = tuple(sorted(os.sched_getaffinity(0))[:2])
    os.sched_setaffinity(0, {cpus[1]})
    pool = payloads(4, ROWS_PER_MESSAGE)
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.live]
    rows, steps = [], {}
    for live in modes:
        print(f"  the master {'with' if live else 'without'} the live view:", flush=True)
        m = measure(live, args.step_s, args.max_workers, pool, cpus)  # type: ignore[arg-type]
        rows += rows_of(m)
        steps["live" if live else "recording"] = m["steps"]
    for row in rows:
        if "workers:" not in row["metric"]:
            print(f"  {row['metric']}: {row['value']} {row['unit']} (target {row['target'] or '-'})")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "ingest", "steps": steps, "rows": rows}, indent=2))
    return 0 if all(r["meets_target"] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
