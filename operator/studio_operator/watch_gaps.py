"""Two gaps in kopf's watching that its settings do not close, closed around continuous_watch(),
where every object is also slimmed to what the operator reads of it (watched.py) and the
studios' children are taken into the operator's own index (child_index.py) instead of kopf's.

1. An ERROR event in a watch-stream stops the whole operator. The API server ends a watch so
   when etcd fails it (a leader change, a timeout); kopf expects only code 410 (expired). Here
   any watch error ends that stream, and kopf's infinite_watch() lists and watches anew, as
   client-go's reflector does. So does a listing whose page the API server refuses with 410
   Gone (its continue token expired), which kopf lets through to stop the operator too.
2. After such a fresh listing (also after every 410), kopf keeps in its indexes the objects
   that were deleted while no watch ran: nothing tells it they are gone, so a studio would wait
   for ever on a pod that no longer exists. Here each listing is compared with what the stream
   had before, and a DELETED event is made up for every object missing from it, as client-go's
   Replace() does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from kopf._cogs.clients import errors, watching

from .child_index import CHILDREN
from .watched import slim

log = logging.getLogger(__name__)

RESTART_DELAY = 1.0  # seconds before listing again, so a failing server is not hammered

_continuous_watch = watching.continuous_watch

# (resource, namespace) -> uid -> the last (slimmed) body seen, across the stream's restarts:
# the indexes keep shallow copies of these same bodies, so this map adds little more than an
# entry per watched object.
_known: dict[tuple[Any, Any], dict[str, Any]] = {}


def _uid(event: dict[str, Any]) -> str | None:
    return (event.get("object") or {}).get("metadata", {}).get("uid")


async def continuous_watch_relisting(**kwargs: Any) -> AsyncIterator[Any]:
    async for event in _relisting(**kwargs):
        if not CHILDREN.take(kwargs.get("resource"), event):
            yield event


async def _relisting(**kwargs: Any) -> AsyncIterator[Any]:
    known = _known.setdefault((kwargs.get("resource"), kwargs.get("namespace")), {})
    listed: set[str] | None = set()  # uids of the listing in progress; None once it is over
    try:
        async for event in _continuous_watch(**kwargs):
            if event is watching.Bookmark.LISTED:
                for uid in set(known) - listed:
                    log.info("%s %s was deleted while not watched", kwargs.get("resource"), uid)
                    yield {"type": "DELETED", "object": known.pop(uid)}
                listed = None
            elif isinstance(event, dict) and (uid := _uid(event)):
                event = {**event, "object": slim(event["object"])}
                if event.get("type") == "DELETED":
                    known.pop(uid, None)
                elif event.get("type") != "BOOKMARK":
                    known[uid] = event["object"]
                    if listed is not None and event.get("type") is None:
                        listed.add(uid)
            yield event
    except (watching.WatchingError, errors.APIClientError) as exc:
        if isinstance(exc, errors.APIClientError) and exc.status != 410:
            raise
        log.warning("restarting the watch of %s: %s", kwargs.get("resource"), exc)
        await asyncio.sleep(RESTART_DELAY)


def install() -> None:
    watching.continuous_watch = continuous_watch_relisting
