"""The sizing table and `plan`'s prediction, on known answers: a hand-made analysis.json
whose costs, mix and CPU are planted, and the planted-cost synthetic run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsurge.analysis import analyze_run
from authsurge.analysis.plan import Mix, predict
from authsurge.analysis.sizing import reference_text, sizing_section
from authsurge.errors import BadInput
from tests.unit.analysis.test_cost import IDLE, PLANTED, write_cost_run

REFERENCE = {"hashes_per_s_per_core": 27.5, "iterations": 100000, "cpu_s": 0.5, "hashes": 14}


def planted_doc(cpu_percent: float | None = 95.0, at_knee: float = 850.0) -> dict:
    """login.form 2 and login.submit 30 CPU-ms/request, 50 CPU-ms/s idle; browse makes a
    login.form, sign_in a login.form and a login.submit; planned peaks 60 and 40 journeys/s;
    the run's first knee (login.form) at a CPU of `cpu_percent` of one core, 90% just below
    it, where the model gives the requests `at_knee` CPU-ms/s (850: the model is right)."""

    def step(kind: str | None) -> dict:
        return {"knee": {"reached": True, "capacity": 50.0, "offered": 50.0},
                "bottleneck": {"kind": kind, "target_cpu_percent": cpu_percent,
                               "cpu_percent_before_knee": 90.0, "target_cpu_count": 1}}

    kind = "cpu" if cpu_percent is not None else "none"
    return {
        "run": {"id": "planted"},
        "cost": [{"resource": "target CPU", "fitted": True, "idle": 50.0, "at_knee": at_knee, "units": [
            {"steps": ["login.form"], "separable": True, "cost_per_request": 2.0,
             "interval": [1.5, 2.5], "per_journey": None},
            {"steps": ["login.submit"], "separable": True, "cost_per_request": 30.0,
             "interval": [25.0, 40.0], "per_journey": None}]}],
        "steps": {"login.form": step(kind), "login.submit": step(kind)},
        "first_to_fail": [{"step": "login.form", "reached": True}],
        "verdict": {"demand_basis": "schedule", "peak_arrivals": 100.0,
                    "journeys": {"browse": 60.0, "sign_in": 40.0},
                    "steps": {"login.form": {"peak_demand": 100.0,
                                             "requests_per_arrival": {"browse": 1.0, "sign_in": 1.0}},
                              "login.submit": {"peak_demand": 40.0,
                                               "requests_per_arrival": {"sign_in": 1.0}}}},
    }


def test_the_table_gives_requests_per_vcpu_and_the_vcpus_of_the_planned_peak() -> None:
    section = sizing_section(planted_doc(), REFERENCE, headroom=1.5)
    rows = {r["name"]: r for r in section["rows"]}
    assert rows["login.submit"]["per_vcpu"] == pytest.approx(1000 / 30)
    assert rows["login.submit"]["per_vcpu_interval"] == pytest.approx([25.0, 40.0])
    # 50 idle + 100 x 2 + 40 x 30 = 1,450 CPU-ms/s
    assert section["vcpus"] == pytest.approx(1.45)
    assert section["vcpus_with_headroom"] == pytest.approx(1.45 * 2.5)
    assert section["dominant"]["name"] == "login.submit"
    assert section["dominant"]["share"] == pytest.approx(1200 / 1400)
    assert "27.5 PBKDF2-SHA256 hashes/s per core at 100,000 iterations" in section["reference_text"]


def test_a_stated_peak_scales_the_plan() -> None:
    section = sizing_section(planted_doc(), None, peak=1000.0, headroom=0.0)
    assert section["vcpus"] == pytest.approx((50 + 10 * 1400) / 1000)
    assert section["peak_basis"] == "stated" and section["vcpus_with_headroom"] == section["vcpus"]
    assert "no machine reference" in section["reference_text"]


def test_plan_predicts_the_knee_of_another_mix_from_the_cpu_at_the_knee() -> None:
    # 950 CPU-ms/s at the knee - 50 idle = 900 for requests; half sign in: 2 + 0.5 x 30 = 17
    plan = predict(planted_doc(), Mix({"browse": 10.0, "sign_in": 10.0}), peak=100.0,
                   headroom=1.5)
    assert plan["cpu_per_arrival"] == pytest.approx(17.0)
    assert plan["knee_arrivals"] == pytest.approx(900 / 17)
    assert set(plan["first_to_fail"]) == {"login.form", "login.submit"}
    assert plan["cause"] == "login.submit"
    assert plan["steps"]["login.submit"]["knee_offered"] == pytest.approx(900 / 17 / 2)
    assert plan["multiple_needed"] == pytest.approx(100 / (900 / 17))
    assert plan["vcpus"] == pytest.approx((50 + 100 * 17) / 1000)


def test_a_model_that_reads_low_at_the_knee_is_brought_to_the_measured_cpu() -> None:
    # 900 - 50 = 850 CPU-ms/s measured just below the knee, the model says 425: costs x 2
    doc = planted_doc(at_knee=425.0)
    plan = predict(doc, Mix({"browse": 10.0, "sign_in": 10.0}), peak=100.0)
    assert plan["cpu_per_arrival"] == pytest.approx(34.0)
    assert plan["knee_arrivals"] == pytest.approx(900 / 34)
    assert sizing_section(doc, None, headroom=0.0)["vcpus"] == pytest.approx((50 + 2 * 1400) / 1000)


def test_without_a_cpu_bound_knee_the_plan_assumes_all_the_target_cores() -> None:
    doc = planted_doc(cpu_percent=None)
    plan = predict(doc, Mix({"sign_in": 1.0}))  # (1,000 - 50) / 32 CPU-ms per arrival
    assert plan["knee_arrivals"] == pytest.approx(950 / 32)
    assert "all 1 of the target's cores" in plan["cpu_source"]
    # a step limited by something other than the CPU keeps its capacity: 50 req/s
    plan = predict(doc, Mix({"browse": 1.0}))
    assert plan["knee_arrivals"] == pytest.approx(50.0)
    assert plan["steps"]["login.form"]["limit"] == "own capacity"


def test_a_journey_the_run_did_not_make_is_planned_from_its_steps() -> None:
    plan = predict(planted_doc(), Mix({"signup": 1.0}, {"signup": ["login.form", "login.submit"]}))
    assert plan["cpu_per_arrival"] == pytest.approx(32.0)
    assert plan["notes"]


def test_steps_the_run_never_measured_are_named() -> None:
    mix = Mix({"sign_in": 1.0, "cli": 1.0}, {"cli": ["device.authorize", "device.poll"]})
    with pytest.raises(BadInput, match="device.authorize, device.poll"):
        predict(planted_doc(), mix)


def test_the_planted_cost_run_sizes_the_password_step_at_its_planted_cost(tmp_path: Path) -> None:
    run = write_cost_run(tmp_path / "run")
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "reference": REFERENCE}))
    doc = analyze_run(run).to_json()
    sizing = doc["sizing"]
    row = next(r for r in sizing["rows"] if r["name"] == "login.submit")
    low, high = row["per_vcpu_interval"]
    assert low <= 1000 / PLANTED["login.submit"] <= high
    assert sizing["idle"] == pytest.approx(IDLE, rel=0.5)
    assert sizing["reference"]["hashes_per_s_per_core"] == 27.5
    finding = next(f for f in doc["findings"] if f["kind"] == "sizing")
    assert finding["vcpus"] == sizing["vcpus"] > 0


def test_the_reference_text_names_the_unit_of_work() -> None:
    assert reference_text(REFERENCE).startswith("this machine: 27.5 PBKDF2-SHA256")


def test_the_section_says_how_the_costs_were_calibrated() -> None:
    section = sizing_section(planted_doc(at_knee=425.0), None)
    assert section["calibration"]["factor"] == pytest.approx(2.0)
    assert section["calibration"]["step"] == "login.form"
    section = sizing_section(planted_doc(cpu_percent=None), None)
    assert section["calibration"]["factor"] == 1.0 and section["calibration"]["step"] is None


def with_population(doc: dict) -> dict:
    """The signed-in population's API beside the surge: 1 CPU-ms a request, 20 req/s
    observed, made by no journey."""
    doc["cost"][0]["units"].append({"steps": ["population:api.call"], "separable": True,
                                    "cost_per_request": 1.0, "interval": [0.5, 1.5],
                                    "per_journey": None})
    doc["steps"]["population:api.call"] = {"knee": {"reached": False, "capacity": 20.0},
                                           "bottleneck": {"kind": "none"}, "offered_max": 20.0}
    doc["verdict"]["steps"]["population:api.call"] = {"peak_demand": 0.0,
                                                      "requests_per_arrival": {}}
    return doc


def test_the_population_is_sized_at_its_observed_peak_and_left_out_of_the_budget() -> None:
    doc = with_population(planted_doc())
    section = sizing_section(doc, None, peak=1000.0, headroom=0.0)
    row = next(r for r in section["rows"] if r["name"] == "population:api.call")
    assert row["peak_rps"] == 20.0 and not row["planned"]  # not scaled with the surge
    assert section["vcpus"] == pytest.approx((50 + 10 * 1400 + 20) / 1000)
    plan = predict(doc, Mix({"browse": 10.0, "sign_in": 10.0}))
    assert plan["knee_arrivals"] == pytest.approx((900 - 20) / 17)
    assert any("no journey makes" in n for n in plan["notes"])


def test_a_stated_peak_without_a_schedule_says_why_no_vcpus_are_given() -> None:
    from authsurge.analysis.sizing import finding_fields
    from authsurge.analysis.wording.technical import sizing_lines

    doc = planted_doc()
    doc["verdict"].update(demand_basis="observed", peak_arrivals=None)
    section = sizing_section(doc, None, peak=1000.0)
    assert section["available"] and section["vcpus"] is None and "no planned schedule" in section["note"]
    lines = sizing_lines({"kind": "sizing", **finding_fields(section)})
    assert lines[-1] == f"  note: {section['note']}"


def test_a_journey_whose_steps_changed_is_planned_from_its_new_steps() -> None:
    plan = predict(planted_doc(), Mix({"sign_in": 1.0}, {"sign_in": ["login.form"]}))
    assert plan["cpu_per_arrival"] == pytest.approx(2.0)
    assert any("differ" in n for n in plan["notes"])


def test_the_prediction_beside_a_later_run_without_one_of_its_steps_is_not_measured() -> None:
    from authsurge.analysis.plan import predicted_vs_measured

    later = planted_doc()
    later["run"]["id"] = "later"
    del later["steps"]["login.submit"]
    later["first_to_fail"] = [{"step": "login.form", "reached": True,
                               "rank_by": "journey arrivals/s", "knee": 50.0}]
    shown = predicted_vs_measured(planted_doc(), later)
    rows = {r["what"]: r for r in shown["rows"]}
    assert rows["login.submit knee (req/s offered)"]["measured"] is None
    assert rows["first knee (journeys/s)"]["measured"] == 50.0
    assert rows["first knee (journeys/s)"]["error"] is not None
