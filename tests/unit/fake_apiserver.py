"""A loopback HTTP server standing in for an API server where a test needs only a route or two,
and a kubeconfig pointing at it. kr8s asks for the server's version before anything else."""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import yaml
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _version(_: web.Request) -> web.Response:
    return web.json_response({"major": "1", "minor": "36", "gitVersion": "v1.36.0"})


@contextlib.asynccontextmanager
async def serving(other: Handler | None = None) -> AsyncIterator[str]:
    """The server's URL; `other` answers every request but the version."""
    app = web.Application()
    app.router.add_get("/version/", _version)
    if other is not None:
        app.router.add_route("*", "/{tail:.*}", other)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()


def kubeconfig(directory: pathlib.Path, server: str, user: dict[str, Any], **cluster: Any) -> pathlib.Path:
    path = directory / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }))
    return path
