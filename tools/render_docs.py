"""Regenerate the outputs shown in the docs from the code, so that they cannot go stale.

Run ``python tools/render_docs.py`` from the repository root: every marked block of the files in
``DOCS`` is replaced by what the code prints today, on the bundled data, offline.
``--check`` rewrites nothing and exits 1 when a file differs (tests/contracts/test_docs_render.py
runs the same check). A marked block is::

    <!-- render: cli [mask=REGEX] pairs COMMAND ... -->
    ...generated: a fenced block with "$ pairs COMMAND ..." and its output...
    <!-- /render -->

    <!-- render: python NAME -->
    ...generated: the Markdown returned by the function NAME of this file...
    <!-- /render -->

A ``cli`` command runs in-process (``pairs.cli.main``) in a temporary folder holding the files of
``FILES``; ``printf '...' | pairs ...`` feeds the printf text on stdin, as a shell would. The
block shows stdout, then stderr (a user error prints its one line there). ``mask=REGEX`` (no
spaces: write a backslash-s) replaces
the first group of each match by ``...``: for numbers that depend on the platform rather than
on pairs (the size in bytes of a report's PNG figures).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shlex
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/cli.md", "docs/backtest.md")
FILES = {
    "prices/odd.csv": "foo,bar\n1,2\n",
    # docs/cli.md, pairs report --portfolio: the settings of its `pairs portfolio` example, by hand.
    "book.json": '{"format": "pairs.Portfolio", "version": 1, "formation": "30D", "trading": "7D",\n'
    ' "strategy": {"log_prices": true},\n'
    ' "selection": {"top": 5, "log": true, "max_half_life": 48}}\n',
}
BLOCK = re.compile(r"(<!-- render: (?P<spec>.*?) -->\n)(?P<body>.*?)(<!-- /render -->)", re.S)


def run_cli(command: str, folder: Path) -> str:
    """``$ command`` and what it prints (stdout, then stderr), run in ``folder``."""
    from pairs.cli import main

    stdin = ""
    line = command
    if line.startswith("printf "):
        printf, line = (part.strip() for part in line.split("|", 1))
        stdin = shlex.split(printf)[1].encode().decode("unicode_escape")
    argv = shlex.split(line)
    if argv[0] != "pairs":
        raise ValueError(f"command must start with 'pairs'; got {command!r}.")
    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    saved_stdin = sys.stdin
    try:
        os.chdir(folder)
        sys.stdin = io.StringIO(stdin)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv[1:])
    finally:
        sys.stdin = saved_stdin
        os.chdir(here)
    text = out.getvalue() + err.getvalue()
    return "\n".join([f"$ {command}", *(row.rstrip() for row in text.rstrip("\n").splitlines())])


def _cli_block(spec: str, folder: Path) -> str:
    mask = None
    if spec.startswith("mask="):
        raw, spec = spec.split(" ", 1)
        mask = re.compile(raw.removeprefix("mask="))
    text = run_cli(spec, folder)
    if mask is not None:
        text = mask.sub(lambda m: m.group(0).replace(m.group(1), "..."), text)
    return f"```\n{text}\n```\n"


# --- Python snippets ----------------------------------------------------------------------------


def backtest_conventions() -> str:
    """docs/backtest.md: the README's Kalman ETH/BTC signals read three ways."""
    import numpy as np

    from pairs import backtest, kalman_hedge, load_sample, signals, zscore

    prices = load_sample("binance_1d")[["ETH", "BTC"]].dropna()
    eth, btc = prices["ETH"], prices["BTC"]
    kalman = kalman_hedge(np.log(eth), np.log(btc), noise_units="raw", delta=1e-5, obs_var=1e-3)
    position = signals(zscore(kalman.spread, window=60), entry_z=2.0, exit_z=0.5, stop_z=4.0)
    beta = kalman.beta * eth / btc
    gross = backtest(eth, btc, beta=beta, position=position, fee_bps=10)
    same = backtest(eth, btc, units=gross.units, capital=10_000.0, fee_bps=10)
    lots = {"lot_size": (0.001, 0.00001), "rebalance_band": 0.05}
    sized = backtest(eth, btc, beta=beta, position=position, fee_bps=10, capital=10_000.0, **lots)
    rows = [
        ("`capital=None`", gross),
        ("account of 10,000 holding 1 ETH per unit of position (`units=gross.units`)", same),
        ("account of 10,000 sized to 10,000 of gross notional per unit of position", sized),
    ]
    lines = [
        _wrap(
            f"On the README's Kalman ETH/BTC example ({len(eth):,} daily bars {eth.index[0].year}-"
            f"{eth.index[-1].year}, 10 bps fees, {gross.n_trades} round trips;"
            " `tests/evaluation/test_account.py::test_docs_numbers_eth_btc`):"
        ),
        "",
        "| reading of the same signals | total return | max drawdown |",
        "|---|---|---|",
        *[f"| {label} | {r.total_return:.1%} | {r.max_drawdown:.1%} |" for label, r in rows],
    ]
    return "\n".join(lines) + "\n"


def scan_raw_vs_log() -> str:
    """README and docs/cli.md: why the scan of prices finds pairs that the scan of log prices does not."""
    from pairs import load_sample, ols_hedge, scan

    prices = load_sample("binance_1d")
    raw = scan(prices, correction="fdr_bh")
    log = scan(prices, correction="fdr_bh", log=True)
    columns = ["y", "x", "pvalue", "pvalue_adj", "beta"]
    both = raw.table[columns].merge(log.table[columns], on=["y", "x"], suffixes=("_raw", "_log"))
    found = both[(both["pvalue_adj_raw"] < raw.size) | (both["pvalue_adj_log"] < log.size)]
    first = found.iloc[0]
    pair = prices[[first["y"], first["x"]]].dropna()
    spread = ols_hedge(pair[first["y"]], pair[first["x"]]).spread
    high = pair[first["y"]] >= pair[first["y"]].median()
    share = float((spread[high] ** 2).sum() / (spread**2).sum())
    lines = [
        _wrap(
            f"`pairs scan sample:binance_1d` tests prices as given and finds {raw.n_significant} pair(s) "
            f"after the {raw.correction} correction over {raw.n_tested}; with `--log` (as `pairs demo` "
            f"does) it finds {log.n_significant}. Both are valid tests of different relationships:"
        ),
        "",
        "| pair | prices: p, adjusted p, beta | log prices: p, adjusted p, beta |",
        "|---|---|---|",
        *[
            f"| {r.y} / {r.x} | {r.pvalue_raw:.2g}, {r.pvalue_adj_raw:.2g}, {r.beta_raw:.3g} "
            f"| {r.pvalue_log:.2g}, {r.pvalue_adj_log:.2g}, {r.beta_log:.3g} |"
            for r in found.itertuples()
        ],
        "",
        _wrap(
            "On prices, a spread holds a fixed number of units (`y - beta x`); on log prices, a fixed "
            "ratio of dollars (`log y - beta log x`). Coin prices move by orders of magnitude over the "
            f"sample (BTC from {prices['BTC'].min():,.0f} to {prices['BTC'].max():,.0f}), so a spread of "
            f"units is weighted by the price level: the half of the days with the higher {first['y']} "
            f"price holds {share:.0%} of the squared {first['y']} / {first['x']} price spread. The two "
            "tests can then disagree. Test the prices you will trade (`Strategy(log_prices=...)`), "
            "chosen before looking: running both and keeping the one that finds pairs is one more "
            "multiple test."
        ),
    ]
    return "\n".join(lines) + "\n"


def _wrap(text: str) -> str:
    return textwrap.fill(text, 100, break_on_hyphens=False, break_long_words=False)


SNIPPETS: dict[str, Callable[[], str]] = {
    "backtest_conventions": backtest_conventions,
    "scan_raw_vs_log": scan_raw_vs_log,
}


def render(text: str, folder: Path, only: Callable[[str], bool] = lambda spec: True) -> str:
    """``text`` with every marked block (whose spec ``only`` accepts) regenerated."""

    def fill(match: re.Match[str]) -> str:
        spec = match.group("spec")
        if not only(spec):
            return match.group(0)
        kind, _, rest = spec.partition(" ")
        if kind == "cli":
            body = _cli_block(rest, folder)
        elif kind == "python":
            body = SNIPPETS[rest.strip()]()
        else:
            raise ValueError(f"render kind must be 'cli' or 'python'; got {kind!r} in {spec!r}.")
        return f"{match.group(1)}{body}{match.group(4)}"

    return BLOCK.sub(fill, text)


def specs(text: str) -> list[str]:
    """The specs of the marked blocks of ``text``, in order."""
    return [m.group("spec") for m in BLOCK.finditer(text)]


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    """A temporary folder holding ``FILES``, where the commands run."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, content in FILES.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(content)
        yield folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a doc is stale")
    args = parser.parse_args(argv)
    stale = []
    with workspace() as folder:
        for name in DOCS:
            path = ROOT / name
            old = path.read_text(encoding="utf-8")
            new = render(old, folder)
            if new != old:
                stale.append(name)
                if args.check:
                    sys.stdout.writelines(
                        difflib.unified_diff(
                            old.splitlines(True), new.splitlines(True), name, name + " (code)"
                        )
                    )
                else:
                    path.write_text(new, encoding="utf-8")
    print(("stale: " if args.check else "rewrote: ") + (", ".join(stale) or "nothing"), file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
