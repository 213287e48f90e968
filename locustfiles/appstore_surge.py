"""The App-Store surge, open model, under Locust's own command line and web UI.

    authsurge target serve --users 2000 --signup --smtp-port 2525    # another shell
    locust -f locustfiles/appstore_surge.py                           # then open :8089

Runs scenarios/appstore_surge.yaml (or `--scenario FILE`, env AUTHSURGE_SCENARIO) as
`authsurge run` does: arrivals on the scenario's schedule, retries, the signed-in
population. One authsurge driver per Locust worker (`--processes N`, `--master` and
`--worker` work); each start writes a run directory under runs/ (`--runs-dir`) for
`authsurge analyze`. The live per-step page is at /authsurge on the web UI;
`--metrics HOST:PORT` serves /metrics. See the README, "Live".
"""

from __future__ import annotations

from pathlib import Path

from authsurge.run.hosted import SurgeDriver, SurgeShape, install

# beside this file, wherever locust is started from
install(default_scenario=str(Path(__file__).resolve().parents[1] / "scenarios" / "appstore_surge.yaml"))

__all__ = ["SurgeDriver", "SurgeShape"]
