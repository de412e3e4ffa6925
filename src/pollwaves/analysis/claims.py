"""The claims ledger: each empirical claim of the paper, an operational test, and a verdict.

Every claim is evaluated separately on (a) the real published toplines and (b) the
design-based estimates from the (SIMULATED) microdata. The tests work on the result
tables of the workflow, never on respondents, and all thresholds come from
``config/claims.yaml``. Verdicts are three-valued (see :func:`below`, :func:`within`,
:func:`combine`); a claim with too few published numbers is ``inconclusive`` and says so.

Published numbers get intervals from the published N and an assumed design effect
(``published_deff``): ``var = deff * p(1-p) / N``, on the logit scale. A lower bound such as
">41" becomes the interval ``[41 - z*se, 100]``; an upper bound ``[0, x + z*se]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["Tables", "below", "combine", "evaluate_claims", "within"]

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
EVIDENCE_COLUMNS = ["claim", "source", "part", "wave", "item", "estimate", "ci_low", "ci_high",
                    "p_value", "verdict", "note"]  # fmt: skip


@dataclass
class Tables:
    """Inputs of the ledger (result tables of the workflow).

    ``published``: used published rows (value in percent); ``toplines`` and ``contrasts``:
    per-wave design-based estimates from sampling weights; ``stance_shares`` /
    ``stance_tests``: attitudes by war stance and their Rao-Scott tests; ``fieldwork``: wave
    -> fieldwork start date.
    """

    published: pd.DataFrame
    toplines: pd.DataFrame
    contrasts: pd.DataFrame
    stance_shares: pd.DataFrame
    stance_tests: pd.DataFrame
    fieldwork: dict[str, pd.Timestamp]
    published_deff: float


def below(lo: float, hi: float, threshold: float) -> str:
    """Verdict on "the value is below ``threshold``" from its interval."""
    if hi < threshold:
        return SUPPORTED
    if lo >= threshold:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def within(lo: float, hi: float, target: float, tol: float) -> str:
    """Verdict on "the value is about ``target``" (within ``tol``) from its interval."""
    if lo >= target - tol and hi <= target + tol:
        return SUPPORTED
    if hi < target - tol or lo > target + tol:
        return NOT_SUPPORTED
    return INCONCLUSIVE


def combine(verdicts: Sequence[str]) -> str:
    """All parts supported: supported; any part not supported: not; otherwise inconclusive."""
    if not verdicts:
        return INCONCLUSIVE
    if any(v == NOT_SUPPORTED for v in verdicts):
        return NOT_SUPPORTED
    return SUPPORTED if all(v == SUPPORTED for v in verdicts) else INCONCLUSIVE


def _published_interval(row: pd.Series, deff: float, z: float) -> tuple[float, float, float]:
    """(estimate, lo, hi) as shares for one published row (bounds keep one side open)."""
    p = float(row["value"]) / 100
    n = float(row["n_respondents"]) if pd.notna(row["n_respondents"]) else np.nan
    se = np.sqrt(deff * p * (1 - p) / n) if n > 0 and 0 < p < 1 else np.nan
    eta, half = np.log(p / (1 - p)), z * se / (p * (1 - p))
    lo, hi = 1 / (1 + np.exp(-(eta - half))), 1 / (1 + np.exp(-(eta + half)))
    if row["qualifier"] == "lower_bound" or row["relation"] == "part_of":
        hi = 1.0
    elif row["qualifier"] == "upper_bound":
        lo = 0.0
    elif row["qualifier"] == "range":
        lo, hi = min(lo, float(row["low"]) / 100), max(hi, float(row["high"]) / 100)
    return p, lo, hi


class _Ledger:
    def __init__(self, t: Tables, cfg: dict):
        self.t, self.cfg = t, cfg
        self.z = float(stats.norm.ppf(0.5 + float(cfg.get("level", 0.95)) / 2))
        self.invasion = pd.Timestamp(cfg["invasion_date"])
        pub = t.published
        no_sub = pub["subgroup_variable"].isna() | (pub["subgroup_variable"].astype(str) == "")
        self.pub = pub[no_sub]
        self.rows: list[dict] = []

    def after(self, wave: str) -> bool:
        return self.t.fieldwork[wave] >= self.invasion if wave in self.t.fieldwork else (
            pd.Timestamp(wave + "-01") >= self.invasion
        )  # fmt: skip

    def add(self, claim, source, part, wave, item, est, lo, hi, verdict, p=np.nan, note=""):
        self.rows.append(dict(zip(EVIDENCE_COLUMNS, (claim, source, part, wave, item, est, lo,
                                                    hi, p, verdict, note), strict=True)))  # fmt: skip
        return verdict

    def sim_rows(self, q: str, cat: str) -> pd.DataFrame:
        t = self.t.toplines
        return t[(t["question"] == q) & (t["category"] == cat) & (t["domain"] == "all")]

    def pub_rows(self, q: str, cat: str) -> pd.DataFrame:
        p = self.pub
        return p[(p["question"] == q) & (p["category"] == cat) & (p["relation"] == "equals")]

    # -- claims ----------------------------------------------------------------------------
    def every_wave_below(self, claim: str, q: str, cat: str, thr: float, part: str) -> dict:
        out = {}
        sim = [self.add(claim, "simulated", part, r.wave, cat, r.estimate, r.ci_low, r.ci_high,
                        below(r.ci_low, r.ci_high, thr))
               for r in self.sim_rows(q, cat).itertuples() if self.after(r.wave)]  # fmt: skip
        out["simulated"] = sim
        pub = []
        for _, r in self.pub_rows(q, cat).iterrows():
            if self.after(r["wave"]):
                est, lo, hi = _published_interval(r, self.t.published_deff, self.z)
                pub.append(self.add(claim, "published", part, r["wave"], cat, est, lo, hi,
                                    below(lo, hi, thr)))  # fmt: skip
        out["published"] = pub
        return out

    def army_small(self, c: dict) -> dict:
        res = self.every_wave_below("army_small", c["question"], c["category"],
                                    float(c["threshold"]), "share below threshold")  # fmt: skip
        return {s: combine(v) for s, v in res.items()}

    def no_majority_support(self, c: dict) -> dict:
        claim, q = "no_majority_support", c["question"]
        res = self.every_wave_below(claim, q, c["category"], float(c["threshold"]),
                                    "support below a majority")  # fmt: skip
        cont = self.t.contrasts
        gap = cont[(cont["question"] == q) & (cont["contrast"] == "oppose_minus_support")]
        for r in gap.itertuples():
            if self.after(r.wave):
                v = below(-r.ci_high, -r.ci_low, 0.0)
                res["simulated"].append(self.add(claim, "simulated", "opponents outnumber "
                    "supporters", r.wave, "oppose - support", r.estimate, r.ci_low, r.ci_high, v,
                    r.p_value))  # fmt: skip
        pub = self.pub[self.pub["question"] == q]
        for wave, g in pub.groupby("wave"):
            eq = g[(g["relation"] == "equals") & (g["qualifier"] == "exact")].set_index("category")
            if {"oppose", "support"} <= set(eq.index) and self.after(wave):
                o, s = eq.loc["oppose", "value"] / 100, eq.loc["support", "value"] / 100
                n = float(eq.loc["oppose", "n_respondents"])
                se = np.sqrt(self.t.published_deff * (o + s - (o - s) ** 2) / n)
                lo, hi = o - s - self.z * se, o - s + self.z * se
                res["published"].append(self.add(claim, "published", "opponents outnumber "
                    "supporters", wave, "oppose - support", o - s, lo, hi,
                    below(-hi, -lo, 0.0)))  # fmt: skip
        return {s: combine(v) for s, v in res.items()}

    def _series(self, source: str, q: str, cat: str) -> list[tuple[str, float, float, float]]:
        if source == "simulated":
            return [(r.wave, r.estimate, r.ci_low, r.ci_high) for r in self.sim_rows(q, cat)
                    .sort_values("wave").itertuples()]  # fmt: skip
        rows = self.pub_rows(q, cat).sort_values("wave")
        return [(r["wave"], *_published_interval(r, self.t.published_deff, self.z))
                for _, r in rows.iterrows()]  # fmt: skip

    def attitudes(self, c: dict) -> tuple[dict, pd.DataFrame]:
        claim, cat = "attitudes_not_radically_changed", c["category"]
        verdicts: dict[str, list[str]] = {"simulated": [], "published": []}
        changes: dict[str, list[tuple]] = {"simulated": [], "published": []}
        for source in verdicts:
            for q in c["questions"]:
                ser = self._series(source, q, cat)
                for wave, est, lo, hi in ser:
                    verdicts[source].append(
                        self.add(
                            claim,
                            source,
                            "majority good",
                            wave,
                            q,
                            est,
                            lo,
                            hi,
                            below(-hi, -lo, -float(c["majority"])),  # i.e. lo > majority
                        )
                    )
                pre = [s for s in ser if not self.after(s[0])]
                post = [s for s in ser if self.after(s[0])]
                open_ = [
                    s for s in (pre[-1:] + post[-1:]) if s[2] <= 0 or s[3] >= 1 or np.isnan(s[2])
                ]
                if pre and post and open_:
                    changes[source].append((q, "a bound, not a value", np.nan, np.nan, np.nan))
                elif pre and post:
                    (w1, e1, l1, h1), (w2, e2, l2, h2) = pre[-1], post[-1]
                    se = np.hypot((h1 - l1) / (2 * self.z), (h2 - l2) / (2 * self.z))
                    d = e2 - e1
                    changes[source].append(
                        (q, f"{w1} to {w2}", d, d - self.z * se, d + self.z * se)
                    )
                else:
                    changes[source].append((q, "no wave before and after", np.nan, np.nan, np.nan))
        thr = float(c["radical_change"])
        out, sens = {}, []
        for source, ch in changes.items():
            parts = []
            for q, span, d, lo, hi in ch:
                v = INCONCLUSIVE if np.isnan(d) else within(lo, hi, 0.0, thr)
                parts.append(self.add(claim, source, "no radical change", span, q, d, lo, hi, v))
            out[source] = combine(verdicts[source] + parts)
            for t in c["sensitivity"]:
                sv = [INCONCLUSIVE if np.isnan(d) else within(lo, hi, 0.0, float(t))
                      for _, _, d, lo, hi in ch]  # fmt: skip
                sens.append({"source": source, "radical_change": float(t),
                             "verdict": combine(verdicts[source] + sv)})  # fmt: skip
        return out, pd.DataFrame(sens)

    def stance_gap(self, c: dict) -> dict:
        claim, alpha = "stance_gap", float(c["alpha"])
        sh, te = self.t.stance_shares, self.t.stance_tests
        sim = []
        groups = {q: ("oppose", "support") for q in c["worse_among_opponents"]}
        groups.update({q: ("support", "oppose") for q in c["worse_among_supporters"]})
        for q, (worse, better) in groups.items():
            for wave, g in sh[sh["question"] == q].groupby("wave"):
                g = g.set_index("war_support")
                if not {worse, better} <= set(g.index):
                    continue
                test = te[(te["question"] == q) & (te["wave"] == wave)]
                p = float(test["p_value"].iloc[0]) if len(test) else np.nan
                gap = float(g.loc[worse, "estimate"] - g.loc[better, "estimate"])
                v = INCONCLUSIVE if not p < alpha else (SUPPORTED if gap < 0 else NOT_SUPPORTED)
                sim.append(self.add(claim, "simulated", f"good share lower among {worse}", wave,
                                    q, gap, np.nan, np.nan, v, p))  # fmt: skip
        self.add(claim, "published", "no published numbers by war stance", "", "", np.nan,
                 np.nan, np.nan, INCONCLUSIVE, note="too sparse")  # fmt: skip
        return {"simulated": combine(sim), "published": INCONCLUSIVE}

    def _neutral_by_wave(self, source: str, c: dict) -> list[tuple[str, float, float, float]]:
        if source == "simulated":
            cont = self.t.contrasts
            rows = cont[(cont["question"] == c["question"]) & (cont["contrast"] == "neutral")]
            return [(r.wave, r.estimate, r.ci_low, r.ci_high) for r in rows.itertuples()]
        out = []
        pub = self.pub[
            (self.pub["question"] == c["question"]) & (self.pub["relation"] == "equals")
        ]
        for wave, g in pub.groupby("wave"):
            g = g[g["category"].isin(c["categories"])]
            if g.empty:
                continue
            ivs = [_published_interval(r, self.t.published_deff, self.z) for _, r in g.iterrows()]
            est, lo = sum(i[0] for i in ivs), sum(i[1] for i in ivs)
            complete = len(g) == len(c["categories"]) and all(i[2] < 1 for i in ivs)
            hi = min(1.0, sum(i[2] for i in ivs)) if complete else 1.0
            out.append((wave, est, lo, hi))
        return out

    def neutral(self, c: dict) -> tuple[dict, dict]:
        out_shift, out_stable = {}, {}
        m = float(c.get("max_abs_slope_per_year", 0.05))
        for source in ("simulated", "published"):
            rows = self._neutral_by_wave(source, c)
            periods = {}
            for name, sel, target in (("before", False, c["before"]), ("after", True, c["after"])):
                sub = [r for r in rows if self.after(r[0]) == sel]
                exact = [r for r in sub if r[3] < 1]
                if source == "simulated" and sub:
                    est = np.mean([r[1] for r in sub])
                    se = np.sqrt(sum(((r[3] - r[2]) / (2 * self.z)) ** 2 for r in sub)) / len(sub)
                    lo, hi = est - self.z * se, est + self.z * se
                elif exact:  # published: only complete (both + outside) waves are pooled
                    est, lo, hi = exact[-1][1], exact[-1][2], exact[-1][3]
                elif sub:
                    los = [r[2] for r in sub if not np.isnan(r[2])]  # NaN: no published N
                    est, lo, hi = max(r[1] for r in sub), max(los, default=np.nan), 1.0
                else:
                    est = lo = hi = np.nan
                v = (
                    INCONCLUSIVE
                    if np.isnan(est)
                    else within(lo, hi, float(target), float(c["tolerance"]))
                )
                periods[name] = (est, lo, hi)
                self.add("neutral_shift", source, f"{name} the invasion about {target:g}",
                         name, "both + outside", est, lo, hi, v)  # fmt: skip
            verdicts = [r["verdict"] for r in self.rows if r["claim"] == "neutral_shift"
                        and r["source"] == source]  # fmt: skip
            (e1, l1, h1), (e2, l2, h2) = periods["before"], periods["after"]
            if source == "simulated" and not np.isnan(e1 + e2):
                se = np.hypot((h1 - l1) / (2 * self.z), (h2 - l2) / (2 * self.z))
                d = e2 - e1
                dv = below(d - self.z * se, d + self.z * se, 0.0)
                verdicts.append(
                    self.add(
                        "neutral_shift",
                        source,
                        "share fell",
                        "after - before",
                        "both + outside",
                        d,
                        d - self.z * se,
                        d + self.z * se,
                        dv,
                    )
                )
            out_shift[source] = combine(verdicts)
            post = [r for r in rows if self.after(r[0]) and r[3] < 1]
            if len(post) >= 3:
                x = np.array(
                    [(self.t.fieldwork[r[0]] - self.invasion).days / 365.25 for r in post]
                )
                y = np.array([r[1] for r in post])
                v = np.array([((r[3] - r[2]) / (2 * self.z)) ** 2 for r in post])
                X = np.column_stack([np.ones_like(x), x])
                cov = np.linalg.inv(X.T @ (X / v[:, None]))
                b = cov @ X.T @ (y / v)
                se = float(np.sqrt(cov[1, 1]))
                lo, hi = b[1] - self.z * se, b[1] + self.z * se
                out_stable[source] = self.add("neutral_stable", source, "trend per year after "
                    "the invasion", f"{post[0][0]} to {post[-1][0]}", "both + outside", b[1], lo,
                    hi, within(lo, hi, 0.0, m))  # fmt: skip
            else:
                out_stable[source] = self.add("neutral_stable", source, "trend per year after "
                    "the invasion", "", "both + outside", np.nan, np.nan, np.nan, INCONCLUSIVE,
                    note="fewer than 3 waves with the full neutral share")  # fmt: skip
        return out_shift, out_stable


def evaluate_claims(tables: Tables, cfg: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Evaluate every configured claim on both data sources.

    Returns
    -------
    ledger : DataFrame
        ``claim, statement, source, verdict`` (one row per claim and source).
    evidence : DataFrame
        The estimates and tests behind each verdict (:data:`EVIDENCE_COLUMNS`).
    sensitivity : DataFrame
        Verdict of the attitudes claim for each "radical change" threshold.
    """
    lg = _Ledger(tables, cfg)
    c = cfg["claims"]
    verdicts = {
        "army_small": lg.army_small(c["army_small"]),
        "no_majority_support": lg.no_majority_support(c["no_majority_support"]),
    }
    verdicts["attitudes_not_radically_changed"], sens = lg.attitudes(
        c["attitudes_not_radically_changed"]
    )
    verdicts["stance_gap"] = lg.stance_gap(c["stance_gap"])
    shift, stable = lg.neutral({**c["neutral_shift"], **c["neutral_stable"]})
    verdicts["neutral_shift"], verdicts["neutral_stable"] = shift, stable
    ledger = pd.DataFrame(
        [
            {"claim": k, "statement": " ".join(str(c[k]["statement"]).split()), "source": s,
             "verdict": v[s]}
            for k, v in verdicts.items() for s in ("published", "simulated")
        ]
    )  # fmt: skip
    return ledger, pd.DataFrame(lg.rows, columns=EVIDENCE_COLUMNS), sens
