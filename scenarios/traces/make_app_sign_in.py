"""Write app_sign_in.csv: the four journey types of scenarios/app_sign_in.yaml arriving at
rates that rise and fall with their own periods (11, 17, 7 and 13 s), so that the
cost model can tell the JSON login, the TOTP check, the password grant, the HTML form
login and the API apart (a fixed-share mix makes them collinear).

    python scenarios/traces/make_app_sign_in.py    # deterministic: rewrites the CSV
"""

from __future__ import annotations

import math
from pathlib import Path

SECONDS = 600
# column: (period s, phase)
COLUMNS = {"app": (11, 0.0), "app_mfa": (17, 1.0), "legacy_app": (7, 2.0), "web": (13, 3.0)}


def rows(seconds: int = SECONDS) -> list[str]:
    out = ["# made by make_app_sign_in.py: 1.2 + 1.0 sin(2 pi t / period + phase) arrivals/s",
           "t_s," + ",".join(COLUMNS)]
    for t in range(seconds + 1):
        rates = (1.2 + 1.0 * math.sin(2 * math.pi * t / p + phase) for p, phase in COLUMNS.values())
        out.append(f"{t}," + ",".join(f"{r:.3f}" for r in rates))
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("app_sign_in.csv")
    path.write_text("\n".join(rows()) + "\n")
    print(f"wrote {path}")
