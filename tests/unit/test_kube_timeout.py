"""A request the API server never answers fails with RetryLater instead of holding its worker."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from studio_operator.kube import Kube, RetryLater

from .fake_apiserver import kubeconfig, serving


@pytest.mark.asyncio
async def test_a_hung_request_times_out_as_retry_later(tmp_path, monkeypatch):
    async def hang(_: web.Request) -> web.Response:
        await asyncio.Event().wait()  # a half-open connection: never an answer
        raise AssertionError("unreachable")

    async with serving(hang) as server:
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, server, {})))
        monkeypatch.setattr(Kube, "TIMEOUT", aiohttp.ClientTimeout(total=0.2))
        client = await Kube.connect()
        with pytest.raises(RetryLater, match="Timeout"):
            await client.get("v1", "Pod", "ns", "studio")
        await client.close()
