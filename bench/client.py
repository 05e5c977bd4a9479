"""A small async Kubernetes client for the benchmark's load generator and baseline.

httpx over the kubeconfig's client certificate, JSON in and out, and a watch that yields
events. Deliberately bare: the baseline is meant to be the least a client can do.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import yaml


RETRIES = 8


class ApiError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(f"{status}: {text[:300]}")
        self.status = status


def _file(user: dict[str, Any], key: str) -> str | None:
    """A kubeconfig credential as a file path (inline `-data` values are written to a temp file)."""
    if user.get(key):
        return user[key]
    data = user.get(f"{key}-data")
    if not data:
        return None
    tmp = tempfile.NamedTemporaryFile(delete=False, suffix=".pem")
    tmp.write(base64.b64decode(data))
    tmp.close()
    return tmp.name


def connect(kubeconfig: str, user_agent: str, max_connections: int = 64) -> httpx.AsyncClient:
    with open(kubeconfig) as f:
        config = yaml.safe_load(f)
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    ctx = ssl.create_default_context(cafile=_file(cluster, "certificate-authority"))
    cert = _file(user, "client-certificate")
    if cert:
        ctx.load_cert_chain(cert, _file(user, "client-key"))
    headers = {"User-Agent": user_agent}
    if user.get("token"):
        headers["Authorization"] = f"Bearer {user['token']}"
    return httpx.AsyncClient(
        base_url=cluster["server"], verify=ctx, headers=headers,
        timeout=httpx.Timeout(60, connect=10),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


async def request(client: httpx.AsyncClient, method: str, path: str, body: Any = None,
                  content_type: str = "application/json", params: dict[str, str] | None = None) -> dict[str, Any]:
    """One request; throttling (429), server errors and dropped connections are retried a few times."""
    headers = {"Content-Type": content_type} if body is not None else {}
    content = json.dumps(body) if body is not None else None
    for attempt in range(RETRIES):
        try:
            resp = await client.request(method, path, content=content, headers=headers, params=params)
        except httpx.TransportError:
            if attempt == RETRIES - 1:
                raise
        else:
            if resp.status_code < 400:
                return resp.json() if resp.content else {}
            if resp.status_code != 429 and resp.status_code < 500 or attempt == RETRIES - 1:
                raise ApiError(resp.status_code, resp.text)
        await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


async def watch(client: httpx.AsyncClient, path: str, params: dict[str, str] | None = None
                ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Lists, then watches `path` forever from the list's resourceVersion: (type, object) pairs.

    Existing objects come first as ADDED, then one ("SYNCED", {}). A watch the server ends or a
    dropped connection is resumed from the last version seen; a 410 Gone (history compacted)
    lists again.
    """
    params = dict(params or {})
    version = None
    while True:
        try:
            if version is None:
                listing = await request(client, "GET", path, params=params)
                for item in listing.get("items", []):
                    yield "ADDED", item
                yield "SYNCED", {}
                version = listing["metadata"]["resourceVersion"]
            query = {**params, "watch": "1", "allowWatchBookmarks": "true", "resourceVersion": version,
                     "timeoutSeconds": "600"}
            async with client.stream("GET", path, params=query, timeout=httpx.Timeout(None, connect=10)) as resp:
                if resp.status_code >= 400:
                    raise ApiError(resp.status_code, (await resp.aread()).decode())
                async for line in resp.aiter_lines():
                    if not line:
                        continue
                    event = json.loads(line)
                    kind, obj = event["type"], event["object"]
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            version = None
                        break
                    version = obj["metadata"]["resourceVersion"]
                    if kind != "BOOKMARK":
                        yield kind, obj
        except (httpx.TransportError, ApiError):
            await asyncio.sleep(0.5)
