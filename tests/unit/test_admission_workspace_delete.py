"""Deleting a workspace under deletionPolicy Protect: only the studios in its own namespace hold
it back, not those of a namespace it points at but does not own (another workspace's)."""

from __future__ import annotations

import types

import kopf
import pytest

from studio_operator import labels as L
from studio_operator.admission.webhooks import validate_workspace
from studio_operator.config import Config
from tests.unit.workspace_fixtures import namespace, workspace


class FakeKube:
    """Namespace `team`, made for the workspace of `owner_uid`, and that workspace."""

    def __init__(self, owner_uid: str):
        self.ns = namespace(owner_uid=owner_uid)
        self.ns["metadata"]["labels"][L.WORKSPACE] = "owner"
        self.owner = workspace("owner", namespace="team").model_dump(by_alias=True, exclude_none=True)
        self.owner["metadata"]["uid"] = owner_uid

    async def get(self, api_version, kind, namespace, name):
        return {"Namespace": self.ns, "Workspace": self.owner}.get(kind)

    async def list(self, api_version, kind, namespace=None):
        return [{"metadata": {"name": "theirs", "namespace": namespace}}] if kind == "CodeStudio" else []


async def _delete(namespace_owner_uid: str) -> None:
    memo = types.SimpleNamespace(controller=types.SimpleNamespace(kube=FakeKube(namespace_owner_uid), config=Config()))
    # Workspace `team` (uid wuid) with spec.namespace team.
    body = workspace(deletionPolicy="Protect", namespace="team").model_dump(by_alias=True, exclude_none=True)
    await validate_workspace(operation="DELETE", body=body, old=None, userinfo={"username": "olivia"}, memo=memo)


@pytest.mark.asyncio
async def test_studios_in_its_own_namespace_protect_the_workspace():
    with pytest.raises(kopf.AdmissionError, match="still holds 1 CodeStudio"):
        await _delete("wuid")


@pytest.mark.asyncio
async def test_studios_in_a_namespace_it_does_not_own_do_not():
    await _delete("another-workspace-uid")
