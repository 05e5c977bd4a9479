"""A small async Kubernetes client for the benchmark's load generator and baseline.

aiohttp over the kubeconfig's client certificate, JSON in and out, and a watch that yields
events. Deliberately bare: the baseline is meant to be the least a client can do, and the load
generator should take as little of the machine's two cores as it can
(`python -m bench.clients`: aiohttp costs about a tenth of httpx's CPU per request).
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import yaml

RETRIES = 8
Session = aiohttp.ClientSession
TransportError = (aiohttp.ClientError, asyncio.TimeoutError)


class ApiError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(f"{status}: {text[:300]}")
        self.status = status


def _file(entry: dict[str, Any], key: str) -> str | None:
    """A kubeconfig credential as a file path (inline `-data` values are written to a temp file)."""
    if entry.get(key):
        return entry[key]
    data = entry.get(f"{key}-data")
    if not data:
        return None
    tmp = tempfile.NamedTemporaryFile(delete=False, suffix=".pem")
    tmp.write(base64.b64decode(data))
    tmp.close()
    return tmp.name


def connect(kubeconfig: str, user_agent: str, max_connections: int = 64) -> Session:
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
    return aiohttp.ClientSession(
        base_url=cluster["server"], headers=headers,
        connector=aiohttp.TCPConnector(ssl=ctx, limit=max_connections),
        timeout=aiohttp.ClientTimeout(total=60, connect=10),
    )


async def request(session: Session, method: str, path: str, body: Any = None,
                  content_type: str = "application/json", params: dict[str, str] | None = None) -> dict[str, Any]:
    """One request; throttling (429), server errors and dropped connections are retried a few times."""
    headers = {"Content-Type": content_type} if body is not None else {}
    data = json.dumps(body) if body is not None else None
    for attempt in range(RETRIES):
        last = attempt == RETRIES - 1
        try:
            async with session.request(method, path, data=data, headers=headers, params=params) as resp:
                content = await resp.read()
                status = resp.status
        except TransportError:
            if last:
                raise
        else:
            if status < 400:
                return json.loads(content) if content else {}
            if (status != 429 and status < 500) or last:
                raise ApiError(status, content.decode(errors="replace"))
        await asyncio.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


async def text(session: Session, path: str) -> str:
    async with session.get(path) as resp:
        resp.raise_for_status()
        return await resp.text()


async def watch(session: Session, path: str, params: dict[str, str] | None = None
                ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Lists, then watches `path` forever from the list's resourceVersion: (type, object) pairs.

    Existing objects come first as ADDED, then one ("SYNCED", {}). A watch the server ends or a
    dropped connection is resumed from the last version seen; a 410 Gone (history compacted)
    lists again.
    """
    params = dict(params or {})
    version = None
    forever = aiohttp.ClientTimeout(total=None, connect=10)
    while True:
        try:
            if version is None:
                listing = await request(session, "GET", path, params=params)
                for item in listing.get("items", []):
                    yield "ADDED", item
                yield "SYNCED", {}
                version = listing["metadata"]["resourceVersion"]
            query = {**params, "watch": "1", "allowWatchBookmarks": "true", "resourceVersion": version,
                     "timeoutSeconds": "600"}
            async with session.get(path, params=query, timeout=forever) as resp:
                if resp.status >= 400:
                    raise ApiError(resp.status, await resp.text())
                buffer = b""
                async for chunk in resp.content.iter_any():
                    *lines, buffer = (buffer + chunk).split(b"\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        kind, obj = event["type"], event["object"]
                        if kind == "ERROR":
                            if obj.get("code") == 410:
                                version = None
                            raise ApiError(obj.get("code", 500), obj.get("message", ""))
                        version = obj["metadata"]["resourceVersion"]
                        if kind != "BOOKMARK":
                            yield kind, obj
        except (*TransportError, ApiError):
            await asyncio.sleep(0.5)
