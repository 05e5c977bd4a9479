"""Kubernetes quantities in every form the API server accepts."""

from decimal import Decimal

import pytest

from studio_operator.quantity import quantity_value


@pytest.mark.parametrize("quantity, value", [
    ("100n", "0.0000001"), ("5u", "0.000005"), ("250m", "0.25"), ("2", "2"), (2, "2"), ("1.5", "1.5"),
    (".5", "0.5"), ("+3", "3"), ("1k", "1000"), ("4M", "4000000"), ("1G", "1e9"), ("2T", "2e12"),
    ("1P", "1e15"), ("1E", "1e18"), ("1Ki", "1024"), ("10Gi", "10737418240"), ("1Ti", str(2**40)),
    ("1Pi", str(2**50)), ("2Ei", str(2**61)), ("1e3", "1000"), ("1E3", "1000"), ("12e-2", "0.12"),
    ("1.5e+2", "150"),
])
def test_every_suffix_and_exponent(quantity, value):
    assert quantity_value(quantity) == Decimal(value)


def test_equal_quantities_in_different_forms_are_equal():
    assert quantity_value("0.1") == quantity_value("100m") == quantity_value("100000000n")
    assert quantity_value("1Gi") == quantity_value("1024Mi")


@pytest.mark.parametrize("garbage", ["", "Gi", "1ki", "1 Gi", "1e", "1e1.5", "1Mb", "--1"])
def test_anything_else_is_refused(garbage):
    with pytest.raises(ValueError):
        quantity_value(garbage)
