"""The studios' children (pod, claim, Service, Role, RoleBinding), indexed by the operator itself
as they stream in, before kopf sees them.

For every object it processes, kopf keeps machinery of its own: a worker task with its queue
and events while the object changes, a memory of the object for as long as it exists, and at
startup a toggle of its index gate that holds the worker, and the object, until every index
has seen every listed object. The operator needs none of that for a studio's children, five of
the six objects it watches per studio: it keeps their bodies and queues their studio. So the
watch stream (watch_gaps.py) hands every object of these kinds that carries a studio label to
CHILDREN, and kopf sees the rest of the stream (its listing bookmarks, image-build pods,
workspace RoleBindings). kopf still does the watching: listing in pages, reconnecting,
relisting after 410 Gone, backing off (decision 0033).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, ValuesView
from typing import Any

from kopf._cogs.clients import watching

from . import labels as L

Key = tuple[str, str]  # (namespace, studio)

# (API group, plural) -> the index the reconcilers read it from.
KINDS = {
    ("", "pods"): "studio_pods",
    ("", "persistentvolumeclaims"): "studio_pvcs",
    ("", "services"): "studio_services",
    ("rbac.authorization.k8s.io", "roles"): "studio_roles",
    ("rbac.authorization.k8s.io", "rolebindings"): "studio_rolebindings",
}


class ChildIndex(Mapping[Key, ValuesView]):
    """Bodies by their studio, read as kopf's indexes are: index[key] is a collection of bodies."""

    def __init__(self) -> None:
        self._by_key: dict[Key, dict[str, dict[str, Any]]] = {}

    def __getitem__(self, key: Key) -> ValuesView:
        return self._by_key[key].values()

    def __iter__(self) -> Iterator[Key]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def put(self, key: Key, uid: str, body: dict[str, Any]) -> None:
        self._by_key.setdefault(key, {})[uid] = body

    def drop(self, key: Key, uid: str) -> None:
        bodies = self._by_key.get(key)
        if bodies is not None:
            bodies.pop(uid, None)
            if not bodies:
                del self._by_key[key]


def _studio_key(obj: dict[str, Any]) -> Key | None:
    meta = obj.get("metadata") or {}
    studio = (meta.get("labels") or {}).get(L.STUDIO)
    return (meta.get("namespace"), studio) if studio and meta.get("namespace") else None


# What a kubelet says of a pending pod's containers while it creates them (pulling the image
# included): every pod passes through it, and it settles nothing.
BEING_CREATED = frozenset({"ContainerCreating", "PodInitializing"})


def _settles(pod_event: dict[str, Any]) -> bool:
    """Whether a pod's event may settle its studio's state: the pod went or is going, runs or
    ended, or the kubelet reported a container running, ended, or waiting for something other
    than its creation (a pull error, a crash loop). Not its arrival (the echo of its creation),
    a pending pod's scheduling steps, nor its containers being created, which only change the
    conditions of a Starting that a later look writes once."""
    if pod_event.get("type") == "DELETED":
        return True
    if pod_event.get("type") != "MODIFIED":
        return False
    pod = pod_event.get("object") or {}
    status = pod.get("status") or {}
    return bool(pod["metadata"].get("deletionTimestamp") or status.get("phase", "Pending") != "Pending"
                or any(_container_news(c.get("state") or {}) for c in status.get("containerStatuses") or ()))


def _container_news(state: dict[str, Any]) -> bool:
    waiting = state.get("waiting") or {}
    return "running" in state or "terminated" in state or waiting.get("reason") not in BEING_CREATED


class Children:
    def __init__(self) -> None:
        self.indexes = {name: ChildIndex() for name in KINDS.values()}
        self._keys: dict[str, Key] = {}  # uid -> the studio it is indexed under
        self._listed: set[str] = set()
        # Set once every kind has been listed: until then a studio's children may be missing.
        self.listed = asyncio.Event()
        # Called with (namespace, studio, urgent) whenever one of its children changed; urgent
        # when a change of its pod may settle its state, which a user is waiting to see.
        self.changed: Callable[[str, str, bool], None] = lambda namespace, studio, urgent: None

    def take(self, resource: Any, event: Any) -> bool:
        """Indexes a watch event of a studio's child; False for anything else, which goes on to kopf."""
        index = KINDS.get((getattr(resource, "group", None), getattr(resource, "plural", None)))
        if index is None:
            return False
        if event is watching.Bookmark.LISTED:
            self._listed.add(index)
            if len(self._listed) == len(KINDS):
                self.listed.set()
            return False
        if not isinstance(event, dict) or event.get("type") == "BOOKMARK":
            return False
        obj = event.get("object") or {}
        uid = (obj.get("metadata") or {}).get("uid")
        key, was = _studio_key(obj), self._keys.get(uid)
        if uid is None or (key is None and was is None):
            return False
        gone = event.get("type") == "DELETED"
        urgent = index == "studio_pods" and _settles(event)
        if was is not None and (gone or was != key):
            self.indexes[index].drop(was, uid)
            del self._keys[uid]
            self.changed(*was, urgent)
        if key is not None and not gone:
            self.indexes[index].put(key, uid, obj)
            self._keys[uid] = key
            self.changed(*key, urgent)
        # An object that lost its studio label goes on to kopf, whose filters may want it now.
        return key is not None


CHILDREN = Children()
