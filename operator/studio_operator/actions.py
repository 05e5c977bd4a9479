"""What a pure plan asks for (create, apply, delete, patch), and the glue that carries it out."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .controller import Controller


@dataclasses.dataclass(frozen=True)
class Apply:
    """Server-side apply of a child the operator owns."""

    manifest: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Create:
    """Create, never update: for objects whose spec is immutable or that must not be adopted."""

    manifest: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Delete:
    """Delete that incarnation (uid) of an object; namespace defaults to the reconciled one."""

    kind: str
    name: str
    uid: str
    api_version: str = "v1"
    namespace: str | None = None


@dataclasses.dataclass(frozen=True)
class Patch:
    """A merge patch (with metadata.resourceVersion in it, a conditional one)."""

    api_version: str
    kind: str
    namespace: str | None
    name: str
    patch: dict[str, Any]


Action = Apply | Create | Delete | Patch


async def execute(ctrl: Controller, namespace: str | None, action: Action) -> Any:
    if isinstance(action, Apply):
        return await ctrl.kube.apply(action.manifest)
    if isinstance(action, Create):
        return await ctrl.kube.create(action.manifest)
    if isinstance(action, Patch):
        return await ctrl.kube.patch(action.api_version, action.kind, action.namespace, action.name, action.patch)
    return await ctrl.kube.delete(action.api_version, action.kind, action.namespace or namespace, action.name, action.uid)
