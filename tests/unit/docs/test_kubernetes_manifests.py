"""docs/kubernetes.md's manifests are valid Kubernetes objects (the API's own schemas, by
kubernetes-validate, offline: no cluster here), and their sizes follow the measured limits
the page states (bench/bench_ingest.py: the generator cores one master serves)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

DOC = Path(__file__).resolve().parents[3] / "docs" / "kubernetes.md"
# the newest schemas the validator has, and an older release clusters still run
VERSIONS = [kubernetes_validate.latest_version(), "1.30"]


def manifests() -> list[dict[str, Any]]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    return [doc for block in blocks for doc in yaml.safe_load_all(block) if doc]


def by_kind(kind: str) -> dict[str, Any]:
    (found,) = [m for m in manifests() if m["kind"] == kind]
    return found


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    (only,) = manifest["spec"]["template"]["spec"]["containers"]
    return only


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_api_schema(version: str) -> None:
    docs = manifests()
    assert {d["kind"] for d in docs} >= {"Job", "Service", "Deployment"}
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_refuses_a_broken_manifest() -> None:
    """What the test above relies on: a wrong type and an unknown field fail."""
    worker = copy.deepcopy(by_kind("Deployment"))
    worker["spec"]["replicas"] = "eight"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, VERSIONS[0], strict=True)
    worker = copy.deepcopy(by_kind("Deployment"))
    container(worker)["resources"]["cpus"] = "1"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, VERSIONS[0], strict=True)


def test_the_master_waits_for_as_many_workers_as_the_deployment_runs() -> None:
    args = container(by_kind("Job"))["args"]
    expected = int(args[args.index("--expect-workers") + 1])
    assert expected == by_kind("Deployment")["spec"]["replicas"]


def test_each_worker_is_one_whole_core_and_no_more_than_one_master_serves() -> None:
    """One gevent process uses one core (request = limit = 1, never throttled); the page's
    measured figure bounds the replicas."""
    resources = container(by_kind("Deployment"))["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == "1"
    served = re.search(r"one master serves\s+about\s+([\d,]+)\s+generator\s+cores", DOC.read_text())
    assert served, "docs/kubernetes.md states the generator cores one master serves"
    assert by_kind("Deployment")["spec"]["replicas"] <= int(served.group(1).replace(",", ""))


def test_the_master_gets_the_core_and_the_memory_it_was_measured_with() -> None:
    """Its limit holds what it was measured to need taking records in and, with the Job's
    --analyze, analysing them."""
    resources = container(by_kind("Job"))["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == "1"
    text = DOC.read_text()
    ingesting = re.search(r"its\s+memory\s+peaked\s+at\s+([\d.]+)\s+GiB", text, re.IGNORECASE)
    analysing = re.search(r"--analyze`\s+at\s+the\s+end\s+needs\s+more:\s+up\s+to\s+([\d.]+)\s+GiB", text)
    assert ingesting and analysing, "docs/kubernetes.md states the master's measured memory"
    assert "--analyze" in container(by_kind("Job"))["args"]
    limit = resources["limits"]["memory"]
    needed = max(float(ingesting.group(1)), float(analysing.group(1)))
    assert limit.endswith("Gi") and float(limit[:-2]) >= needed
