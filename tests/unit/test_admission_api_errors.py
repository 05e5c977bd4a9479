"""The studio webhook when the API server cannot answer its reads: rules with a backstop let the
request through (the webhook fails open); the owner rule, which has none, refuses it."""

from __future__ import annotations

import types

import kopf
import pytest

from studio_operator.admission.webhooks import validate_studio
from studio_operator.config import Config
from studio_operator.kube import ApiError


class DownKube:
    async def _fail(self, *_, **__):
        raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")

    get = list = create = _fail


MEMO = types.SimpleNamespace(controller=types.SimpleNamespace(kube=DownKube(), config=Config()))
ALICE = {"username": "alice", "groups": ["system:authenticated"]}


def _studio(owner: str, namespace: str = "team") -> dict:
    return {"metadata": {"name": "s", "namespace": namespace}, "spec": {"template": "py", "owner": owner}}


async def _validate(body: dict) -> None:
    await validate_studio(operation="CREATE", body=body, old=None, userinfo=ALICE,
                          namespace=body["metadata"]["namespace"], memo=MEMO)


@pytest.mark.asyncio
async def test_a_studio_of_ones_own_passes_when_the_api_cannot_answer():
    await _validate(_studio("alice"))


@pytest.mark.asyncio
async def test_a_studio_for_someone_else_is_refused_when_the_owner_rule_cannot_be_checked():
    with pytest.raises(kopf.AdmissionError, match="could not check that alice may make bob the owner"):
        await _validate(_studio("bob"))


@pytest.mark.asyncio
async def test_a_reserved_namespace_needs_no_api_to_refuse():
    with pytest.raises(kopf.AdmissionError, match="namespace kube-system is reserved"):
        await _validate(_studio("alice", namespace="kube-system"))
