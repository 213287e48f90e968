"""Writes appstore_surge.csv: a synthetic trace of an app climbing to #1 in the App Store.

Run: python scenarios/traces/make_appstore_surge.py  (deterministic: fixed seed)

Six hours of real time at one row a minute, rates in arrivals per second:
- 0:00-3:00 "weeks of slow growth", compressed: logins grow log-linearly from 1.0/s
  to 2.5/s with a gentle daily wobble;
- 3:00 Monday 9 a.m. after the #1 feature: logins rise to 30x the starting baseline
  within 20 minutes (a logistic ramp), hold for an hour with +/-8% noise;
- then decay over 90 minutes to an elevated 6x plateau (the new normal).
- OIDC app logins are 60% of web form logins (the mobile app signs in via OIDC);
- new people signing up on the web (web_signup): a fifth of the web logins before the
  surge, one and a half times them at its peak (most of a #1 surge is people who have no
  account yet), half of them on the new plateau;
- API sessions (people already signed in calling the API) follow the signed-in
  population: a leaky integral of logins (mean session 25 min), so they peak later
  and lower relative to their baseline than logins: the API "stays up" while logins fall over.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("appstore_surge.csv")


def make(seed: int = 20261124) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(0, 6 * 3600 + 1, 60.0)
    hours = t / 3600
    growth = np.exp(np.log(2.5) * np.clip(hours / 3, 0, 1)) * (1 + 0.05 * np.sin(2 * np.pi * hours / 1.5))
    surge = 1 / (1 + np.exp(-(hours - 3.17) * 25))  # 20-minute rise centred at 3:10
    decay = np.where(hours < 4.33, 1.0, np.exp(-(hours - 4.33) / 0.6))
    peak_extra = (30 - 2.5) * surge * decay + (6 - 2.5) * surge * (1 - decay)
    logins = (growth + peak_extra) * (1 + 0.08 * rng.standard_normal(len(t)) * surge)
    logins = np.clip(logins, 0.2, None)
    # signed-in population: leaky integral of logins with a 25-minute mean session
    population = np.zeros_like(logins)
    for i in range(1, len(t)):
        population[i] = population[i - 1] * np.exp(-60 / 1500) + logins[i] * 60
    api = 0.4 * population / 1500 + 1.0  # API sessions start in proportion to who is signed in
    new_share = 0.2 + 1.3 * surge * decay + 0.3 * surge * (1 - decay)
    return {"t_s": t, "web_login": logins, "app_login": 0.6 * logins, "api_session": api,
            "web_signup": new_share * logins}


def main() -> None:
    cols = make()
    with open(OUT, "w", newline="") as f:
        f.write("# synthetic App-Store #1 surge: see make_appstore_surge.py and README.md beside it\n")
        w = csv.writer(f)
        w.writerow(list(cols))
        for row in zip(*cols.values(), strict=True):
            w.writerow([f"{row[0]:.0f}", *(f"{v:.4f}" for v in row[1:])])
    print(f"wrote {OUT} ({len(cols['t_s'])} rows)")


if __name__ == "__main__":
    main()
