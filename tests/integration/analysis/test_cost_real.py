"""Known answer, on the embedded target: the CPU-ms the cost model attributes to
login.submit grows with --hasher-iterations by what a hash costs inside the target.

The cost model sees only request counts and the target's CPU samples. The known answer is
the target's own: its hasher adds up each hash's thread CPU time (authsurge.target.hash_cpu).
It is taken in the target, during the run, because a hash timed with hashlib in a light
process can be cheaper than the same hash inside the loaded target on this shared VM
(shared caches, a busy hyperthread sibling): 10-20% in earlier unpinned runs by their own
CPU totals, by an amount that drifts; one CI run attributed 27% more than hashlib's figure.
The target and the harness are pinned to different CPUs during the runs.

TOLERANCE: the issue asks for +/-15%, which bench/bench_cost.py meets (45-s runs, 100
accounts). These 60-s runs read login.submit alone within -17..+22% in most sessions, but
one CI run read +33% (16.9 against 12.7 ms): every sign-in loads the page and submits the
password, so the fit splits the two steps' CPU noisily (that run's base read login.submit
at 4.0 [0-8.5] ms and login.form at 6.3), while their sum is tight. So the known answer is
the sign-in's two steps together, within 20% (four CI sessions' runs: -2, -2, +1, +6,
+6, -6, +1, -14%), and that most of the growth lands on login.submit, not on the page."""

from __future__ import annotations

import pytest

from authsurge.analysis import analyze_run

TOLERANCE = 0.20  # see the module docstring


def sign_in_costs(run_dir) -> tuple[float, float]:  # noqa: ANN001
    """CPU-ms per request of login.form and of login.submit, each a unit of its own."""
    analysis = analyze_run(run_dir)
    cost = next(c for c in analysis.to_json()["cost"] if c["resource"] == "target CPU")
    assert cost["fitted"], cost["note"]
    units = {tuple(u["steps"]): u["cost_per_request"] for u in cost["units"]}
    assert ("login.submit",) in units and ("login.form",) in units, \
        f"the mix must let the fit separate the steps: {list(units)}"
    return units[("login.form",)], units[("login.submit",)]


@pytest.mark.parametrize("which", [1, 2])
def test_a_sign_in_costs_more_by_the_hash_the_target_measured_and_the_submit_carries_it(
    cost_runs, which: int  # noqa: ANN001
) -> None:
    base_run, run = cost_runs[0], cost_runs[which]
    (base_form, base_submit), (form, submit) = sign_in_costs(base_run.run_dir), sign_in_costs(run.run_dir)
    measured = run.hash_ms - base_run.hash_ms
    attributed = (form + submit) - (base_form + base_submit)
    context = (run, base_run, (base_form, base_submit), (form, submit))
    assert attributed == pytest.approx(measured, rel=TOLERANCE), context
    assert submit - base_submit >= 0.5 * measured and form - base_form <= 0.5 * measured, context


def test_the_steps_without_a_password_are_not_charged_for_the_hash(cost_runs) -> None:  # noqa: ANN001
    """The API call and the sign-out cost the same whatever the hash costs. (Not the page
    against the submit in one run: a CI run split the dearer hash 12.7 to 23.0 ms between
    them, while the page's growth over the base run stayed under half the hash.)"""
    base_run, run = cost_runs[0], cost_runs[2]
    measured = run.hash_ms - base_run.hash_ms

    def others(run_dir) -> dict:  # noqa: ANN001
        doc = analyze_run(run_dir).to_json()
        cost = next(c for c in doc["cost"] if c["resource"] == "target CPU")
        return {tuple(u["steps"]): u["cost_per_request"] for u in cost["units"]
                if not {"login.form", "login.submit"} & set(u["steps"])}

    base, dear = others(base_run.run_dir), others(run.run_dir)
    assert dear and set(dear) == set(base), (base, dear)
    for steps, cost in dear.items():
        assert cost - base[steps] <= 0.25 * measured, (steps, base[steps], cost, measured)
