"""The page of a portfolio backtest: verdict, rules, account, contributions, selections."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pairs.report._html import Block

__all__ = ["portfolio_report", "portfolio_verdict"]


def portfolio_verdict(result: Any) -> str:
    """One paragraph: what the portfolio earned before and after costs, and whether it beats chance."""
    from pairs.evaluation._portfolio import paid_costs

    costs = float(paid_costs(result.costs).sum())
    pnl = float(result.equity.iloc[-1] - result.capital)
    sig = result.significance()
    sharpe = sig.sharpe_annualised if sig.sharpe_annualised is not None else sig.sharpe_per_bar
    if sig.significant:
        chance = "better than chance"
    elif sig.deflated_sharpe < sig.size:
        chance = "worse than chance: it loses more than luck explains"
    else:
        chance = "not distinguishable from chance"
    return (
        f"P&L {pnl:+,.2f} after costs ({result.total_return:+.1%}), {pnl + costs:+,.2f} before costs "
        f"(fees, slippage and funding paid: {costs:,.2f}). Sharpe {sharpe:.2f} (annualised): {chance} "
        f"(probabilistic Sharpe ratio against 0, skewness and fat tails included: P(Sharpe > 0) = "
        f"{sig.deflated_sharpe:.2g})."
    )


def portfolio_report(result: Any) -> list[Block]:
    """Report blocks of a portfolio backtest: verdict, rules, account, contributions, selections.

    Parameters
    ----------
    result
        A :class:`pairs.PortfolioResult`.

    Returns
    -------
    list of Block
        Blocks for :func:`render_report` / :func:`write_report`.

    Examples
    --------
    >>> import pairs
    >>> book = pairs.Portfolio(pairs.Strategy(hedge="rolling", window=48), pairs.Selection(top=2),
    ...                        formation=240, trading=168)
    >>> blocks = portfolio_report(book.backtest(pairs.load_sample("binance_1h").iloc[:1200, :6]))
    >>> [obj for kind, obj in blocks if kind == "heading"]
    ['Verdict', 'Portfolio', 'Account', 'Contributions', 'Selections']
    """
    book = result.portfolio
    sel = book.selection
    ranked = "p-value" if sel.method == "coint" else "distance"
    per_window = result.selections.groupby("window").size()
    n_coins = result.units.shape[1]
    caveat = (
        f"Each window keeps the best {sel.top} of up to {n_coins * (n_coins - 1) // 2} candidate pairs, "
        f"ranked by {ranked} on its formation window alone"
        + (
            f" and kept only if significant at {sel.size:g} after {sel.correction}"
            if sel.size is not None
            else ""
        )
        + ": the best of many candidates looks cointegrated by chance, so a formation p-value is no "
        "evidence that a pair stays cointegrated while it is traded. The trading windows are out of sample."
    )
    contributions = result.contributions.sort_values()
    shown = pd.concat([contributions.head(10), contributions.tail(10)])
    shown = shown[~shown.index.duplicated()]
    recent = result.selections.tail(20)[["window", "trading_start", "y", "x", "score", "half_life"]]
    return [
        ("heading", "Verdict"),
        ("note", portfolio_verdict(result)),
        ("text", caveat),
        ("heading", "Portfolio"),
        ("table", dict(book.settings_rows())),
        (
            "text",
            "Every pair is traded by this strategy: " + str(book.strategy.summary()).replace("\n", "; "),
        ),
        ("heading", "Account"),
        ("table", result),
        ("figure", result.plot()),
        *_account_events(result),
        ("heading", "Contributions"),
        ("table", shown.rename("P&L").to_frame()),
        ("heading", "Selections"),
        (
            "text",
            f"{len(result.selections)} selections over {result.n_windows} windows "
            f"({per_window.reindex(range(result.n_windows), fill_value=0).mean():.2f} pairs per window); the last 20:",
        ),
        ("table", recent.reset_index(drop=True)),
    ]


def _account_events(result: Any) -> list[Block]:
    """A count of the account's events by kind and coin (orders not sent, cut, liquidations), if any."""
    events = result.events
    if not len(events):
        return []
    counts = events.fillna({"coin": "(account)"}).groupby(["kind", "coin"]).size().rename("bars")
    return [
        (
            "text",
            "What the account did beyond the targets (docs/portfolio.md): orders below the minimum notional "
            "not sent, orders scaled or refused by the leverage cap, liquidations, margin calls.",
        ),
        ("table", counts.reset_index()),
    ]
