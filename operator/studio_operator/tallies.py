"""Counts in a status (a template's studios; a workspace's studios and quota usage) follow every
studio that comes, goes or changes state. While only they change, they are written at most once
every TALLY_EVERY seconds: a write per burst of studios, not per studio (docs/decisions/0031).
The first change after a quiet spell is written at once."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .controller import Controller

TALLY_EVERY = 10.0


def tally_wait(ctrl: Controller, key: Hashable, patch: dict[str, Any], tallies: Collection[str],
               at: datetime.datetime) -> float | None:
    """Seconds until a status patch that changes only `tallies` is due; None when it is to be
    written now, which is then remembered as the object's last status write."""
    written: dict[Hashable, datetime.datetime] = ctrl.memo.setdefault("tally-written", {})
    last = written.get(key)
    if last is not None and patch.keys() <= set(tallies):
        wait = TALLY_EVERY - (at - last).total_seconds()
        if wait > 0:
            return wait
    written[key] = at
    return None


def forget(ctrl: Controller, key: Hashable) -> None:
    """The object is gone: its last write need not be remembered."""
    ctrl.memo.get("tally-written", {}).pop(key, None)

