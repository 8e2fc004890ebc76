"""Run the docstring examples of every module of the installed package."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pairs

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pairs.__path__, prefix="pairs.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, verbose=False
    )
    assert result.failed == 0, f"{result.failed} doctest failure(s) in {name}"


def test_public_functions_have_examples() -> None:
    finder = doctest.DocTestFinder()
    attempted = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert attempted >= 3
