"""State machine: every transition on hand-made z paths, batch == step_rule, SignalRule, bad inputs."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs import DataError, PairsError, load_sample
from pairs.trading import ACTIONS, RuleState, SignalRule, signals, step_rule, zscore

NAN = np.nan


def run(z: list[float], rule: SignalRule) -> tuple[list[float], list[str], list[RuleState]]:
    """Positions, actions and states from repeated step_rule; also checks the batch agrees."""
    state, positions, actions, states = RuleState(), [], [], []
    for value in z:
        state, action = step_rule(state, value, rule)
        positions.append(float(state.position))
        actions.append(action)
        states.append(state)
    assert signals(pd.Series(z, dtype=float), rule=rule).tolist() == positions
    return positions, actions, states


def test_entry_and_exit_both_sides() -> None:
    z = [0.0, -2.0, -2.1, -1.0, -0.1, 0.0, 2.0, 2.5, 1.0, 0.0, 0.3]
    pos, act, _ = run(z, SignalRule())
    # -2.0 and 2.0 are not beyond entry_z (strict); the exits are at z >= 0 and z <= 0.
    assert pos == [0, 0, 1, 1, 1, 0, 0, -1, -1, 0, 0]
    assert act == [
        "hold",
        "hold",
        "enter_long",
        "hold",
        "hold",
        "exit",
        "hold",
        "enter_short",
        "hold",
        "exit",
        "hold",
    ]


def test_exit_z_early_and_overshoot() -> None:
    z = [-2.5, -0.6, -0.5, 2.5, 0.6, 0.5]
    assert run(z, SignalRule(exit_z=0.5))[0] == [1, 1, 0, -1, -1, 0]
    # A negative exit_z waits for the spread to overshoot past the mean.
    z = [-2.5, 0.0, 0.4, 0.5, 2.5, -0.4, -0.5]
    assert run(z, SignalRule(exit_z=-0.5))[0] == [1, 1, 1, 0, -1, -1, 0]


def test_flip_in_one_bar() -> None:
    pos, act, _ = run([-2.5, 2.5, -3.0, 0.5], SignalRule())
    assert pos == [1, -1, 1, 0]
    assert act == ["enter_long", "enter_short", "enter_long", "exit"]


def test_cooldown_suppresses_flip_and_counts_flat_bars() -> None:
    assert run([-2.5, 2.5, 2.5], SignalRule(cooldown=1))[0] == [1, 0, -1]
    assert run([-2.5, 2.5, 2.5, 2.5], SignalRule(cooldown=2))[0] == [1, 0, 0, -1]
    # After a plain exit: cooldown=2 keeps the exit bar and the next one flat.
    pos, act, states = run([-2.5, 0.1, -2.5, -2.5, -2.5], SignalRule(cooldown=2))
    assert pos == [1, 0, 0, 1, 1]
    assert act == ["enter_long", "exit", "hold", "enter_long", "hold"]
    assert [s.cooldown_left for s in states] == [0, 2, 1, 0, 0]


def test_stop_blocks_the_side_until_back_inside_entry() -> None:
    rule = SignalRule(stop_z=3.0)
    # -2.0 is not inside the entry band yet (release needs z > -entry_z).
    pos, act, states = run([-2.5, -3.0, -2.2, -2.0, -2.9, -1.9, -2.5], rule)
    assert pos == [1, 0, 0, 0, 0, 0, 1]
    assert act == ["enter_long", "stop", "hold", "hold", "hold", "hold", "enter_long"]
    assert [s.blocked_side for s in states] == [0, 1, 1, 1, 1, 0, 0]


def test_stop_blocks_only_its_side() -> None:
    rule = SignalRule(stop_z=3.0)
    # Long stopped at -3.5; a jump to +2.5 opens a short (and releases the long side).
    pos, act, states = run([-2.5, -3.5, 2.5], rule)
    assert pos == [1, 0, -1] and act[1] == "stop" and states[-1].blocked_side == 0
    # Short stopped; z goes through the band to -2.5 (long entry), then back to +2.5: the
    # short side was released when z came below entry_z, so the flip is allowed.
    assert run([2.5, 3.5, -2.5, 2.5], rule)[0] == [-1, 0, 1, -1]


def test_stop_when_z_jumps_to_the_other_extreme() -> None:
    pos, act, states = run([-2.5, 3.5, 2.5, 1.0, 2.5], SignalRule(stop_z=3.0))
    assert pos == [1, 0, 0, 0, -1]
    assert act[1] == "stop" and states[1].blocked_side == -1


def test_beyond_stop_while_flat_opens_nothing() -> None:
    pos, act, _ = run([3.5, 2.5, 1.0, 2.5], SignalRule(stop_z=3.0))
    assert pos == [0, 0, 0, -1] and act == ["hold", "hold", "hold", "enter_short"]


def test_stop_starts_cooldown() -> None:
    assert run([2.5, 3.5, -2.5, -2.5], SignalRule(stop_z=3.0, cooldown=2))[0] == [-1, 0, 0, 1]


def test_max_holding_exit_blocks_same_side() -> None:
    pos, act, states = run([-2.5, -2.5, -2.5, -2.5, -1.5, -2.5], SignalRule(max_holding=2))
    assert pos == [1, 1, 0, 0, 0, 1]
    assert act == ["enter_long", "hold", "exit", "hold", "hold", "enter_long"]
    assert [s.bars_held for s in states] == [0, 1, 0, 0, 0, 0]
    assert [s.blocked_side for s in states] == [0, 0, 1, 1, 0, 0]
    # The other side is not blocked.
    assert run([2.5, 2.5, -2.5], SignalRule(max_holding=1))[0] == [-1, 0, 1]


def test_max_holding_with_cooldown() -> None:
    assert run([-2.5, -2.5, -1.0, -2.5], SignalRule(max_holding=1, cooldown=2))[0] == [1, 0, 0, 1]


def test_nan_keeps_the_whole_state() -> None:
    assert run([NAN, NAN, -2.5, NAN, NAN, 0.5], SignalRule())[0] == [0, 0, 1, 1, 1, 0]
    # Bar counters do not advance on NaN bars.
    assert run([-2.5, NAN, NAN, -2.5, -2.5], SignalRule(max_holding=2))[0] == [1, 1, 1, 1, 0]
    assert run([-2.5, 0.1, NAN, NAN, -2.5, -2.5], SignalRule(cooldown=2))[0] == [1, 0, 0, 0, 0, 1]
    state = RuleState(position=-1, bars_held=3, cooldown_left=0, blocked_side=1)
    assert step_rule(state, NAN, SignalRule(max_holding=3)) == (state, "hold")


@st.composite
def rules(draw: st.DrawFn) -> SignalRule:
    entry = draw(st.floats(0.5, 3.0))
    return SignalRule(
        entry_z=entry,
        exit_z=draw(st.floats(-1.0, 1.0)) * entry,
        stop_z=draw(st.none() | st.floats(entry + 0.1, entry + 3.0)),
        max_holding=draw(st.none() | st.integers(1, 8)),
        cooldown=draw(st.integers(0, 4)),
    )


@settings(max_examples=60, deadline=None)
@given(
    z=st.lists(st.one_of(st.floats(-6.0, 6.0), st.just(NAN)), min_size=1, max_size=120),
    rule=rules(),
)
def test_batch_equals_step_rule(z: list[float], rule: SignalRule) -> None:
    pos, act, states = run(z, rule)
    assert set(act) <= set(ACTIONS)
    assert set(pos) <= {-1.0, 0.0, 1.0}
    for value, state in zip(z, states, strict=True):
        if rule.stop_z is not None and abs(value) >= rule.stop_z:
            assert state.position == 0
    t = max(1, len(z) // 2)
    assert signals(pd.Series(z[:t], dtype=float), rule=rule).tolist() == pos[:t]


@pytest.mark.parametrize(
    "rule",
    [SignalRule(), SignalRule(1.5, 0.5, 3.0, 20, 3), SignalRule(entry_z=1.0, exit_z=-0.5, max_holding=5)],
)
def test_batch_equals_step_rule_on_real_zscore(rule: SignalRule) -> None:
    prices = load_sample("binance_1d")[["BTC", "ETH"]].dropna()
    z = zscore(prices["BTC"] - 20 * prices["ETH"], window=30)
    batch = signals(z, rule=rule)
    assert batch.index.equals(z.index) and batch.name == "position"
    assert batch.iloc[:29].eq(0).all() and batch.abs().sum() > 50
    state, stepped = RuleState(), []
    for value in z:
        state, _ = step_rule(state, value, rule)
        stepped.append(state.position)
    assert batch.tolist() == stepped


def test_explicit_options_equal_rule() -> None:
    z = zscore(load_sample("binance_1d")["ETH"].dropna(), window=20)
    rule = SignalRule(1.5, 0.2, 3.5, 10, 1)
    explicit = signals(z, entry_z=1.5, exit_z=0.2, stop_z=3.5, max_holding=10, cooldown=1)
    pd.testing.assert_series_equal(explicit, signals(z, rule=rule))


def test_signal_rule_round_trip() -> None:
    rule = SignalRule(entry_z=2, exit_z=-0.5, stop_z=4, max_holding=24, cooldown=2)
    assert isinstance(rule.entry_z, float) and isinstance(rule.stop_z, float)
    data = json.loads(json.dumps(rule.to_dict()))
    assert data == {"entry_z": 2.0, "exit_z": -0.5, "stop_z": 4.0, "max_holding": 24, "cooldown": 2}
    assert SignalRule.from_dict(data) == rule
    assert SignalRule.from_dict(SignalRule().to_dict()) == SignalRule()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.entry_z = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"entry_z": 0.0}, "entry_z"),
        ({"entry_z": -1.0}, "entry_z"),
        ({"entry_z": "2"}, "entry_z"),
        ({"entry_z": True}, "entry_z"),
        ({"entry_z": NAN}, "entry_z"),
        ({"exit_z": 2.01}, "exit_z"),
        ({"exit_z": -2.01}, "exit_z"),
        ({"exit_z": None}, "exit_z"),
        ({"stop_z": 2.0}, "stop_z"),
        ({"stop_z": 1.0}, "stop_z"),
        ({"stop_z": np.inf}, "stop_z"),
        ({"max_holding": 0}, "max_holding"),
        ({"max_holding": 2.5}, "max_holding"),
        ({"cooldown": -1}, "cooldown"),
        ({"cooldown": 1.0}, "cooldown"),
    ],
)
def test_signal_rule_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(PairsError, match=match):
        SignalRule(**kwargs)


def test_from_dict_rejects_bad_data() -> None:
    with pytest.raises(PairsError, match="data"):
        SignalRule.from_dict({"entry_z": 2.0, "exitz": 0.0})
    with pytest.raises(PairsError, match="data"):
        SignalRule.from_dict([("entry_z", 2.0)])  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="exit_z"):
        SignalRule.from_dict({"entry_z": 1.0, "exit_z": 1.5})


def test_signals_bad_inputs() -> None:
    z = pd.Series([0.0, -2.5, 0.0])
    with pytest.raises(PairsError, match="rule"):
        signals(z, entry_z=1.5, rule=SignalRule())
    # Even an explicit value equal to the default is ambiguous next to a rule.
    with pytest.raises(PairsError, match="rule"):
        signals(z, entry_z=2.0, rule=SignalRule(entry_z=1.0))
    with pytest.raises(PairsError, match="rule"):
        signals(z, rule={"entry_z": 2.0})  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="exit_z"):
        signals(z, entry_z=1.0, exit_z=1.01)
    with pytest.raises(DataError, match="zscore"):
        signals(pd.Series([0.0, np.inf]))
    with pytest.raises(DataError, match="zscore"):
        signals(pd.Series(["a", "b"]))
    with pytest.raises(DataError, match="zscore"):
        signals(z.iloc[::-1])


def test_step_rule_bad_inputs() -> None:
    rule = SignalRule()
    with pytest.raises(PairsError, match="state"):
        step_rule((0, 0, 0, 0), 1.0, rule)  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="rule"):
        step_rule(RuleState(), 1.0, {"entry_z": 2.0})  # type: ignore[arg-type]
    with pytest.raises(PairsError, match="z"):
        step_rule(RuleState(), np.inf, rule)
    with pytest.raises(PairsError, match="z"):
        step_rule(RuleState(), "1.0", rule)  # type: ignore[arg-type]
