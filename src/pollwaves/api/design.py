"""The survey design object of the Python API: ``pollwaves.load_design``.

A :class:`SurveyDesign` holds the weighted respondents of one or more waves together with
what the estimators need to get the standard errors right: the raked *sampling* weights
(never frequency weights), the raking variables (the derived ``sex_age`` column included,
built as the workflow builds it), the pooled-design strata (the wave) and an optional domain.
Every estimate is raking-aware: its linearised values are residualised on the raking
margins within each wave, as R ``calibrate(design, ~sex_age + education + settlement,
population, calfun = "raking")`` per wave, then ``svyby`` / ``svyglm``.

The bundled respondent-level data are SIMULATED; every result has a ``simulated`` column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

import pandas as pd

from pollwaves.api import crosstab as _ct
from pollwaves.api.crosstab import supported_keywords
from pollwaves.api.project import WEIGHT, Project, load_project, read_waves, resolve_waves
from pollwaves.errors import InputError
from pollwaves.survey.estimation import proportions as _proportions
from pollwaves.survey.glm import SurveyLogitResult, weighted_logit
from pollwaves.survey.modelling import formula_columns

__all__ = ["SurveyDesign", "load_design"]

DOMAIN = "_domain"
# `col == 'x'`, `col != "x"`, `col in ['x', 'y']` (and `not in`) in a subset condition
_LITERAL = re.compile(
    r"\b([A-Za-z_]\w*)\s*(?:==|!=|\bnot\s+in\b|\bin\b)\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\")"
)


class SurveyDesign:
    """Weighted respondents of one or more waves, with their design (see :func:`load_design`).

    Attributes
    ----------
    data : DataFrame
        Every respondent of the design's waves (rows outside a domain included: they define
        the design), answers as categoricals in questionnaire order, derived raking columns.
    weight : str
        The raked sampling-weight column (``"weight"``).
    calibrated_on : list of str
        The raking variables (config ``weighting.variables``, derived columns included).
    strata : str
        ``"wave"``: waves are independent samples, pooled as strata.
    waves : list of str
        The design's waves.
    domain : str or None
        The :meth:`subset` condition(s) defining the domain, ``None`` for everyone.
    """

    def __init__(
        self, project: Project, data: pd.DataFrame, waves: list[str], domain: str | None = None
    ) -> None:
        self.project = project
        self.data = data
        self.waves = waves
        self.domain = domain
        self.weight = WEIGHT
        self.calibrated_on = list(project.raking)
        self.strata = "wave"
        if DOMAIN not in self.data:
            self.data = self.data.assign(**{DOMAIN: True})

    def __repr__(self) -> str:
        n_dom = int(self.data[DOMAIN].sum())
        dom = f", domain {self.domain!r} ({n_dom} of {len(self.data)})" if self.domain else ""
        return (
            f"<SurveyDesign waves={self.waves} n={len(self.data)}{dom}; sampling weights "
            f"{self.weight!r} raked on {self.calibrated_on}; strata={self.strata!r}>"
        )

    # ---- checks -----------------------------------------------------------------------
    def check_variable(self, variable: str, *, kind: str = "variable") -> None:
        """Raise :class:`InputError` listing the available variables if ``variable`` is unknown."""
        if variable not in self.data or variable == DOMAIN:
            known = [v for v in self.project.variables() if v in self.data]
            known = [v for v in known if self.project.categories(v)]
            known += [d for d in self.project.derived if d not in known]
            raise InputError(
                f"unknown {kind}", value=variable, hint=f"the variables are {', '.join(known)}"
            )

    def _check_level(self, level: float | None) -> float:
        level = self.project.level if level is None else float(level)
        if not 0 < level < 1:
            raise InputError("level must be between 0 and 1", value=level)
        return level

    def _wave_frames(self, variable: str, by: Sequence[str] = (), skipped: list | None = None):
        """Yield ``(wave, frame)``: the wave's rows, ``variable`` masked outside the domain.

        Masking the answer (not dropping the rows) keeps every respondent in the design, as
        R ``subset.survey.design`` does: rows outside the domain contribute zero. Waves
        without a valid answer in the domain (question not asked) are left out and appended
        to ``skipped``.
        """
        for wave in self.waves:
            frame = self.data[self.data["wave"] == wave].reset_index(drop=True)
            outside = ~frame[DOMAIN].to_numpy(dtype=bool)
            col = frame[variable]
            if outside.any():
                col = col.where(~outside)
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = col.cat.remove_unused_categories()
            frame[variable] = col
            if col.notna().sum() == 0:
                if skipped is not None:
                    skipped.append(wave)
                continue
            for b in by:
                if isinstance(frame[b].dtype, pd.CategoricalDtype):
                    frame[b] = frame[b].cat.remove_unused_categories()
            yield wave, frame

    def _check_literals(self, condition: str) -> None:
        """Categories named in ``col == 'x'``, ``col != 'x'``, ``col in [...]`` must exist."""
        for col, values in _LITERAL.findall(condition):
            if col not in self.data or col == DOMAIN:
                continue
            cats = [str(c) for c in _categories(self.data[col])]
            for val in re.findall(r"['\"]([^'\"]*)['\"]", values):
                if val not in cats:
                    raise InputError(
                        "unknown category in the subset condition",
                        column=col,
                        value=val,
                        hint=f"the categories of {col} are {', '.join(cats)}",
                    )

    # ---- estimators -------------------------------------------------------------------
    def proportions(
        self,
        variable: str,
        by: str | Sequence[str] | None = None,
        level: float | None = None,
        *,
        ci_method: str | None = None,
    ) -> pd.DataFrame:
        """Weighted shares of ``variable``'s answers with raking-aware SEs and intervals.

        Parameters
        ----------
        variable : str
            A categorical column (a question or a demographic).
        by : str or list of str, optional
            Domain columns (``svyby``); the result always has one block per wave too.
        level : float, optional
            Confidence level (default: config ``estimation.level``).
        ci_method : str, optional
            ``logit | beta | wilson | xlogit`` (default: config ``estimation.ci_method``).

        Returns
        -------
        DataFrame
            ``wave``, the ``by`` columns, ``category, label, estimate, se, ci_low, ci_high,
            n, n_eff, deff, flag, simulated``. Shares are on the 0-1 scale. ``n`` is the
            unweighted number of valid answers in the domain and ``n_eff = n / deff`` (the
            domain estimator's, with the rows outside the domain kept in the design).

        Notes
        -----
        Calls :func:`pollwaves.survey.estimation.proportions` per wave with
        ``calibrated_on`` = the raking variables, equal base weights (the workflow rakes from
        equal weights) and the domain as a masked answer; per-wave calls equal the pooled
        design with ``strata = wave`` and calibration within each wave. ``flag`` holds the
        NCHS Data Presentation Standards for Proportions (Parker et al. 2017, Vital Health
        Stat 2(175)): suppress when the effective sample size is below 30, when the
        Korn-Graubard CI is 0.30 wide or more, or when its width exceeds 130 % of the
        estimate (widths above 0.05); complement footnotes and review flags (df < 8, 0 % or
        100 %) as :func:`pollwaves.survey.reliability.nchs_flags`. Flagged rows are shown,
        not dropped.
        """
        self.check_variable(variable)
        by_cols = [by] if isinstance(by, str) else list(by or [])
        for b in by_cols:
            self.check_variable(b, kind="by variable")
        level = self._check_level(level)
        method = ci_method or self.project.ci_method
        parts = []
        for wave, frame in self._wave_frames(variable, by_cols):
            res = _proportions(
                frame,
                variable,
                self.weight,
                by=by_cols or None,
                calibrated_on=self.calibrated_on,
                ci_method=method,
                level=level,
            )
            res.insert(0, "wave", wave)
            parts.append(res.assign(simulated=self.project.simulated(wave)))
        if not parts:
            raise InputError(
                "no valid answer in the design's waves and domain",
                column=variable,
                hint=f"waves: {', '.join(self.waves)}; domain: {self.domain or 'everyone'}",
            )
        out = pd.concat(parts, ignore_index=True)
        labels = self.project.category_labels(variable)
        out.insert(out.columns.get_loc("category") + 1, "label", out["category"].map(labels))
        out["label"] = out["label"].fillna(out["category"].astype(str))
        return out

    def crosstab(
        self,
        variable: str,
        by: str,
        level: float | None = None,
        *,
        progress: Callable[[str], None] | None = None,
    ) -> _ct.Crosstab:
        """Column percentages of ``variable`` by ``by`` per wave, with tests (SPSS-style).

        See :func:`pollwaves.api.crosstab.crosstab_frame`: column shares with intervals,
        ``n`` and weighted N per column, the Rao-Scott test of independence and Holm-adjusted
        significance letters of the column pairs, raking-aware. Returns a
        :class:`pollwaves.api.crosstab.Crosstab` (``.table``, ``.tests``, ``.text()``).
        ``progress`` is called with a message per wave (the CLI prints them to stderr).
        """
        self.check_variable(variable)
        self.check_variable(by, kind="by variable")
        if by == variable:
            raise InputError("crosstab of a variable with itself", column=variable)
        level = self._check_level(level)
        tables, tests, pairs, skipped = [], [], [], []
        for wave, frame in self._wave_frames(variable, [by], skipped):
            if progress is not None:
                progress(f"crosstab {variable} by {by}: wave {wave}")
            frame = frame.assign(**{by: frame[by].where(frame[DOMAIN])})
            tab, test, pair = _ct.crosstab_frame(
                frame,
                variable,
                by,
                self.weight,
                calibrated_on=self.calibrated_on,
                level=level,
                ci_method=self.project.ci_method,
            )
            sim = self.project.simulated(wave)
            tables.append(tab.assign(wave=wave, simulated=sim))
            tests.append(test.assign(wave=wave, simulated=sim))
            pairs.append(pair.assign(wave=wave, simulated=sim))
        if not tables:
            raise InputError("no valid answer in the design's waves", column=variable)
        return _ct.Crosstab(
            project=self.project,
            variable=variable,
            by=by,
            level=level,
            table=pd.concat(tables, ignore_index=True),
            tests=pd.concat(tests, ignore_index=True),
            pairs=pd.concat(pairs, ignore_index=True),
            skipped=skipped,
            domain=self.domain,
        )

    def logit(self, formula: str) -> SurveyLogitResult:
        """Design-based logit on the design's waves (R ``svyglm``, quasibinomial).

        :func:`pollwaves.survey.glm.weighted_logit` with ``strata = "wave"``, the sampling
        weights, and -- where that function accepts them -- ``calibrated_on`` = the raking
        variables and ``calibration_by = "wave"`` (raking-aware SEs, calibration within each
        wave). The domain of :meth:`subset` enters as missing model variables outside it:
        those rows leave the fit but stay in the design (zero scores), as ``svyglm(formula,
        subset(design, ...))``.
        """
        data = self.data
        if not data[DOMAIN].all():
            try:
                cols = formula_columns(formula, [str(c) for c in data.columns])
            except Exception as exc:  # tokenize and syntax errors of a bad formula
                raise InputError(f"cannot parse the formula: {exc}", value=formula) from None
            inside = data[DOMAIN].to_numpy(dtype=bool)
            data = data.assign(**{c: data[c].where(inside) for c in cols if c != DOMAIN})
        extra = supported_keywords(
            weighted_logit, calibrated_on=self.calibrated_on, calibration_by="wave"
        )
        return weighted_logit(data, formula, self.weight, strata=self.strata, **extra)

    def subset(self, condition: str) -> SurveyDesign:
        """A domain of the design, as R ``subset(design, condition)`` (not a filtered frame).

        Parameters
        ----------
        condition : str
            A pandas query on the respondents, e.g. ``"sex == 'female'"`` or
            ``"age_group in ['18_24', '25_34']"``. Subsetting twice combines the conditions.

        Returns
        -------
        SurveyDesign
            The same respondents and design; only the domain indicator changes. Estimates
            keep every row in the variance (zero contribution outside the domain), so the
            SEs, ``n_eff`` and df are those of the domain estimator.

        Raises
        ------
        InputError
            If the condition cannot be evaluated, compares a column with a category it does
            not have (``sex == 'femal'``; the message lists the categories) or selects nobody.
        """
        self._check_literals(condition)
        try:
            inside = self.data.eval(condition)
        except Exception as exc:  # pandas raises many kinds on a bad expression
            raise InputError(
                f"cannot evaluate the subset condition: {exc}",
                value=condition,
                hint="write a pandas query such as \"sex == 'female'\"",
            ) from None
        inside = pd.Series(inside, index=self.data.index)
        if inside.dtype != bool:
            raise InputError("the subset condition is not a true/false test", value=condition)
        mask = self.data[DOMAIN].to_numpy(dtype=bool) & inside.to_numpy(dtype=bool)
        if not mask.any():
            named = [c for c in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition) if c in self.data]
            known = "; ".join(
                f"{c}: {', '.join(map(str, _categories(self.data[c])))}"
                for c in dict.fromkeys(named)
                if c != DOMAIN and self.data[c].nunique() <= 40
            )
            raise InputError(
                "the subset condition selects no respondent",
                value=condition,
                hint=f"the categories are {known}" if known else "check the condition",
            )
        domain = condition if self.domain is None else f"({self.domain}) & ({condition})"
        data = self.data.assign(**{DOMAIN: mask})
        return SurveyDesign(self.project, data, self.waves, domain)


def _categories(col: pd.Series) -> list:
    """Categories of a column: categorical order, else sorted values."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    return sorted(col.dropna().unique().tolist())


def load_design(
    waves: str | Sequence[str] = "all", root: str | os.PathLike[str] = "."
) -> SurveyDesign:
    """The survey design of one or more waves of a built project.

    Parameters
    ----------
    waves : str or list of str
        A wave id (``"2023-03"``), a list of them, or ``"all"``.
    root : str or path-like
        Project root (holding ``config/`` and ``data/processed/waves/``).

    Returns
    -------
    SurveyDesign
        Raked sampling weights, the raking variables of config ``weighting.variables``
        (derived columns such as ``sex_age`` built as in ``config/margins.yaml``), strata =
        wave, labels and questionnaire order from ``config/codebook.yaml``.

    Raises
    ------
    InputError
        For an unknown wave (the message lists the built waves) or an unbuilt project.
    """
    project = load_project(root)
    chosen = resolve_waves(project, waves)
    data = read_waves(project, chosen)
    return SurveyDesign(project, data, chosen)
