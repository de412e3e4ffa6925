"""Speed and memory of the estimators on poll-sized and larger inputs (prints figures only).

Not part of the test suite: timings depend on the machine. Usage::

    python benchmarks/speed.py
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd

from pollwaves.survey.estimation import proportions
from pollwaves.survey.glm import weighted_logit, weighted_mnlogit
from pollwaves.survey.weighting import rake

CATS = ["russia", "eu", "both", "outside", "hard_to_say"]


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(1)
    for n in (1_000, 10_000, 100_000):
        df = pd.DataFrame(
            {
                "alliance": rng.choice(CATS, n, p=[0.3, 0.1, 0.3, 0.2, 0.1]),
                "wave": rng.choice(["2022-03", "2022-11", "2023-11"], n),
                "sex": rng.choice(["f", "m"], n, p=[0.4, 0.6]),
                "age": rng.choice(["y", "m", "o"], n, p=[0.5, 0.3, 0.2]),
                "x": rng.normal(size=n),
            }
        )
        margins = {"sex": {"f": 0.54, "m": 0.46}, "age": {"y": 0.3, "m": 0.35, "o": 0.35}}
        df["w"] = rake(df, margins)
        df["yes"] = (df["alliance"] == "russia").astype(float)
        rows = {
            "rake (2 margins)": _best(lambda d=df, m=margins: rake(d, m)),
            "proportions, calibrated, by wave": _best(
                lambda d=df: proportions(
                    d, "alliance", "w", by="wave", calibrated_on=["sex", "age"]
                )
            ),
            "weighted_logit (6 coef.)": _best(
                lambda d=df: weighted_logit(d, "yes ~ C(wave) + C(sex) + x", "w")
            ),
            "weighted_mnlogit (20 coef.) + shares": _best(
                lambda d=df: weighted_mnlogit(
                    d, "alliance ~ C(wave) + C(sex) + x", "w"
                ).predicted_shares(by="wave")
            ),
        }
        for name, sec in rows.items():
            print(f"n={n:>7,}  {name:<40} {sec * 1000:9.1f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
