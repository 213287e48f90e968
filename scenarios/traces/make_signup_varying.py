"""Write signup_varying.csv: the five journey types of scenarios/signup_varying.yaml
arriving at rates that rise and fall with their own periods (11, 17, 7, 13 and 19 s), so that
the cost model can tell the sign-up steps from the sign-in steps (a fixed-share mix makes
them collinear).

    python scenarios/traces/make_signup_varying.py    # deterministic: rewrites the CSV
"""

from __future__ import annotations

import math
from pathlib import Path

SECONDS = 600
# column: (period s, phase)
COLUMNS = {"signup_only": (11, 0.0), "new_verified": (17, 1.0), "new_by_code": (7, 2.0),
           "returning": (13, 3.0), "new_by_link": (19, 4.0)}


def rows(seconds: int = SECONDS) -> list[str]:
    out = ["# made by make_signup_varying.py: 1.2 + 1.0 sin(2 pi t / period + phase) arrivals/s",
           "t_s," + ",".join(COLUMNS)]
    for t in range(seconds + 1):
        rates = (1.2 + 1.0 * math.sin(2 * math.pi * t / p + phase) for p, phase in COLUMNS.values())
        out.append(f"{t}," + ",".join(f"{r:.3f}" for r in rates))
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("signup_varying.csv")
    path.write_text("\n".join(rows()) + "\n")
    print(f"wrote {path}")
