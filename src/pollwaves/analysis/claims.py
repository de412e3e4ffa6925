"""The claims ledger: each empirical claim of the paper, an operational test, and a verdict.

Every claim is evaluated per *window* (``reproduction``: waves the paper could have seen;
``follow-up``: every wave) and per *source* (real published toplines; real microdata, waves
with ``simulated: false``; SIMULATED microdata, a demonstration). The tests work on the
result tables of the workflow, never on respondents; all thresholds come from
``config/claims.yaml``. Each claim is a conjunction of parts (one per wave and item) decided
by :func:`pollwaves.analysis.claims_rules.decide`: intersection-union for "supported",
Holm across the parts for "not supported", and the coverage level "supported where
published (k of K)" when some waves of the window lack the data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pollwaves.analysis import claims_windows as cw
from pollwaves.analysis.claims_data import SourceData, Tables
from pollwaves.analysis.claims_rules import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    SUPPORTED,
    SUPPORTED_WHERE,
    Part,
    below,
    combine,
    decide,
    slope_test,
    within,
)
from pollwaves.analysis.claims_windows import Value
from pollwaves.survey import dist

__all__ = ["INCONCLUSIVE", "NOT_SUPPORTED", "SUPPORTED", "SUPPORTED_WHERE", "Tables", "below",
           "combine", "evaluate_claims", "within"]  # fmt: skip

LEDGER_COLUMNS = ["claim", "statement", "window", "source", "evidence", "verdict", "k", "K",
                  "waves_used", "waves_missing"]  # fmt: skip
EVIDENCE_COLUMNS = ["claim", "window", "source", "part", "wave", "item", "estimate", "bound",
                    "ci_low", "ci_high", "p_for", "p_against", "verdict", "note"]  # fmt: skip
SENSITIVITY_COLUMNS = ["claim", "window", "source", "parameter", "value", "configured",
                       "verdict", "k", "K"]  # fmt: skip
#: claim -> the parameter its sensitivity table varies
SENSITIVITY_PARAMETER = {"army_small": "threshold", "no_majority_support": "threshold",
                         "attitudes_not_radically_changed": "radical_change",
                         "stance_gap": "min_gap", "neutral_shift": "tolerance",
                         "neutral_stable": "max_abs_slope_per_year"}  # fmt: skip


def _part(wave, item, name, v: Value, p: tuple[float, float], note="") -> Part:
    est = v.vlow if v.bound == "≥" else v.vhigh if v.bound == "≤" else v.estimate
    return Part(wave, item, name, est, v.lo, v.hi, p[0], p[1],
                "; ".join(x for x in (v.note, note) if x), v.bound)  # fmt: skip


class _Claims:
    """The claims: each returns ``(parts, K waves, covered waves)`` for one source/window."""

    def __init__(self, cfg: dict, fieldwork: dict, invasion: pd.Timestamp, alpha: float):
        self.cfg, self.fw, self.invasion, self.alpha = cfg, fieldwork, invasion, alpha
        self.z = float(dist.norm_ppf(1 - alpha))

    def war(self, waves):
        return [w for w in waves if self.fw[w] >= self.invasion]

    def army_small(self, c, d: SourceData, waves):
        parts, cov, thr = [], [], float(c["threshold"])
        for w in self.war(waves):
            v = d.share(c["question"], c["category"], w)
            for spec in c.get("published_items") or []:
                v = v if v is not None else d.item(spec, w)
            if v is not None:
                parts.append(_part(w, c["category"], "share below threshold", v,
                                   cw.test_below(v, thr)))  # fmt: skip
                cov.append(w)
        return parts, self.war(waves), cov

    def no_majority_support(self, c, d: SourceData, waves):
        parts, cov, q = [], [], c["question"]
        for w in self.war(waves):
            s, g = d.share(q, c["category"], w), d.contrast(q, "oppose_minus_support", w)
            if s is not None:
                parts.append(_part(w, c["category"], "support below a majority", s,
                                   cw.test_below(s, float(c["threshold"]))))  # fmt: skip
            if g is not None:
                parts.append(_part(w, "oppose - support", "opponents outnumber supporters", g,
                                   cw.test_above(g, 0.0)))  # fmt: skip
            if s is not None and g is not None:
                cov.append(w)
        return parts, self.war(waves), cov

    def attitudes_not_radically_changed(self, c, d: SourceData, waves):
        parts, cov, cat = [], [], c["category"]
        for w in waves:
            vals = {q: d.share(q, cat, w) for q in c["questions"]}
            for q, v in vals.items():
                if v is not None:
                    parts.append(_part(w, q, "majority good", v,
                                       cw.test_above(v, float(c["majority"]))))  # fmt: skip
            if all(v is not None for v in vals.values()):
                cov.append(w)
        for q in c["questions"]:
            ser = [(w, v) for w in waves if (v := d.share(q, cat, w)) is not None and v.complete]
            pre = [s for s in ser if self.fw[s[0]] < self.invasion]
            post = [s for s in ser if self.fw[s[0]] >= self.invasion]
            if not (pre and post):
                parts.append(Part("no wave before and after", q, "no radical change", np.nan,
                                  np.nan, np.nan, np.nan, np.nan, "too sparse"))  # fmt: skip
                continue
            (w1, a), (w2, b) = pre[-1], post[-1]
            lin = [v.se_low * v.estimate * (1 - v.estimate) for v in (a, b)]
            diff = b.estimate - a.estimate
            se = float(np.hypot(*lin))
            v = Value(diff, diff, diff, se, se, diff - self.z * se, diff + self.z * se, "linear")
            parts.append(_part(f"{w1} to {w2}", q, "no radical change", v,
                               cw.test_within(v, 0.0, float(c["radical_change"]))))  # fmt: skip
        return parts, list(waves), cov

    def stance_gap(self, c, d: SourceData, waves):
        parts, cov, gap = [], [], float(c.get("min_gap", 0.0))
        sides = {q: "opponents" for q in c["worse_among_opponents"]}
        sides.update({q: "supporters" for q in c["worse_among_supporters"]})
        for w in self.war(waves):
            n = 0
            for q, worse in sides.items():
                v = d.stance_diff(q, w)
                if v is None:
                    continue
                n += 1
                test = cw.test_above(v, gap) if worse == "opponents" else cw.test_below(v, -gap)
                parts.append(_part(w, q, f"good share lower among {worse}", v, test))
            cov += [w] if n == len(sides) else []
        return parts, self.war(waves), cov

    def neutral_shift(self, c, d: SourceData, waves):
        parts, cov, tol = [], [], float(c["tolerance"])
        for w in waves:
            v = d.contrast(c["question"], "neutral", w)
            if v is None:
                continue
            name, target = (("after", c["after"]) if self.fw[w] >= self.invasion
                            else ("before", c["before"]))  # fmt: skip
            parts.append(_part(w, "both + outside", f"{name} the invasion about {target:g}", v,
                               cw.test_within(v, float(target), tol)))  # fmt: skip
            cov.append(w)
        return parts, list(waves), cov

    def neutral_stable(self, c, d: SourceData, waves):
        war = self.war(waves)
        ser = [(w, v) for w in war if (v := d.contrast(c["question"], "neutral", w)) is not None
               and v.complete]  # fmt: skip
        cov = [w for w, _ in ser]
        if len(ser) < 3:
            return [Part("", "both + outside", "trend per year after the invasion", np.nan,
                         np.nan, np.nan, np.nan, np.nan,
                         "fewer than 3 waves with the full neutral share")], war, cov  # fmt: skip
        x = [(self.fw[w] - self.invasion).days / 365.25 for w, _ in ser]
        y = [v.estimate for _, v in ser]
        se = [v.se_low * v.estimate * (1 - v.estimate) if v.scale == "logit" else v.se_low
              for _, v in ser]  # fmt: skip
        m = float(c["max_abs_slope_per_year"])
        b, s, p_for, p_against, lof = slope_test(x, y, se, m, self.alpha)
        z = self.z
        note = f"lack of fit of the linear trend: p = {lof:.3g}"
        if np.isfinite(lof) and lof < 2 * self.alpha:
            p_for, note = np.nan, note + "; the linear trend does not fit the series, so its "\
                "slope cannot show stability"  # fmt: skip
        v = Value(b, b, b, s, s, b - z * s, b + z * s, "linear")
        return (
            [
                _part(
                    f"{ser[0][0]} to {ser[-1][0]}",
                    "both + outside",
                    "trend per year after the invasion",
                    v,
                    (p_for, p_against),
                    note,
                )
            ],
            war,
            cov,
        )


def _sources(t: Tables) -> list[str]:
    flags = [bool(t.simulated.get(w, True)) for w in t.fieldwork]
    return ["published"] + (["microdata"] if not all(flags) else []) + (
        ["simulated"] if any(flags) else [])  # fmt: skip


def evaluate_claims(
    tables: Tables, cfg: dict, level: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Evaluate every configured claim per window and source.

    ``level`` (default: ``cfg["level"]``, else 0.95) sets the one-sided test level
    ``alpha = (1 - level) / 2``.

    Returns
    -------
    ledger : DataFrame
        :data:`LEDGER_COLUMNS`: one row per claim, window and source, with the coverage
        ``k`` of ``K`` waves and the waves used and missing.
    evidence : DataFrame
        The tests behind each verdict (:data:`EVIDENCE_COLUMNS`).
    sensitivity : DataFrame
        :data:`SENSITIVITY_COLUMNS`: the verdict of every claim for each value of its
        threshold (``sensitivity`` in the config).
    """
    level = float(cfg.get("level", 0.95) if level is None else level)
    alpha = (1 - level) / 2
    z = float(dist.norm_ppf(0.5 + level / 2))
    fw = cw.fieldwork_dates({w: str(d) for w, d in tables.fieldwork.items()}, tables.published)
    wins = cw.windows(fw, str(cfg.get("paper_date", "2022-12-01")))
    cl = _Claims(cfg, fw, pd.Timestamp(cfg["invasion_date"]), alpha)
    led, ev, sens = [], [], []
    for key, c in cfg["claims"].items():
        fn: Callable = getattr(cl, key)
        statement = " ".join(str(c["statement"]).split())
        for source in _sources(tables):
            data = SourceData(tables, source, z)
            for window, waves in wins.items():
                waves = [w for w in waves if w in data.waves or source == "published"]
                parts, big, cov = fn(c, data, waves)
                verdict = decide(parts, alpha, len(cov), len(big))
                led.append((key, statement, window, source, source in cw.EVIDENCE_SOURCES,
                            verdict, len(cov), len(big), " ".join(cov),
                            " ".join(w for w in big if w not in cov)))  # fmt: skip
                ev += [(key, window, source, p.part, p.wave, p.item, p.estimate, p.bound, p.lo,
                        p.hi, p.p_for, p.p_against, p.verdict, p.note) for p in parts]  # fmt: skip
                if not parts:
                    ev.append((key, window, source, "no data", "", "", np.nan, "", np.nan,
                               np.nan, np.nan, np.nan, INCONCLUSIVE, "too sparse"))  # fmt: skip
                par = SENSITIVITY_PARAMETER[key]
                current = float(c.get(par, 0.0))
                for val in sorted({*map(float, c.get("sensitivity") or []), current}):
                    p2, b2, c2 = fn({**c, par: val}, data, waves)
                    sens.append((key, window, source, par, val, abs(val - current) < 1e-12,
                                 decide(p2, alpha, len(c2), len(b2)), len(c2), len(b2)))  # fmt: skip
    return (pd.DataFrame(led, columns=LEDGER_COLUMNS),
            pd.DataFrame(ev, columns=EVIDENCE_COLUMNS),
            pd.DataFrame(sens, columns=SENSITIVITY_COLUMNS))  # fmt: skip
