"""USL fits against known answers: planted coefficients and the SPEC SDM91 data set."""

from __future__ import annotations

import numpy as np
import pytest

from authsurge.analysis.usl import fit_usl, usl

# SPEC SDM91, Sun SPARCcenter 2000 (16 CPUs), October 1994: users vs scripts/hour, as used in
# Gunther, Guerrilla Capacity Planning (2007) and the R `usl` package's `specsdm91`.
SDM91_N = [1, 18, 36, 72, 108, 144, 216]
SDM91_X = [64.9, 995.9, 1652.4, 1853.2, 1828.9, 1775.0, 1702.2]


def test_planted_coefficients_are_recovered_exactly_without_noise() -> None:
    n = np.array([1, 2, 4, 8, 16, 24, 32, 48, 64], dtype=float)
    x = usl(n, 120.0, 0.04, 3e-4)
    fit = fit_usl(n, x)
    assert fit.sigma == pytest.approx(0.04, rel=1e-4)
    assert fit.kappa == pytest.approx(3e-4, rel=1e-4)
    assert fit.lam == pytest.approx(120.0, rel=1e-5)
    assert fit.r2 == pytest.approx(1.0)
    assert fit.peak_n == pytest.approx(np.sqrt(0.96 / 3e-4))
    assert fit.peak_status == "predicted"


def test_planted_coefficients_are_recovered_from_noisy_points() -> None:
    rng = np.random.default_rng(11)
    n = np.linspace(1, 80, 25)
    x = usl(n, 50.0, 0.05, 2e-4) * rng.normal(1.0, 0.01, n.size)
    fit = fit_usl(n, x)
    assert fit.sigma == pytest.approx(0.05, abs=0.01)
    assert fit.kappa == pytest.approx(2e-4, rel=0.15)
    assert fit.peak_n == pytest.approx(np.sqrt(0.95 / 2e-4), rel=0.1)
    assert fit.r2 > 0.99


def test_spec_sdm91_published_coefficients() -> None:
    # The published sigma = 0.0277, kappa = 1.04e-4, N* = 96 are the least-squares fit with
    # lambda free (lambda = 90.0, above the measured X(1) = 64.9).
    fit = fit_usl(SDM91_N, SDM91_X)
    assert fit.sigma == pytest.approx(0.0277, abs=0.0002)
    assert fit.kappa == pytest.approx(1.04e-4, abs=0.01e-4)
    assert fit.lam == pytest.approx(90.0, abs=0.2)
    assert fit.peak_n == pytest.approx(96, abs=1)
    assert fit.peak_throughput == pytest.approx(1884, abs=5)
    assert fit.r2 == pytest.approx(0.99, abs=0.005)


def test_spec_sdm91_normalised_by_x1() -> None:
    # Gunther's polynomial procedure with lambda = X(1): the R usl package's documented result
    # for specsdm91 (sigma 1.705e-02, kappa 7.892e-05, R^2 0.9624).
    fit = fit_usl(SDM91_N, SDM91_X, method="normalised")
    assert fit.lam == 64.9
    assert fit.sigma == pytest.approx(1.705e-2, abs=0.001e-2)
    assert fit.kappa == pytest.approx(7.892e-5, abs=0.001e-5)
    assert fit.r2 == pytest.approx(0.9624, abs=1e-4)
    assert fit.peak_n == pytest.approx(111.6, abs=0.5)


def test_a_peak_far_beyond_the_measurements_is_not_extrapolated() -> None:
    n = np.arange(1, 11, dtype=float)  # measured up to 10; the real peak is near 70
    fit = fit_usl(n, usl(n, 100.0, 0.01, 2e-4))
    assert fit.peak_status == "beyond_range"
    assert fit.peak_n is None and fit.peak_throughput is None
    assert "not extrapolated" in fit.note and "beyond 2x" in fit.note


def test_no_retrograde_term_means_no_peak() -> None:
    n = np.arange(1, 30, dtype=float)
    fit = fit_usl(n, usl(n, 10.0, 0.1, 0.0))
    assert fit.peak_status == "no_peak" and fit.peak_n is None
    assert fit.kappa == pytest.approx(0.0, abs=1e-7)


def test_too_few_points_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="at least 3 distinct"):
        fit_usl([1, 2], [10, 20])
    with pytest.raises(ValueError, match="N = 1"):
        fit_usl([2, 4, 8], [10, 20, 30], method="normalised")


def test_step_usl_in_the_analysis(ramp_analysis) -> None:
    usl_json = ramp_analysis.steps["login.submit"]["usl"]
    assert usl_json["status"] == "fitted"
    assert set(usl_json) >= {"sigma", "kappa", "lambda", "r2", "peak_n", "peak_status", "note"}
    assert 0.0 <= usl_json["sigma"] <= 1.0 and usl_json["kappa"] >= 0.0
