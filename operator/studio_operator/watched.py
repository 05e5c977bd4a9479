"""What the operator keeps of each object it watches: the parts its indexes and handlers read.

Every watched object is slimmed as it arrives from the API server, before kopf sees it: at
startup kopf holds every listed object until all indexes have seen them all, and afterwards the
indexes and the relisting (watch_gaps) keep them. A studio's six objects are 100 KB of Python
objects as the API server sends them, half of it managedFields; slimmed and with their keys and
short strings shared, 17 KB (bench/README.md).

The reconcilers read children only through the indexes, so what is dropped here is what no
reconciler can depend on: managedFields, kubectl's last-applied copy of the object, a pod's spec
beyond its images, a studio Service's spec and status (its spec-hash annotation says whether it
is current), and top-level sections other than spec and status (a Role's rules, a binding's
subjects: the operator applies them, it never reads them back).
"""

from __future__ import annotations

import sys
from typing import Any

METADATA = ("name", "namespace", "uid", "generation", "resourceVersion", "labels", "annotations",
            "deletionTimestamp", "creationTimestamp", "finalizers", "ownerReferences")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SECTIONS = ("spec", "status")
SECTIONS_OF = {"Service": ()}
# Strings up to this long are shared between bodies (names, label values, states, timestamps,
# images); longer ones are rarely repeated.
SHARED_STRING_MAX = 64


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    kept = {k: meta[k] for k in METADATA if k in meta}
    if LAST_APPLIED in (kept.get("annotations") or {}):
        kept["annotations"] = {k: v for k, v in kept["annotations"].items() if k != LAST_APPLIED}
    kind = obj.get("kind")
    out = {k: obj[k] for k in ("apiVersion", "kind") if k in obj}
    out["metadata"] = kept
    out.update((k, obj[k]) for k in SECTIONS_OF.get(kind, SECTIONS) if k in obj)
    if kind == "Pod" and "spec" in obj:
        out["spec"] = {"containers": [{"image": c.get("image")} for c in obj["spec"].get("containers") or ()]}
    return _shared(out)


def _shared(value: Any) -> Any:
    """A copy whose keys and short strings are interned: each watch event is parsed on its own,
    so without this every body holds its own "lastTransitionTime", "app.kubernetes.io/name", ...
    (a quarter of a slimmed studio's memory, measured)."""
    if isinstance(value, dict):
        return {sys.intern(k): _shared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shared(v) for v in value]
    if isinstance(value, str) and len(value) <= SHARED_STRING_MAX:
        return sys.intern(value)
    return value
