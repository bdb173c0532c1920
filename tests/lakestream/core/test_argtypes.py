"""Number arguments refuse what would fail later as an internal error: infinities, NaN."""

from __future__ import annotations

import argparse

import pytest

from lakestream.core.argtypes import non_negative, positive


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "-1", "x"])
def test_a_non_negative_number_refuses_what_is_not_one(text):
    with pytest.raises(argparse.ArgumentTypeError):
        non_negative(float)(text)


def test_bounds():
    assert non_negative(float)("0") == 0.0
    assert positive(int)("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match="greater than 0"):
        positive(float)("0")
