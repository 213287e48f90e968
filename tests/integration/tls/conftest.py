"""An embedded target served over HTTPS with a certificate from a CA the test makes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from authsurge.target import TargetOptions, TargetProcess, start_target
from tests.support.certs import Certs, make_certs
from tests.support.target import TEST_HASHER_ITERATIONS, TargetSecrets, seed_data_dir


@dataclass(frozen=True)
class TlsTarget:
    process: TargetProcess
    certs: Certs

    @property
    def base_url(self) -> str:
        return self.process.base_url


@pytest.fixture(scope="module")
def tls_target(target_env: TargetSecrets, target: TargetProcess,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsTarget]:
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    data_dir = tmp_path_factory.mktemp("tls-target")
    seed_data_dir(target.data_dir, data_dir)
    proc = start_target(TargetOptions(port=0, users=20, workers=1, threads=4,
                                      hasher_iterations=TEST_HASHER_ITERATIONS, data_dir=data_dir,
                                      certfile=certs.cert, keyfile=certs.key, startup_timeout_s=30),
                        log=lambda line: None)
    try:
        yield TlsTarget(proc, certs)
    finally:
        proc.stop()
