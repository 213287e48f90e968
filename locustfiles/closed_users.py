"""Locust's classic closed model: a user count, each user running journeys back to back.

    AUTHSURGE_SCENARIO=scenarios/demo_spike.yaml locust -f locustfiles/closed_users.py

Each Locust "user" here is one *closed-model* person running the scenario's journeys in
a loop: you set the user count and spawn rate. A slow target slows its own arrivals here
(coordinated omission), so it under-reports a collapse. For the App-Store surge itself
(arrivals on the scenario's schedule, retries, the signed-in population) use
`locust -f locustfiles/appstore_surge.py` or `locustfiles/scenario.py`.
"""

from __future__ import annotations

import os

from authsurge.run.closed import journey_user_classes
from authsurge.scenario import load_scenario

_scenario = load_scenario(os.environ.get("AUTHSURGE_SCENARIO", "scenarios/demo_spike.yaml"))
# Locust picks up every User subclass defined at module level.
globals().update({cls.__name__: cls for cls in journey_user_classes(_scenario)})
