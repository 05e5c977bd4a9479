"""A request the API server never answers fails with RetryLater instead of holding its worker."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from studio_operator import kube
from studio_operator.kube import Kube, RetryLater


@pytest.mark.asyncio
async def test_a_hung_request_times_out_as_retry_later(tmp_path, monkeypatch):
    async def version(_: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "36", "gitVersion": "v1.36.0"})

    async def hang(_: web.Request) -> web.Response:
        await asyncio.Event().wait()  # a half-open connection: never an answer
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_get("/version/", version)  # kr8s checks the server version first
    app.router.add_route("*", "/{tail:.*}", hang)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr(kube, "REQUEST_TIMEOUT", kube.httpx.Timeout(0.2))
    try:
        client = await Kube.connect()
        with pytest.raises(RetryLater, match="Timeout"):
            await client.get("v1", "Pod", "ns", "studio")
    finally:
        await runner.cleanup()
