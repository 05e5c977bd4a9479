"""Workspaces: the collection (iterate, len, get, create, delete) and a handle on one."""

from __future__ import annotations

from typing import Any

from .. import api
from ..api.workspace import Member, WorkspaceSpec
from .collection import Collection
from .handle import Handle
from .errors import NotFound, validated
from .operations import Operation, gone, status_reached
from .resources import CODE_STUDIOS, WORKSPACES
from .studios import CodeStudio


def namespace_of(ws: dict[str, Any]) -> str:
    """The namespace a Workspace object's studios live in (workspace_ref's rule, on a raw object):
    spec.namespace, which is immutable, else its name."""
    return ws["spec"].get("namespace") or ws["metadata"]["name"]


def _same_member(m: dict[str, Any], name: str, kind: str) -> bool:
    return m.get("name") == name and m.get("kind", "User") == kind


class Workspace(Handle[api.Workspace]):
    """One Workspace; `info()` is the whole object: `.spec`, `.status.phase`, `.status.code_studios`, ..."""

    kind = WORKSPACES

    @property
    def namespace(self) -> str:
        """The namespace the workspace's studios live in."""
        return namespace_of(self.raw)

    @property
    def users(self) -> list[Member]:
        """The members as declared in spec (read afresh)."""
        return self.info().spec.members

    def add_user(self, name: str, role: str = "member", kind: str = "User", namespace: str | None = None) -> Member:
        """Makes name a member with role (owner, admin, member, viewer); changes the role of an
        existing member. `namespace` is for ServiceAccount members."""
        member = validated(Member, name=name, role=role, kind=kind, namespace=namespace)

        def put(obj: dict[str, Any]) -> None:
            members = [m for m in obj["spec"].get("members", []) if not _same_member(m, name, kind)]
            obj["spec"]["members"] = [*members, member.to_dict()]

        self.raw = self._objects().update(self.name, put)
        return member

    def remove_user(self, name: str, kind: str = "User") -> None:
        """Removes the member; NotFound when name is not one."""

        def drop(obj: dict[str, Any]) -> None:
            members = obj["spec"].get("members", [])
            if not any(_same_member(m, name, kind) for m in members):
                raise NotFound(f"{kind} {name} is not a member of workspace {self.name}")
            obj["spec"]["members"] = [m for m in members if not _same_member(m, name, kind)]

        self.raw = self._objects().update(self.name, drop)

    def _until(self, phase: str) -> Operation[api.WorkspaceStatus]:
        """A future done once the operator reports phase for the generation last written."""
        judge = status_reached(f"Workspace {self.name}", "phase", phase, self.raw["metadata"]["generation"],
                               api.WorkspaceStatus.model_validate)
        return Operation(f"Workspace {self.name} to be {phase}", self._read, judge)

    def stop(self) -> Operation[api.WorkspaceStatus]:
        """Stops every studio in the workspace and keeps every volume; done once phase is Stopped."""
        self.raw = self._objects().patch(self.name, {"spec": {"state": "Stopped"}})
        return self._until("Stopped")

    def start(self) -> Operation[api.WorkspaceStatus]:
        """Lets the studios run again (each as its own spec.state says); done once phase is Active."""
        self.raw = self._objects().patch(self.name, {"spec": {"state": "Active"}})
        return self._until("Active")

    def ready(self) -> Operation[api.WorkspaceStatus]:
        """A future that is done once the operator reports the workspace Active: its namespace,
        role bindings and quota applied. The Ready condition may still be False (ClusterRoleMissing,
        QuotaPending); see status.conditions."""
        return self._until("Active")

    def delete(self) -> Operation[None]:
        """Deletes the workspace (refused under deletionPolicy Protect while it holds studios);
        done once it is gone."""
        self._objects().delete(self.name)
        return Operation(f"Workspace {self.name} to be deleted", self._read, gone(f"Workspace {self.name}"))

    def code_studios(
        self, owner: str | None = None, state: str | None = None, template: str | None = None
    ) -> list[CodeStudio]:
        """The workspace's CodeStudios, filtered by owner, status state and template."""
        return self._client.code_studios(self.namespace, owner=owner, state=state, template=template)

    def code_studio(self, name: str) -> CodeStudio | None:
        """The CodeStudio name in this workspace, or None with a warning."""
        return CodeStudio.lookup(self._client, name, self.namespace)

    def create_code_studio(self, name: str, template: str, owner: str | None = None, **spec: Any) -> CodeStudio:
        """Creates a CodeStudio from template; owner defaults (by admission) to the calling user.
        Further spec fields as keyword arguments in snake_case, e.g. state="Stopped"."""
        fields = validated(api.CodeStudioSpec, template=template, owner=owner, **spec).to_dict()
        obj = self._client.objects(CODE_STUDIOS).create(CODE_STUDIOS.body(name, fields, self.namespace))
        return CodeStudio(self._client, obj)


class Workspaces(Collection[Workspace]):
    """Every Workspace in the cluster: iterate, `len()`, `name in`, `get(name)`, `create`, `delete`."""

    handle = Workspace

    def create(self, name: str, **spec: Any) -> Workspace:
        """Creates a workspace; spec fields as keyword arguments in snake_case, e.g.
        `create("team-a", display_name="Team A", members=[Member(name="alice", role="owner")])`.
        `.ready()` on the result waits until the operator reports it Active."""
        fields = validated(WorkspaceSpec, **spec).to_dict()
        return Workspace(self._client, self._objects().create(WORKSPACES.body(name, fields)))

    def delete(self, name: str) -> Operation[None]:
        """Deletes the workspace name; see Workspace.delete."""
        return Workspace(self._client, self._objects().get(name)).delete()
