"""A library's warning reaches the terminal once, as one line in our words;
deprecations not at all; --debug leaves warnings as Python shows them."""

from __future__ import annotations

import warnings

import pytest

from cardiobench import library_warnings


def test_one_line_once_and_no_deprecations(capsys):
    with library_warnings.in_our_words():
        for _ in range(3):
            warnings.warn("Only one class is present in y_true.\n  ROC AUC is not defined.", UserWarning)
        warnings.warn("old API", DeprecationWarning)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: Only one class is present in y_true. ROC AUC is not defined. (UserWarning from ")
    assert "old API" not in err and "warnings.warn" not in err


def test_debug_leaves_warnings_to_python(capsys):
    with library_warnings.in_our_words(debug=True), pytest.warns(UserWarning, match="raw form"):
        warnings.warn("raw form", UserWarning)
    assert "warning: raw form" not in capsys.readouterr().err
