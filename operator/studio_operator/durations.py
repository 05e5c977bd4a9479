"""Durations as Go and kubectl write them (90s, 30m, 1h30m, 500ms), as the API's fields hold them."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(text: str) -> float:
    """Seconds in a duration such as `90s`, `1h30m` or `0`; ValueError names what is accepted."""
    text = text.strip()
    if text == "0":
        return 0.0
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 30m or 1h30m")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)

