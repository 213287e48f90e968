"""The run as it happens: per-step live state for the web page and for Prometheus.

    state = LiveState(scenario, curves)       # the plan's arrivals, the knee rule
    state.start(t0)                           # when the run's clock starts
    state.observe(batch)                      # each record batch the run directory gets
    state.snapshot()                          # the live page's JSON (authsurge.live.web)
    LiveCollector(state)                      # /metrics (authsurge.live.metrics)

It reads the same record batches the run directory is written from, after they are
written, and never writes anything: the run directory stays the record, and the analysis
its only judge. The knees shown live are the analysis's own rule (authsurge.analysis.knee)
over five-second windows, a preview of what `authsurge analyze` will say.
"""

from authsurge.live.state import LiveState

__all__ = ["LiveState"]
