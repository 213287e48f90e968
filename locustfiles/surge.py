"""Run an authsurge scenario with Locust's own command line and web UI.

    AUTHSURGE_SCENARIO=scenarios/demo_spike.yaml locust -f locustfiles/surge.py

Each Locust "user" here is one *closed-model* person running the scenario's journeys
in a loop (Locust's classic user count). For the open model (arrivals on a schedule,
coordinated-omission safe) use `authsurge run`; it runs Locust underneath.
"""

from __future__ import annotations

import os

from authsurge.run.closed import journey_user_classes
from authsurge.scenario import load_scenario

_scenario = load_scenario(os.environ.get("AUTHSURGE_SCENARIO", "scenarios/demo_spike.yaml"))
# Locust picks up every User subclass defined at module level.
globals().update({cls.__name__: cls for cls in journey_user_classes(_scenario)})
