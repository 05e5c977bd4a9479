"""Kubernetes quantities (resource.Quantity) as exact numbers, for comparing them.

Every form the API server accepts: an optional sign, a decimal number, then a binary suffix
(Ki … Ei), a decimal one (n, u, m, k, M, G, T, P, E) or a decimal exponent (e3, E-2).
Without the kubernetes package, which the operator process hides (launch.py).
"""

from __future__ import annotations

import re
from decimal import Decimal

_SUFFIX = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    **{f"{p}i": Decimal(1024) ** (n + 1) for n, p in enumerate("KMGTPE")},
}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([KMGTPE]i|[numkMGTPE]?)|[eE]([+-]?[0-9]+))")


def quantity_value(q: str | int | float) -> Decimal:
    """The value of a quantity such as 100n, 500m, 2, 10Gi or 1e9; ValueError for anything else."""
    found = _QUANTITY.fullmatch(str(q).strip())
    if found is None:
        raise ValueError(f"{q!r} is not a Kubernetes quantity")
    number, suffix, exponent = found.groups()
    if exponent is not None:
        return Decimal(number).scaleb(int(exponent))
    return Decimal(number) * _SUFFIX[suffix]
