"""Universal Scalability Law fit: X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1)).

N is the concurrency (records in flight, time-averaged over a curve point's windows) and
X the goodput at that point. sigma is contention (serialisation), kappa coherency
(crosstalk), lambda the throughput of one unit of concurrency. Throughput peaks at
N* = sqrt((1 - sigma) / kappa) when kappa > 0.

Two estimators:

- ``nonlinear`` (default): least squares on X with lambda, sigma, kappa all free
  (sigma in [0, 1], kappa >= 0). Needs no measurement at N = 1, which open-model load
  tests never have. On the SPEC SDM91 data it gives sigma = 0.0277, kappa = 1.04e-4,
  N* = 96 (lambda = 90.0, not the measured X(1) = 64.9).
- ``normalised``: Gunther's original procedure (Guerrilla Capacity Planning, 5.2.3):
  lambda = X(1), C(N) = X(N)/X(1), and a quadratic through the origin fitted to
  N/C - 1 = kappa (N-1)^2 + (sigma + kappa)(N-1). Needs a point at N = 1; it trusts X(1)
  exactly, so on SPEC SDM91 it gives sigma = 0.0170, kappa = 7.89e-5, N* = 112 (the
  coefficients the R `usl` package reports for that data set).

A fitted model is not a licence to extrapolate: a peak beyond `max_extrapolation` (2x)
times the highest measured concurrency is not reported, and the output says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

MAX_EXTRAPOLATION = 2.0


@dataclass
class UslFit:
    sigma: float
    kappa: float
    lam: float
    r2: float
    n_points: int
    n_max_measured: float
    peak_n: float | None  # N*, only when within max_extrapolation x n_max_measured
    peak_throughput: float | None  # X(N*)
    peak_status: str  # "predicted", "beyond_range", "no_peak"
    method: str
    note: str

    def predict(self, n: np.ndarray | float) -> np.ndarray:
        return usl(np.asarray(n, dtype=float), self.lam, self.sigma, self.kappa)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "fitted",
            "sigma": self.sigma,
            "kappa": self.kappa,
            "lambda": self.lam,
            "r2": self.r2,
            "n_points": self.n_points,
            "n_max_measured": self.n_max_measured,
            "peak_n": self.peak_n,
            "peak_throughput": self.peak_throughput,
            "peak_status": self.peak_status,
            "method": self.method,
            "note": self.note,
        }


def usl(n: np.ndarray, lam: float, sigma: float, kappa: float) -> np.ndarray:
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def fit_usl(
    n: np.ndarray | list[float],
    x: np.ndarray | list[float],
    *,
    method: str = "nonlinear",
    max_extrapolation: float = MAX_EXTRAPOLATION,
) -> UslFit:
    """Fit the USL to concurrency n and throughput x; ValueError when the data cannot carry it."""
    n_all = np.asarray(n, dtype=float)
    x_all = np.asarray(x, dtype=float)
    keep = np.isfinite(n_all) & np.isfinite(x_all) & (n_all > 0) & (x_all > 0)
    conc, tput = n_all[keep], x_all[keep]
    if np.unique(conc).size < 3:
        raise ValueError(
            f"needs at least 3 distinct concurrency levels, has {np.unique(conc).size}"
        )
    if method == "nonlinear":
        lam, sigma, kappa = _fit_nonlinear(conc, tput)
    elif method == "normalised":
        lam, sigma, kappa = _fit_normalised(conc, tput)
    else:
        raise ValueError(f"unknown method {method!r}; use 'nonlinear' or 'normalised'")
    fitted = usl(conc, lam, sigma, kappa)
    ss_tot = float(np.sum((tput - tput.mean()) ** 2))
    r2 = 1.0 - float(np.sum((tput - fitted) ** 2)) / ss_tot if ss_tot > 0 else math.nan
    n_max = float(conc.max())
    limit = max_extrapolation * n_max
    # a kappa whose term stays below 1e-6 across the data is numerical dust, not coherency
    if kappa * n_max * n_max > 1e-6 and sigma < 1:
        n_star = math.sqrt((1.0 - sigma) / kappa)
        if n_star <= limit:
            peak_n, peak_x, status = (
                n_star,
                float(usl(np.array(n_star), lam, sigma, kappa)),
                "predicted",
            )
            note = f"throughput peaks at N* = {n_star:,.3g} (measured up to {n_max:,.3g})"
        else:
            peak_n, peak_x, status = None, None, "beyond_range"
            note = (
                f"no peak predicted: the fit puts N* at {n_star:,.3g}, beyond {max_extrapolation:g}x "
                f"the highest measured concurrency ({n_max:,.3g}); not extrapolated"
            )
    else:
        peak_n, peak_x, status = None, None, "no_peak"
        note = "no retrograde term (kappa = 0): throughput levels off towards lambda/sigma"
        if sigma > 0:
            note += f" = {lam / sigma:,.4g}, which lies beyond the measured range; not extrapolated"
    return UslFit(
        float(sigma),
        float(kappa),
        float(lam),
        r2,
        int(conc.size),
        n_max,
        peak_n,
        peak_x,
        status,
        method,
        note,
    )


def _fit_nonlinear(n: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    # lambda from the best per-unit throughput; sigma and kappa from a few starts, since the
    # surface is flat along kappa when the data barely bend
    lam0 = float(np.max(x / n))
    scale = float(np.max(x))
    best: tuple[float, np.ndarray] | None = None
    for s0 in (0.01, 0.1, 0.5):
        for k0 in (1e-6, 1e-4, 1e-2):
            start = np.array([lam0, s0, k0 / max(1.0, n.max() / 10)])
            try:
                res = least_squares(
                    lambda p: (usl(n, *p) - x) / scale,
                    start,
                    bounds=([1e-12, 0.0, 0.0], [np.inf, 1.0, np.inf]),
                    x_scale="jac",
                    method="trf",
                    max_nfev=2000,
                )
            except ValueError:
                continue
            if best is None or res.cost < best[0]:
                best = (res.cost, res.x)
    if best is None:
        raise ValueError("the USL fit did not converge")
    lam, sigma, kappa = best[1]
    return float(lam), float(sigma), float(kappa)


def _fit_normalised(n: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    ones = np.flatnonzero(np.isclose(n, 1.0))
    if ones.size == 0:
        raise ValueError("the normalised (Gunther) fit needs a measurement at N = 1")
    lam = float(x[ones].mean())
    c = x / lam
    dx = n - 1.0
    dy = n / c - 1.0
    design = np.column_stack([dx**2, dx])
    (a, b), *_ = np.linalg.lstsq(design, dy, rcond=None)
    return lam, float(b - a), float(a)


def usl_for_points(points: pd.DataFrame) -> dict[str, Any]:
    """The USL fit of one step's curve (concurrency vs goodput), or why there is none."""
    try:
        fit = fit_usl(points["concurrency"].to_numpy(), points["goodput_rps"].to_numpy())
    except ValueError as exc:
        return {"status": "not fitted", "note": str(exc)}
    return fit.to_json()
