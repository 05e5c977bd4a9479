"""Kubernetes Events about the operator's objects (core/v1, which kubectl describe shows)."""

from __future__ import annotations

import datetime
import socket
from typing import Any

from .conditions import rfc3339
from .labels import FIELD_MANAGER

INSTANCE = socket.gethostname()


def build_event(involved: dict[str, Any], type_: str, reason: str, message: str, at: datetime.datetime) -> dict[str, Any]:
    meta = involved["metadata"]
    # Events about cluster-scoped objects live in "default", as kubectl expects.
    namespace = meta.get("namespace") or "default"
    stamp = rfc3339(at)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{meta['name']}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": FIELD_MANAGER},
        "reportingComponent": FIELD_MANAGER,
        "reportingInstance": INSTANCE,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
