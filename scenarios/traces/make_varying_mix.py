"""Write varying_mix.csv: three journey types whose arrival rates rise and fall with their
own periods (11, 17 and 7 s), so that each step's request rate varies on its own and the
cost model can tell the steps apart (a fixed-share mix makes them collinear).

    python scenarios/traces/make_varying_mix.py    # deterministic: rewrites the CSV
"""

from __future__ import annotations

import math
from pathlib import Path

SECONDS = 600
COLUMNS = {"browse": (11, 0.0), "signin": (17, 1.0), "full": (7, 2.0)}  # period s, phase


def rows(seconds: int = SECONDS) -> list[str]:
    out = ["# made by make_varying_mix.py: 3 + 2.5 sin(2 pi t / period + phase) arrivals/s",
           "t_s," + ",".join(COLUMNS)]
    for t in range(seconds + 1):
        rates = (3 + 2.5 * math.sin(2 * math.pi * t / p + phase) for p, phase in COLUMNS.values())
        out.append(f"{t}," + ",".join(f"{r:.3f}" for r in rates))
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("varying_mix.csv")
    path.write_text("\n".join(rows()) + "\n")
    print(f"wrote {path}")
