"""Conditions as the Kubernetes API conventions describe them, and RFC 3339 times."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def rfc3339(t: datetime.datetime) -> str:
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime.datetime | None:
    """An RFC 3339 time, as the API server's date-time format accepts it: "T" and "Z" in either
    case (fromisoformat refuses a lower-case "z"), fractional seconds of any length (cut to
    microseconds)."""
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


# The most characters a condition's (and a studio's status) message may have (the CRDs' maxLength):
# a longer one fails the whole status write (422), and the object would show nothing at all.
MESSAGE_MAX = 4096
# The most of an API server's refusal a message quotes, leaving room for what to do about it (an
# admission webhook may deny with pages of text).
REFUSAL_MAX = 3000


def clip(text: str, limit: int = MESSAGE_MAX) -> str:
    """The text, cut to `limit` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def condition(type_: str, ok: bool | None, reason: str, message: str = "") -> dict[str, Any]:
    status = "Unknown" if ok is None else ("True" if ok else "False")
    return {"type": type_, "status": status, "reason": reason, "message": clip(message)}


def merge_conditions(
    previous: Iterable[dict[str, Any]] | None,
    current: Iterable[dict[str, Any]],
    generation: int | None,
    at: datetime.datetime,
) -> list[dict[str, Any]]:
    """Stamps the new conditions, keeping lastTransitionTime where the status did not change."""
    before = {c.get("type"): c for c in previous or ()}
    merged = []
    for c in current:
        old = before.get(c["type"])
        moved = old is None or old.get("status") != c["status"]
        stamp = rfc3339(at) if moved else old.get("lastTransitionTime", rfc3339(at))
        merged.append({**c, "lastTransitionTime": stamp, "observedGeneration": generation})
    return merged


def get_condition(conditions: Iterable[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    return next((c for c in conditions or () if c.get("type") == type_), None)


def ready_status(obj: dict[str, Any]) -> str | None:
    """The status of an object's Ready condition, as the printer columns show it."""
    return (get_condition((obj.get("status") or {}).get("conditions"), "Ready") or {}).get("status")


def status_patch(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The merge patch that turns the stored status into the desired one: changed fields, and null
    for fields no longer wanted. Empty when nothing changes."""
    desired = {k: v for k, v in desired.items() if v is not None}
    patch = {k: v for k, v in desired.items() if current.get(k) != v}
    patch.update({k: None for k in current if k not in desired})
    return patch
