"""A simulated trading bot driven by ``pairs signal --follow`` through a pipe.

Run: ``python examples/04_streaming_bot.py`` (offline, bundled data).

The bot starts ``pairs signal --follow`` as a subprocess, writes one bar per line to its stdin
(``timestamp,y,x``) and reads one JSON signal per line from its stdout. Halfway through it
stops the signal process, as a crash or a deploy would, and starts a new one with the same
``--state`` file: the engine state saved after every bar makes the second process continue
exactly where the first one stopped.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pairs

OPTIONS = ["--log", "--delta", "1e-5", "--entry-z", "1.5", "--exit-z", "0", "--capital", "10000"]


class SignalProcess:
    """One ``pairs signal --follow`` process: send a bar, read its signal."""

    def __init__(self, state: Path) -> None:
        command = [sys.executable, "-m", "pairs", "signal", "--follow", "--state", str(state), *OPTIONS]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def send(self, timestamp, y: float, x: float) -> dict:
        self.proc.stdin.write(f"{timestamp.isoformat()},{y!r},{x!r}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"signal process stopped (exit code {self.proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


prices = pairs.load_sample("binance_1d")[["ETH", "BTC"]].dropna().iloc[-730:]
bars = list(zip(prices.index, prices["ETH"], prices["BTC"], strict=True))
restart_at = len(bars) // 2
trades, units = [], (0.0, 0.0)

with tempfile.TemporaryDirectory() as tmp:
    state = Path(tmp) / "engine.json"
    bot = SignalProcess(state)
    for i, (timestamp, eth, btc) in enumerate(bars):
        if i == restart_at:
            bot.close()
            print(f"-- restart after bar {i}: a new process resumes from {state.name}")
            bot = SignalProcess(state)
        signal = bot.send(timestamp, eth, btc)
        if signal["action"] != "hold":
            trades.append(signal)
            print(
                f"{timestamp:%Y-%m-%d}  {signal['action']:<12} z={signal['zscore']:+.2f}  "
                f"ETH {signal['y_units']:+.3f}  BTC {signal['x_units']:+.4f}"
            )
        units = (signal["y_units"], signal["x_units"])
    bot.close()

print(
    f"\nBot processed {len(bars)} bars across 2 processes: {len(trades)} actions; final units "
    f"ETH {units[0]:+.3f}, BTC {units[1]:+.4f}"
)
