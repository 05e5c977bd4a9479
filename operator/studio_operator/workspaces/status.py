"""Pure status logic: what the workspace's quota and studios say about it."""

from __future__ import annotations

from typing import Any

from ..quantity import quantity_value
from .children import USAGE_NAMES


def studio_counts(studios: list[dict[str, Any]]) -> dict[str, int]:
    states = [(s.get("status") or {}).get("state") for s in studios]
    return {"total": len(states), "running": states.count("Running"), "stopped": states.count("Stopped")}


def usage(quota: dict[str, Any] | None) -> dict[str, str]:
    """The ResourceQuota's counted usage under the names spec.quota uses."""
    used = ((quota or {}).get("status") or {}).get("used") or {}
    return {USAGE_NAMES[k]: str(v) for k, v in sorted(used.items()) if k in USAGE_NAMES}


def quota_enforced(hard: dict[str, str], quota: dict[str, Any] | None) -> bool:
    """Whether the quota controller has counted usage against exactly these limits. Until it
    has, the API server refuses creates in the namespace that the quota covers."""
    status = (quota or {}).get("status") or {}
    counted = status.get("hard") or {}
    if set(counted) != set(hard) or set(status.get("used") or {}) != set(hard):
        return False
    return all(quantity_value(counted[k]) == quantity_value(v) for k, v in hard.items())


def waiting_for_quota(studio: dict[str, Any]) -> bool:
    """A studio that wants to run but found every running slot taken."""
    return any(c.get("type") == "PodReady" and c.get("reason") == "QuotaExceeded"
               for c in (studio.get("status") or {}).get("conditions") or ())
