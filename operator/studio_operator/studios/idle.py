"""Idle stops: when a running studio was last used, and when its idle timeout stops it.

Activity is what is reported on the studio (the `studio.dev/last-activity` annotation, which
`studioctl studio open` and gateways or IDE extensions set) and the start of its pod: a studio
nobody reports on is idle from when it started. See docs/decisions/0034-idle-stops.md.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from .. import durations
from .. import labels as L
from ..actions import Patch
from ..api import CodeStudio, CodeStudioTemplate
from ..api.common import API_VERSION
from ..conditions import parse_time


@dataclasses.dataclass(frozen=True)
class IdleTimeout:
    text: str  # as the spec writes it, for messages
    seconds: float


def idle_timeout(studio: CodeStudio, template: CodeStudioTemplate | None) -> IdleTimeout | None:
    """The studio's own idleTimeout, else its template's; None when neither stops it (unset or 0)."""
    text = studio.spec.idle_timeout or (template.spec.idle_timeout if template else None)
    if not text:
        return None
    seconds = durations.seconds(text)
    return IdleTimeout(text, seconds) if seconds > 0 else None


def _time(value: str | None) -> datetime.datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        return None  # a reporter's typo is no activity; it must not stall the studio


def last_activity(studio: CodeStudio, pod: dict[str, Any], now: datetime.datetime) -> datetime.datetime:
    """The latest of the pod's start, the reported activity and the activity recorded before;
    a report from the future (a reporter's clock ahead of the API server's) counts as now."""
    reported = (studio.metadata.annotations or {}).get(L.LAST_ACTIVITY)
    times = [_time(pod["metadata"].get("creationTimestamp")), _time(reported), _time(studio.status.last_activity)]
    return min(max((t for t in times if t is not None), default=now), now)


def idle_stop(studio: CodeStudio) -> Patch:
    """Stops the studio as a user would (spec.state: Stopped), marking the generation that the
    stop makes, so the status can say why for as long as nobody changed the spec since. The
    patch is conditional: activity reported meanwhile changes the resourceVersion, and the
    studio is looked at again instead."""
    meta = studio.metadata
    return Patch(API_VERSION, "CodeStudio", meta.namespace, meta.name, {
        "metadata": {"resourceVersion": meta.resource_version,
                     "annotations": {L.IDLE_STOPPED: str((meta.generation or 0) + 1)}},
        "spec": {"state": "Stopped"},
    })


def stopped_for_idleness(studio: CodeStudio) -> bool:
    """The studio is stopped by the idle stop of its current generation, not by a user."""
    marker = (studio.metadata.annotations or {}).get(L.IDLE_STOPPED)
    return studio.spec.state == "Stopped" and marker == str(studio.metadata.generation)
