"""Which HTTP client for the operator's hot path: CPU per request, measured.

    KUBECONFIG=... python -m bench.clients [REQUESTS] [CONCURRENCY]

Sends the same requests (half server-side applies of a small ConfigMap, half GETs of it) through
httpx (what kr8s uses), aiohttp (what kopf uses) and the operator's own `Kube`, one after the
other, and reports this process's CPU time per request and the requests per second. CPU per
request is the figure that matters on a busy machine: wall time depends on the API server and
on everyone else's load.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import time

import aiohttp
import httpx
import yaml

from studio_operator.kube import Kube

NAMESPACE = "bench-clients"


def _cluster() -> tuple[str, ssl.SSLContext]:
    with open(os.environ["KUBECONFIG"]) as f:
        config = yaml.safe_load(f)
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])
    ctx.load_cert_chain(user["client-certificate"], user["client-key"])
    return cluster["server"], ctx


def _requests(n: int) -> list[tuple[str, str, dict | None]]:
    out = []
    for i in range(n):
        name = f"cm-{(i // 2) % 50}"
        path = f"/api/v1/namespaces/{NAMESPACE}/configmaps/{name}"
        if i % 2 == 0:
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NAMESPACE},
                    "data": {"key": "value"}}
            out.append(("PATCH", path, body))
        else:
            out.append(("GET", path, None))
    return out


APPLY = {"Content-Type": "application/apply-patch+yaml"}
PARAMS = {"fieldManager": "bench", "force": "true"}


async def run_httpx(server: str, ctx: ssl.SSLContext, reqs, concurrency: int) -> None:
    async with httpx.AsyncClient(base_url=server, verify=ctx) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(method, path, body):
            async with gate:
                resp = await client.request(method, path, content=json.dumps(body) if body else None,
                                            headers=APPLY if body else None, params=PARAMS if body else None)
                resp.raise_for_status()
                resp.json()

        await asyncio.gather(*(one(*r) for r in reqs))


async def run_aiohttp(server: str, ctx: ssl.SSLContext, reqs, concurrency: int) -> None:
    async with aiohttp.ClientSession(base_url=server, connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        gate = asyncio.Semaphore(concurrency)

        async def one(method, path, body):
            async with gate:
                async with session.request(method, path, data=json.dumps(body) if body else None,
                                           headers=APPLY if body else None, params=PARAMS if body else None) as resp:
                    resp.raise_for_status()
                    await resp.json(content_type=None)

        await asyncio.gather(*(one(*r) for r in reqs))


async def run_kube(server: str, ctx: ssl.SSLContext, reqs, concurrency: int) -> None:
    kube = await Kube.connect()
    gate = asyncio.Semaphore(concurrency)

    async def one(method, path, body):
        async with gate:
            if body:
                await kube.apply(body)
            else:
                await kube.request("GET", path)

    await asyncio.gather(*(one(*r) for r in reqs))
    await kube.close()


async def main(n: int, concurrency: int) -> None:
    server, ctx = _cluster()
    reqs = _requests(n)
    async with aiohttp.ClientSession(base_url=server, connector=aiohttp.TCPConnector(ssl=ctx)) as s:
        await s.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    await run_aiohttp(server, ctx, reqs[:100:2], 1)  # warm-up: the objects exist before anyone GETs them
    print(f"{n} requests (half apply, half get), {concurrency} at a time")
    for name, run in (("httpx", run_httpx), ("aiohttp", run_aiohttp), ("operator Kube", run_kube)):
        cpu, wall = time.process_time(), time.perf_counter()
        await run(server, ctx, reqs, concurrency)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"  {name:14} {cpu / n * 1000:6.2f} ms CPU per request   {n / wall:7.0f} requests/s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 16))
