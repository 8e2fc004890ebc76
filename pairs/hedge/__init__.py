"""Hedge-ratio estimators."""
