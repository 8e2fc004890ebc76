"""Screening a universe: every pair's Engle-Granger test with multiple-testing correction."""

from pairs.screening._scan import ScanResult, scan
from pairs.screening._simulate import SimulatedUniverse, simulate_universe

__all__ = ["ScanResult", "SimulatedUniverse", "scan", "simulate_universe"]
