"""Shared pieces of the poll-average smoothers (Kalman and grid): the ``log q`` search grid
and the result type. Split out so that :mod:`.poll_average` and :mod:`.poll_grid` do not
import each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FRAME_COLUMNS", "GRID_POINTS", "LOG_Q_BOUNDS", "SmootherResult"]

FRAME_COLUMNS = ["date", "estimate", "ci_low", "ci_high", "logit_mean", "logit_sd", "observed"]
#: Search range of ``log q`` (q per day, logit scale). 1e-12/day is a constant for any
#: realistic span (walk SD 2e-4 logit after a century); 10/day lets the walk move 3 logits
#: in a day, so the trend reproduces every observation.
LOG_Q_BOUNDS = (float(np.log(1e-12)), float(np.log(10.0)))
GRID_POINTS = 53  # deterministic pre-scan of log q (4 per decade) before the Brent refinement


@dataclass(frozen=True)
class SmootherResult:
    """Output of the poll-average smoothers (:func:`.poll_average.local_level_smoother`,
    :func:`.poll_grid.censored_smoother`).

    Attributes
    ----------
    q : float
        Innovation variance per day on the logit scale: the posterior median (``"mixture"``),
        the ML estimate (``"ml"``) or the given value.
    loglik : float
        Exact diffuse log-likelihood at ``q_ml`` (log-density of the contrasts
        ``y_k - y_1``).
    frame : DataFrame
        One row per distinct date (observations and ``dates_out``), sorted:
        ``date, estimate, ci_low, ci_high, logit_mean, logit_sd, observed``.
        Plug-in (``"ml"`` or given ``q``): ``estimate = expit(logit_mean)`` (posterior
        median of the share), band ``expit(logit_mean -/+ z * logit_sd)`` with ``z`` the
        normal quantile of ``level``. ``"mixture"``: ``estimate`` is the back-transformed
        median and the band the back-transformed ``(1 -/+ level) / 2`` quantiles of the
        mixture on the logit scale; ``logit_mean, logit_sd`` are the mixture's mean and SD.
    level : float
        Confidence level of the band (and of ``q_low, q_high``).
    estimated : bool
        Whether ``q`` was estimated (``innovation_var`` not given).
    dropped : tuple of int
        0-based input positions of observations left out (missing/0/1 estimate, missing
        or infinite variance).
    """

    q: float
    loglik: float
    frame: pd.DataFrame
    level: float
    estimated: bool
    dropped: tuple[int, ...]
    q_ml: float = np.nan
    q_low: float = np.nan
    q_high: float = np.nan
    method: str = "fixed"
