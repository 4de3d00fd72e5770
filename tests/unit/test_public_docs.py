"""Every object `torch_tensorrt_annotation` exports documents itself: an example, and what it raises and when.

The `>>>` examples are run here, so they cannot drift from what the code does.
"""

from __future__ import annotations

import doctest
import inspect
import re

import pytest

import torch_tensorrt_annotation as tta

EXPORTED = sorted(set(tta.__all__))
# an "Example::" block (indented code) or an "Example:" section of `>>>` lines
_EXAMPLE = re.compile(r"^Examples?::?\n\n?(    \S|>>> )", re.M)
_RAISES = re.compile(r"^Raises:\n    \w", re.M)


def _doc(name: str) -> str:
    return inspect.getdoc(getattr(tta, name)) or ""


def _is_exception(obj) -> bool:
    return inspect.isclass(obj) and issubclass(obj, BaseException)


def _raises_somewhere(obj) -> bool:
    """Functions may raise through the helpers they call; a class raises when its own code does."""
    return inspect.isfunction(obj) or (inspect.isclass(obj) and "raise " in inspect.getsource(obj))


def test_all_names_each_export_once_and_every_name_exists():
    assert len(tta.__all__) == len(set(tta.__all__)), [n for n in tta.__all__ if tta.__all__.count(n) > 1]
    assert [n for n in tta.__all__ if not hasattr(tta, n)] == []


@pytest.mark.parametrize("name", EXPORTED)
def test_docstring_is_written_and_has_an_example(name):
    doc = _doc(name)
    assert doc, f"tta.{name} has no docstring"
    assert not doc.startswith(f"{name}("), f"tta.{name} has only the signature a dataclass generates"
    assert _EXAMPLE.search(doc), f"tta.{name}: no 'Example::' code block or '>>>' example:\n{doc}"


@pytest.mark.parametrize("name", [n for n in EXPORTED if _raises_somewhere(getattr(tta, n))])
def test_what_raises_has_a_raises_section(name):
    assert _RAISES.search(_doc(name)), f"tta.{name} can raise but its docstring has no 'Raises:' section"


@pytest.mark.parametrize("name", [n for n in EXPORTED if _is_exception(getattr(tta, n))])
def test_each_error_says_when_it_is_raised(name):
    doc = _doc(name)
    word = "warn" if issubclass(getattr(tta, name), Warning) else "Raised"
    assert word in doc, f"tta.{name} does not say when it is {'issued' if word == 'warn' else 'raised'}"


@pytest.mark.parametrize("name", [n for n in EXPORTED if ">>>" in _doc(n)])
def test_examples_run_as_written(name):
    import torch

    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(getattr(tta, name), f"tta.{name}", globs={"tta": tta, "torch": torch}):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted > 0 and results.failed == 0, f"tta.{name}: {results.failed} example(s) failed"


def test_the_checks_fail_on_an_undocumented_export(monkeypatch):
    """The rules above can fail: an export without example or Raises section breaks them."""

    def undocumented(x):
        """Does something."""
        raise ValueError(x)

    monkeypatch.setattr(tta, "undocumented", undocumented, raising=False)
    assert not _EXAMPLE.search(_doc("undocumented"))
    assert _raises_somewhere(undocumented) and not _RAISES.search(_doc("undocumented"))
