"""One table of settings (pairs._settings.SETTINGS): Strategy's defaults, the flags and their help.

A default is written once: ``pairs.Strategy()`` and ``pairs.SignalRule()`` take theirs from the
table, the strategy commands register one flag per row, and ``--help`` shows the row's default.
"""

from __future__ import annotations

import dataclasses

import pytest

from pairs import SignalRule, Strategy
from pairs._settings import DEFAULTS, RULE_FIELDS, SETTINGS
from pairs.cli._main import _build_parser
from pairs.cli._options import STRATEGY_FLAGS, strategy_from_args

STRATEGY_COMMANDS = ("signal", "backtest", "report", "strategy")
# Settings a strategy file sets but no flag does (a market or margin table per leg, the live guards).
FILE_ONLY = {"slippage_model", "maintenance_margin", "market", "borrow_rate", "execution"}


def _args(command: str, *flags: str) -> list[str]:
    pair = [] if command == "strategy" else ["sample:ETH", "sample:BTC"]
    out = ["-o", "r.html"] if command == "report" else []
    return [command, *pair, *out, *flags]


def test_every_strategy_and_rule_setting_is_a_row_with_its_default() -> None:
    strategy, rule = Strategy(), SignalRule()
    rows = {s.field for s in SETTINGS}
    assert (rows - set(RULE_FIELDS)) | {"log_prices", "rule"} | FILE_ONLY == {
        f.name for f in dataclasses.fields(Strategy)
    }
    assert set(RULE_FIELDS) == {f.name for f in dataclasses.fields(SignalRule)} <= rows
    for s in SETTINGS:
        owner = rule if s.field in RULE_FIELDS else strategy
        assert getattr(owner, s.field) == DEFAULTS[s.field] == s.default, s.field


@pytest.mark.parametrize("command", STRATEGY_COMMANDS)
def test_no_flag_is_the_default_strategy(command: str) -> None:
    args = _build_parser().parse_args(_args(command))
    assert all(getattr(args, s.name) is None for s in SETTINGS)
    assert strategy_from_args(args) == Strategy()


@pytest.mark.parametrize("command", STRATEGY_COMMANDS)
def test_each_flag_sets_its_field(command: str) -> None:
    given = {
        "--hedge": ["rolling"],
        "--delta": ["0.5"],
        "--zscore": ["ewm"],
        "--zscore-halflife": ["7.5"],
        "--zscore-window": None,  # rolling z-score only: set alone below
        "--sizing": ["dollar_neutral"],
        "--lot-size": ["0.5", "0.25"],
        "--beta": ["1.5"],
        "--window": ["30"],
        "--max-holding": ["9"],
        "--cooldown": ["3"],
        "--entry-z": ["2.5"],
        "--exit-z": ["0.5"],
        "--stop-z": ["4"],
        "--min-notional": ["5", "6"],
        "--maker-fee-bps": ["-1"],
        "--maker-share": ["0.5"],
        "--fill": ["next_close"],
        "--leverage": ["2"],
        "--margin": ["isolated"],
    }
    flags = [f for s in SETTINGS if given.get(s.flag, ["7"]) for f in (s.flag, *given.get(s.flag, ["7"]))]
    args = _build_parser().parse_args(_args(command, *flags))
    strategy = strategy_from_args(args)
    for s in SETTINGS:
        value = given.get(s.flag, ["7"])
        if value is None:
            continue
        got = getattr(strategy.rule if s.field in RULE_FIELDS else strategy, s.field)
        expected = tuple(float(v) for v in value) if s.nargs else (s.kind or str)(value[0])
        assert got == expected, s.flag
    alone = strategy_from_args(_build_parser().parse_args(_args(command, "--zscore-window", "12")))
    assert alone.zscore_window == 12
    assert STRATEGY_FLAGS["log"] == "log_prices"


def test_help_shows_the_defaults_of_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _build_parser().parse_args(["signal", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for s in SETTINGS:
        assert f"{s.flag} " in text
        if "{default" in s.help:
            assert s.help.format(default=s.default) in text, s.flag
    assert "(default: 60)" in text and "(default: 10)" in text  # window, fee_bps of Strategy()
