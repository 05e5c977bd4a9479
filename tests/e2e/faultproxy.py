"""A fault-injecting proxy between the operator under test and the real API server.

The operator gets a kubeconfig whose server is http://127.0.0.1:<port> (loopback, no
credentials of its own); the proxy forwards every request to the real API server over TLS with
the test kubeconfig's client credentials and, while a `Faults` plan is set, answers some requests
itself the way a real server, network or load balancer misbehaves:

- `500`, `503`: an internal error / unavailable Status;
- `429`: too many requests, with `Retry-After` (API priority and fairness does this);
- `409`: a Conflict Status on conditional writes (someone else changed the object): updates and
  patches that carry a resourceVersion, the only writes a real server answers so;
- `410`: on watches, a few real events and then an in-stream ERROR "too old resource version";
- `error`: on watches, a few real events and then an in-stream ERROR with code 500 (etcd trouble);
- `drop`: the connection closed without an answer (on watches, after a few events);
- `hang`: the connection left open with no answer, forever (a half-open TCP connection).

Every request is logged with the fault it got, and faults are counted per kind.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import random
import threading
import time
from collections.abc import Callable

import aiohttp
import yaml
from aiohttp import web

from tests.e2e.rest import credentials

KINDS = ("500", "503", "429", "409", "410", "error", "drop", "hang")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Headers that belong to one hop, not to the request or response.
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length",
       "content-encoding", "accept-encoding", "proxy-connection", "trailer"}

STATUS = {
    "500": ("InternalError", "Internal error occurred: injected by the fault proxy"),
    "503": ("ServiceUnavailable", "the server is currently unable to handle the request (injected)"),
    "429": ("TooManyRequests", "too many requests, please try again later (injected)"),
    "409": ("Conflict", "Operation cannot be fulfilled: the object has been modified; "
                        "please apply your changes to the latest version and try again (injected)"),
}

# In-stream watch errors: (code, reason, message).
WATCH_ERRORS = {
    "410": (410, "Expired", "too old resource version (injected)"),
    "error": (500, "InternalError", "etcdserver: leader changed (injected)"),
}


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    watch: bool
    conditional: bool = False  # an update or patch that carries a resourceVersion

    @property
    def write(self) -> bool:
        return self.method in WRITES


def applies(kind: str, req: Request) -> bool:
    """Which requests a fault can hit: 409 only conditional writes, 410 and error only watches,
    the rest anything."""
    if kind == "409":
        return req.conditional
    if kind in ("410", "error"):
        return req.watch
    return True


@dataclasses.dataclass
class Faults:
    """Probability per fault kind for each request it applies to; `only` narrows the requests."""

    rates: dict[str, float]
    only: Callable[[Request], bool] = lambda req: True
    retry_after: int = 2
    events_before: tuple[int, int] = (0, 3)  # how many real events a failing watch lets through
    # Each kind with a rate hits the first request it applies to, then its rate takes over: a
    # test that asserts every kind happened does not depend on the seed.
    every_kind_once: bool = False


@dataclasses.dataclass
class Record:
    at: float
    method: str
    path: str
    watch: bool
    fault: str | None


class FaultProxy:
    def __init__(self, kubeconfig: str, seed: int):
        self.creds = credentials(kubeconfig)
        self.rng = random.Random(seed)
        self.faults: Faults | None = None
        self.counts: collections.Counter[str] = collections.Counter()
        self._due: set[str] = set()
        self.log: list[Record] = []
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._watches: set[asyncio.Transport] = set()
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)

    # --- control from the test thread ----------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError("the fault proxy did not start")

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(10)

    def inject(self, faults: Faults | None) -> None:
        self._due = {k for k, rate in faults.rates.items() if rate > 0} if faults and faults.every_kind_once else set()
        self.faults = faults

    def drop_watches(self) -> None:
        """Closes every open watch, as an API server restart does; each counts as a drop."""
        def drop() -> None:
            for transport in list(self._watches):
                self.counts["drop"] += 1
                transport.abort()

        self._loop.call_soon_threadsafe(drop)

    def kubeconfig(self, path: str) -> str:
        cfg = {
            "apiVersion": "v1", "kind": "Config", "current-context": "proxy",
            "clusters": [{"name": "proxy", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}],
            "users": [{"name": "proxy", "user": {}}],
            "contexts": [{"name": "proxy", "context": {"cluster": "proxy", "user": "proxy"}}],
        }
        with open(path, "w") as f:
            yaml.safe_dump(cfg, f)
        return path

    def requests(self, predicate: Callable[[Record], bool]) -> list[Record]:
        return [r for r in list(self.log) if predicate(r)]

    # --- the server ------------------------------------------------------------------------------

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self.session = aiohttp.ClientSession(
            self.creds.server,
            connector=aiohttp.TCPConnector(ssl=self.creds.ssl_context(), limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            auto_decompress=False,
            headers={"Authorization": f"Bearer {self.creds.token}"} if self.creds.token else None,
        )
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation: a hung request ends when its client gives up on it.
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stopping.wait()
        await runner.cleanup()
        await self.session.close()

    def _pick(self, req: Request) -> str | None:
        faults = self.faults
        if faults is None or not faults.only(req):
            return None
        for kind in KINDS:
            if not applies(kind, req):
                continue
            if kind in self._due or self.rng.random() < faults.rates.get(kind, 0.0):
                self._due.discard(kind)
                return kind
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        req = Request(request.method, request.path, request.query.get("watch") in ("1", "true"),
                      conditional=request.method in ("PUT", "PATCH") and b'"resourceVersion"' in body)
        fault = self._pick(req)
        self.log.append(Record(time.monotonic(), req.method, request.path_qs, req.watch, fault))
        if fault:
            self.counts[fault] += 1
        if fault in STATUS:
            reason, message = STATUS[fault]
            headers = {"Retry-After": str(self.faults.retry_after)} if fault == "429" else {}
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                 "reason": reason, "code": int(fault)},
                status=int(fault), headers=headers,
            )
        if fault in ("drop", "hang") and not req.watch:
            return await self._break(request, fault)

        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        headers["Accept-Encoding"] = "identity"  # stream bodies through as they are
        transport = request.transport
        if req.watch:
            self._watches.add(transport)
        try:
            return await self._forward(request, body, headers, fault)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            raise asyncio.CancelledError from None  # the client went away; nothing to answer
        finally:
            self._watches.discard(transport)

    async def _forward(self, request: web.Request, body: bytes, headers: dict[str, str],
                       fault: str | None) -> web.StreamResponse:
        async with self.session.request(request.method, request.path_qs, data=body or None, headers=headers) as up:
            resp = web.StreamResponse(
                status=up.status, headers={k: v for k, v in up.headers.items() if k.lower() not in HOP}
            )
            await resp.prepare(request)
            if fault is None:
                async for chunk in up.content.iter_any():
                    await resp.write(chunk)
            else:
                # A watch: let a few real events through, then fail it.
                for _ in range(self.rng.randint(*self.faults.events_before)):
                    line = await up.content.readline()
                    if not line:
                        break
                    await resp.write(line)
                if fault not in WATCH_ERRORS:
                    return await self._break(request, fault)
                code, reason, message = WATCH_ERRORS[fault]
                await resp.write(json.dumps({"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "code": code,
                    "message": message}}).encode() + b"\n")
            await resp.write_eof()
            return resp

    async def _break(self, request: web.Request, fault: str) -> web.StreamResponse:
        if fault == "hang":
            await asyncio.Event().wait()  # until the client disconnects (handler cancellation)
        request.transport.abort()
        raise asyncio.CancelledError
