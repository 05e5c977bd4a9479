"""Rendering for the CLI: kubectl-style tables, describe-style detail views, JSON and YAML."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from ..conditions import parse_time

NONE = "<none>"
FORMATS = ("table", "json", "yaml")


def cell(value: Any) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Left-aligned columns three spaces apart, as kubectl prints them; empty cells as <none>."""
    cells = [list(headers)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def age(timestamp: str | datetime.datetime | None, now: datetime.datetime) -> str:
    """How long ago, as kubectl's AGE column says it: 45s, 3m12s, 4h, 2d5h, 40d."""
    then = parse_time(timestamp) if isinstance(timestamp, str) else timestamp
    if then is None:
        return NONE
    seconds = max(0, int((now - then).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    return f"{days}d"


def details(pairs: Iterable[tuple[str, Any]]) -> str:
    """`Label:  value` lines with the values aligned, as kubectl describe prints them."""
    pairs = list(pairs)
    width = max((len(label) for label, _ in pairs), default=0) + 2
    return "\n".join(f"{label + ':':<{width}}{cell(value)}".rstrip() for label, value in pairs)


def section(title: str, body: str) -> str:
    """A titled block, its body indented two spaces; <none> when empty."""
    lines = body.splitlines() or [NONE]
    return "\n".join([f"{title}:", *("  " + line for line in lines)])


def conditions(items: Iterable[dict[str, Any]], now: datetime.datetime) -> str:
    rows = [
        (c.get("type"), c.get("status"), c.get("reason"), age(c.get("lastTransitionTime"), now), c.get("message"))
        for c in items
    ]
    return table(["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"], rows) if rows else ""


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without managedFields, which only kubectl --show-managed-fields prints."""
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata} if "metadata" in obj else obj


def as_list(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Objects wrapped as kubectl wraps them for -o json / -o yaml."""
    return {"apiVersion": "v1", "kind": "List", "items": [clean(i) for i in items], "metadata": {}}


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, default=str)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip("\n")
