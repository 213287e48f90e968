"""Any scenario's open-model surge under Locust's own command line and web UI.

    locust -f locustfiles/scenario.py --scenario scenarios/demo_spike.yaml
    AUTHSURGE_SCENARIO=scenarios/demo_spike.yaml locust -f locustfiles/scenario.py --headless

The same as locustfiles/appstore_surge.py, with no default scenario: `--scenario` (or
AUTHSURGE_SCENARIO) is required.
"""

from __future__ import annotations

from authsurge.run.hosted import SurgeDriver, SurgeShape, install

install()

__all__ = ["SurgeDriver", "SurgeShape"]
