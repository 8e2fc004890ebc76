"""Selection statistics for a parameter search: the deflated Sharpe ratio and the PBO.

Both take the per-bar returns of every trial of a search (a bars x trials matrix) and ask
whether picking the best one learned something or only found the luckiest.

Units. Every Sharpe ratio here is per bar, ``mean / std`` (``ddof=1``) of per-bar returns,
as in the papers' formulas; the ``*_annualised`` fields multiply it by ``sqrt(periods_per_year)``
for display only. A trial whose returns are all zero (it never traded) has Sharpe 0.

References
----------
Bailey, D. H. and Lopez de Prado, M. (2012). The Sharpe ratio efficient frontier. Journal of
Risk 15(2). Bailey, D. H. and Lopez de Prado, M. (2014). The deflated Sharpe ratio: correcting
for selection bias, backtest overfitting and non-normality. Journal of Portfolio Management
40(5). Bailey, D. H., Borwein, J. M., Lopez de Prado, M. and Zhu, Q. J. (2017). The probability
of backtest overfitting. Journal of Computational Finance 20(4).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, get_args

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from pairs._results import ResultMixin
from pairs._typing import ArrayLike1D, ArrayLike2D, OverfitMetric
from pairs._validation import as_frame, as_series, check_choice, check_float, check_int, check_not_constant
from pairs.evaluation._metrics import periods_per_year as resolve_periods_per_year
from pairs.exceptions import DataError, InsufficientDataError, PairsError

__all__ = ["DeflatedSharpeResult", "OverfittingResult", "deflated_sharpe", "probability_of_overfitting"]

MAX_SPLITS = 24  # C(24, 12) = 2,704,156 combinations; C(26, 13) would be 10.4 million
_CHUNK = 1 << 20  # splits x trials per pass of the CSCV, to bound memory


@dataclass(frozen=True, repr=False)
class DeflatedSharpeResult(ResultMixin):
    """Outcome of :func:`pairs.deflated_sharpe`.

    Attributes
    ----------
    deflated_sharpe
        Probability that the selected trial's true Sharpe exceeds the best Sharpe that
        ``n_trials`` skill-less trials would show: the probabilistic Sharpe ratio against
        ``expected_max_sharpe_per_bar``.
    pvalue
        ``1 - deflated_sharpe``.
    significant
        ``pvalue < size``.
    sharpe_per_bar, sharpe_annualised
        Observed Sharpe of the selected trial; annualised with ``periods_per_year`` (None
        when it is unknown).
    expected_max_sharpe_per_bar, expected_max_sharpe_annualised
        Expected maximum Sharpe of ``n_trials`` trials without skill (the benchmark).
    sharpe_variance_per_bar
        Variance of the trials' per-bar Sharpe ratios used for the benchmark.
    n_trials, n_obs
        Number of trials searched; number of bars of the selected trial.
    skewness, kurtosis
        Sample skewness and kurtosis (not excess: 3 for a normal) of the selected trial's
        returns, from the biased moments.
    trial
        The selected column (its label, or position for an array); None for a single series.
    periods_per_year
        Bars per year of the annualised fields, or None.
    size
        Test size of ``significant``.
    verdict
        One sentence for a trader.
    """

    deflated_sharpe: float
    pvalue: float
    significant: bool
    sharpe_per_bar: float
    sharpe_annualised: float | None
    expected_max_sharpe_per_bar: float
    expected_max_sharpe_annualised: float | None
    sharpe_variance_per_bar: float
    n_trials: int
    n_obs: int
    skewness: float
    kurtosis: float
    trial: Any
    periods_per_year: float | None
    size: float
    verdict: str

    _title = "Deflated Sharpe ratio"


@dataclass(frozen=True, repr=False)
class OverfittingResult(ResultMixin):
    """Outcome of :func:`pairs.probability_of_overfitting`.

    Attributes
    ----------
    pbo
        Share of the splits in which the in-sample best trial ranks at or below the
        out-of-sample median (``logit <= 0``).
    logits
        ``log(w / (1 - w))`` per split, ``w = rank / (n_trials + 1)`` the out-of-sample rank of
        the in-sample best (1 the worst, ties at their average rank). Split ``i`` takes as
        in-sample the blocks of the ``i``-th ``itertools.combinations(range(n_splits),
        n_splits // 2)``.
    is_performance, oos_performance
        The in-sample best trial's performance in and out of sample, per split (per-bar
        Sharpe or mean return, as ``metric``).
    degradation_slope, degradation_intercept
        Least-squares line of ``oos_performance`` on ``is_performance``: a slope below 0 says
        that the better a trial looks in sample, the worse it does out of sample.
    prob_oos_loss
        Share of the splits in which the in-sample best has ``oos_performance < 0``.
    n_splits, n_combinations, n_trials, n_obs
        Blocks ``S``, splits ``C(S, S/2)``, trials, and bars used (the oldest
        ``n_bars % n_splits`` bars are left out so that the blocks are equal).
    metric
        ``"sharpe"`` or ``"mean"``.
    verdict
        One sentence for a trader.
    """

    pbo: float
    logits: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    prob_oos_loss: float
    n_splits: int
    n_combinations: int
    n_trials: int
    n_obs: int
    metric: str
    verdict: str

    _title = "Probability of backtest overfitting (CSCV)"


def _returns_matrix(returns: Any, *, min_columns: int) -> pd.DataFrame:
    frame = as_frame(returns, "returns", allow_nan=True, min_length=3, min_columns=min_columns)
    n_nan = int(frame.isna().to_numpy().sum())
    if n_nan:
        raise DataError(
            f"returns must not contain NaN; got {n_nan} NaN value(s) (a trial out of the market "
            "earns 0 on that bar: fill with 0)."
        )
    values = frame.to_numpy()
    flat = np.all(values == values[0], axis=0) & (values[0] != 0.0)
    if flat.any():
        col = frame.columns[int(np.argmax(flat))]
        raise DataError(
            f"returns column {col!r} must vary or be all zero (a trial that never trades); "
            f"got every value equal to {values[0, int(np.argmax(flat))]!r}."
        )
    return frame


def _sharpe(values: np.ndarray) -> np.ndarray:
    """Per-bar Sharpe of each column, 0 for an all-zero one."""
    mean = values.mean(axis=0)
    std = values.std(axis=0, ddof=1)
    return np.divide(mean, std, out=np.zeros_like(mean), where=std > 0)


def _expected_max_sharpe(n_trials: int, variance: float) -> float:
    """Bailey & Lopez de Prado's (2014) approximation of E[max] of ``n_trials`` null Sharpes."""
    if n_trials == 1:  # one draw of mean 0: the formula's limit is -inf, the exact value 0
        return 0.0
    gamma = np.euler_gamma
    quantiles = (1 - gamma) * ndtri(1 - 1 / n_trials) + gamma * ndtri(1 - 1 / (n_trials * math.e))
    return math.sqrt(variance) * float(quantiles)


def _psr(sharpe: float, benchmark: float, n_obs: int, skewness: float, kurtosis: float) -> float:
    """Probabilistic Sharpe ratio (Bailey & Lopez de Prado 2012) against ``benchmark``, per bar."""
    # kurtosis >= 1 + skewness**2 for any sample, so the variance factor is a square >= 0.
    factor = max(1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / np.sqrt(factor)
    return float(ndtr(z))


def _moments(r: np.ndarray) -> tuple[float, float]:
    d = r - r.mean()
    m2 = float(np.mean(d**2))
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2


def deflated_sharpe(
    returns: ArrayLike1D | ArrayLike2D,
    *,
    n_trials: int | None = None,
    sharpe_variance_per_bar: float | None = None,
    trial: Any = None,
    periods_per_year: float | None = None,
    size: float = 0.05,
) -> DeflatedSharpeResult:
    """Deflated Sharpe ratio of the best of many trials (Bailey & Lopez de Prado 2014).

    The probabilistic Sharpe ratio ``PSR(SR0) = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - g3 SR +
    (g4 - 1) / 4 SR^2))`` of the selected trial (per-bar Sharpe ``SR`` over ``T`` bars,
    skewness ``g3``, kurtosis ``g4``) against the Sharpe that luck alone gives the best of
    ``N`` trials: ``SR0 = sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``,
    ``V`` the variance of the trials' per-bar Sharpes, ``gamma`` Euler's constant
    (``SR0 = 0`` when ``N = 1``).

    Parameters
    ----------
    returns
        Per-bar returns: a bars x trials DataFrame or 2-d array with one column per trial
        (at least 2), or the selected trial's returns alone (Series or 1-d array, then
        ``n_trials`` and ``sharpe_variance_per_bar`` are required). No NaN: a bar out of the
        market returned 0.
    n_trials
        Number of independent trials searched (default: the columns). Give more when the
        matrix keeps only some of the trials, fewer when its columns are near copies.
    sharpe_variance_per_bar
        Variance across trials of their per-bar Sharpe ratios (default: of the columns,
        ``ddof=1``); an annualised variance divided by ``periods_per_year``.
    trial
        Column to evaluate (label of a DataFrame, position in an array); default the one of
        highest Sharpe.
    periods_per_year
        Bars per year of the annualised fields and the verdict; default inferred from a
        DatetimeIndex over 365 days (a 24/7 market), else None (per-bar figures only).
    size
        Test size of ``significant`` and the verdict, in (0, 1).

    Returns
    -------
    DeflatedSharpeResult

    Examples
    --------
    >>> import numpy as np
    >>> import pairs
    >>> noise = np.random.default_rng(0).normal(0.0, 0.01, size=(1000, 50))
    >>> res = pairs.deflated_sharpe(noise, periods_per_year=365)
    >>> res.n_trials, res.significant
    (50, False)
    >>> print(res.verdict)
    of 50 trials, the best in-sample Sharpe 1.49 (annualised) is not distinguishable from luck:
    deflated Sharpe p = 0.54; luck alone gives the best of 50 a Sharpe of about 1.56.
    """
    size = check_float("size", size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    if isinstance(returns, pd.DataFrame) or (isinstance(returns, np.ndarray) and returns.ndim == 2):
        frame = _returns_matrix(returns, min_columns=2)
        index = frame.index
        sharpes = _sharpe(frame.to_numpy())
        if trial is None:
            position = int(np.argmax(sharpes))
        elif isinstance(returns, pd.DataFrame):
            try:
                position = int(frame.columns.get_loc(trial))
            except (KeyError, TypeError, pd.errors.InvalidIndexError):  # the last two: an unhashable label
                raise PairsError(f"trial must be a column of returns or None; got {trial!r}.") from None
        else:
            position = check_int("trial", trial, minimum=0, maximum=frame.shape[1] - 1)
        label = frame.columns[position] if isinstance(returns, pd.DataFrame) else position
        r = frame.iloc[:, position].to_numpy()
        if not r.any():
            raise DataError(f"returns of the selected trial {label!r} must vary; got all zeros.")
        n_trials = frame.shape[1] if n_trials is None else n_trials
        if sharpe_variance_per_bar is None:
            sharpe_variance_per_bar = float(np.var(sharpes, ddof=1))
    else:
        series = as_series(returns, "returns", min_length=3)
        check_not_constant("returns", series)
        for name, value in (("n_trials", n_trials), ("sharpe_variance_per_bar", sharpe_variance_per_bar)):
            if value is None:
                raise PairsError(f"{name} must be given with a single series of returns; got None.")
        if trial is not None:
            raise PairsError(f"trial must be None with a single series of returns; got {trial!r}.")
        index, r, label = series.index, series.to_numpy(), None
    n = check_int("n_trials", n_trials, minimum=1)
    variance = check_float("sharpe_variance_per_bar", sharpe_variance_per_bar, minimum=0.0)
    ppy = None
    if periods_per_year is not None or isinstance(index, pd.DatetimeIndex):
        ppy = resolve_periods_per_year(periods_per_year, index)
    sharpe = float(_sharpe(r[:, None])[0])
    skewness, kurtosis = _moments(r)
    benchmark = _expected_max_sharpe(n, variance)
    dsr = _psr(sharpe, benchmark, r.size, skewness, kurtosis)
    scale = None if ppy is None else math.sqrt(ppy)
    best = trial is None and label is not None  # chosen here as the matrix's best column
    return DeflatedSharpeResult(
        deflated_sharpe=dsr,
        pvalue=1.0 - dsr,
        significant=1.0 - dsr < size,
        sharpe_per_bar=sharpe,
        sharpe_annualised=None if scale is None else sharpe * scale,
        expected_max_sharpe_per_bar=benchmark,
        expected_max_sharpe_annualised=None if scale is None else benchmark * scale,
        sharpe_variance_per_bar=variance,
        n_trials=n,
        n_obs=r.size,
        skewness=skewness,
        kurtosis=kurtosis,
        trial=label,
        periods_per_year=ppy,
        size=size,
        verdict=_dsr_verdict(n, sharpe, benchmark, 1.0 - dsr, size, scale, best=best),
    )


def _dsr_verdict(
    n: int, sharpe: float, benchmark: float, pvalue: float, size: float, scale: float | None, *, best: bool
) -> str:
    unit, k = ("per bar", 1.0) if scale is None else ("annualised", scale)
    who = "the best in-sample Sharpe" if best else "the selected trial's Sharpe"
    head = f"of {n} trial{'s' if n != 1 else ''}, {who} {sharpe * k:.2f} ({unit})"
    luck = f"luck alone gives the best of {n} a Sharpe of about {benchmark * k:.2f}"
    if pvalue < size:
        return f"{head} is unlikely to be luck: deflated Sharpe p = {pvalue:.2g} < {size:g}; {luck}."
    return f"{head} is not distinguishable from luck: deflated Sharpe p = {pvalue:.2g}; {luck}."


def _performance(sums: np.ndarray, half: int, bars: int, metric: str) -> np.ndarray:
    """Each trial's performance over ``half`` blocks of ``bars`` bars, from the blocks' summed
    ``[means | squared means | sums of squares about their mean]`` (one row per split).

    The union's sum of squares is the blocks' own (exact, two-pass) plus the spread of their
    means, so a trial flat over every block of a half has variance exactly 0.
    """
    n = sums.shape[1] // 3
    mean = sums[:, :n] / half
    if metric == "mean":
        return mean
    ss = sums[:, 2 * n :] + bars * (sums[:, n : 2 * n] - half * mean**2)
    std = np.sqrt(np.maximum(ss, 0.0) / (half * bars - 1))
    return np.divide(mean, std, out=np.zeros_like(mean), where=std > 0)


def probability_of_overfitting(
    returns: ArrayLike2D, n_splits: int = 16, *, metric: OverfitMetric = "sharpe"
) -> OverfittingResult:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    Bailey, Borwein, Lopez de Prado & Zhu (2017). The bars are cut into ``n_splits`` (``S``)
    contiguous blocks of equal length; each of the ``C(S, S/2)`` ways to pick half of them is
    one split, those blocks in sample and the others out of sample. In each split the trial
    of best in-sample performance (the first on a tie) gets its out-of-sample rank ``r``
    among the ``N`` trials (1 the worst, ties at their average rank), ``w = r / (N + 1)`` and
    ``logit = log(w / (1 - w))``. The PBO is the share of splits with ``logit <= 0``: the
    in-sample best ranks at or below the out-of-sample median. Without skill (iid trials) its
    expectation is 1/2 for an even ``N`` and ``(N + 1) / (2 N)`` for an odd one, where the
    median rank itself counts as overfit.

    Parameters
    ----------
    returns
        Per-bar returns, bars x trials (DataFrame or 2-d array, at least 2 trials), in time
        order. No NaN: a bar out of the market returned 0.
    n_splits
        Number of blocks ``S``: even, from 2 to 24, and at most half the bars (every block
        holds at least 2 bars). The oldest ``n_bars % n_splits`` bars are left out.
    metric
        ``"sharpe"`` (per-bar Sharpe, 0 over a half where a trial is flat) or ``"mean"``
        (mean per-bar return).

    Returns
    -------
    OverfittingResult

    Examples
    --------
    >>> import numpy as np
    >>> import pairs
    >>> noise = np.random.default_rng(0).normal(0.0, 0.01, size=(1000, 50))
    >>> res = pairs.probability_of_overfitting(noise, n_splits=8)
    >>> res.n_combinations, 0.2 < res.pbo < 0.8
    (70, True)
    """
    frame = _returns_matrix(returns, min_columns=2)
    check_choice("metric", metric, get_args(OverfitMetric))
    s = check_int("n_splits", n_splits, minimum=2, maximum=MAX_SPLITS)
    if s % 2:
        raise PairsError(f"n_splits must be an even integer; got {n_splits!r}.")
    n_bars, n = frame.shape
    if s > n_bars // 2:
        raise InsufficientDataError(
            f"n_splits must be <= {n_bars // 2} for {n_bars} bars (every block holds at least 2 "
            f"bars); got {n_splits!r}."
        )
    bars = n_bars // s
    blocks = frame.to_numpy()[n_bars - s * bars :].reshape(s, bars, n)
    means = blocks.mean(axis=1)
    stats = np.hstack([means, means**2, ((blocks - means[:, None, :]) ** 2).sum(axis=1)])
    totals = stats.sum(axis=0)
    combos = np.array(list(itertools.combinations(range(s), s // 2)))
    is_mask = np.zeros((len(combos), s))
    is_mask[np.arange(len(combos))[:, None], combos] = 1.0
    rank = np.empty(len(combos))
    is_best = np.empty(len(combos))
    oos_best = np.empty(len(combos))
    step = max(1, _CHUNK // n)
    for lo in range(0, len(combos), step):
        in_sample = is_mask[lo : lo + step] @ stats
        perf_is = _performance(in_sample, s // 2, bars, metric)
        perf_oos = _performance(totals - in_sample, s // 2, bars, metric)
        rows = np.arange(len(in_sample))
        best = np.argmax(perf_is, axis=1)
        chosen = perf_oos[rows, best][:, None]
        below = (perf_oos < chosen).sum(axis=1)
        rank[lo : lo + step] = below + ((perf_oos == chosen).sum(axis=1) + 1) / 2
        is_best[lo : lo + step] = perf_is[rows, best]
        oos_best[lo : lo + step] = chosen[:, 0]
    w = rank / (n + 1)
    logits = np.log(w / (1.0 - w))
    pbo = float(np.mean(2 * rank <= n + 1))  # logit <= 0, without rounding at w = 0.5
    dx = is_best - is_best.mean()
    sxx = float(dx @ dx)
    slope = float(dx @ (oos_best - oos_best.mean())) / sxx if sxx > 0 else math.nan
    prob_loss = float(np.mean(oos_best < 0))
    verdict = (
        f"in {pbo:.0%} of {len(combos):,} splits of the bars into halves, the in-sample best of {n} "
        f"trials ranked at or below the out-of-sample median (PBO = {pbo:.2f}); it lost out of "
        f"sample in {prob_loss:.0%} of them."
    )
    return OverfittingResult(
        pbo=pbo,
        logits=logits,
        is_performance=is_best,
        oos_performance=oos_best,
        degradation_slope=slope,
        degradation_intercept=float(oos_best.mean() - slope * is_best.mean()),
        prob_oos_loss=prob_loss,
        n_splits=s,
        n_combinations=len(combos),
        n_trials=n,
        n_obs=s * bars,
        metric=metric,
        verdict=verdict,
    )
