"""The baseline: the least a client must do to run the benchmark's studios, with no operator.

For each new CodeStudio it creates the same home volume, Service and Pod the operator would
(built by the operator's own pure builders, so the objects are identical), and when the pod
runs it patches the studio's status to Running, once. No cache, no plan, no Role or
RoleBinding, no Events, no retries beyond throttling and transport errors: the ceiling the
operator is compared to. Runs as its own process, as the operator does:

    python -m bench.baseline KUBECONFIG NAMESPACE_PREFIX
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from studio_operator import labels as L
from studio_operator.api import CodeStudio, CodeStudioTemplate
from studio_operator.studios import children as C
from studio_operator.studios.settings import resolve_settings

from . import client as K
from .workload import API, STUDIOS, rfc3339_now

USER_AGENT = "studio-bench-baseline"


async def send(client: K.Session, method: str, path: str, body: Any, content_type: str = "application/json") -> None:
    try:
        await K.request(client, method, path, body, content_type=content_type)
    except K.ApiError as exc:
        if not (exc.status == 409 and method == "POST"):
            print(f"baseline: {method} {path}: {exc}", file=sys.stderr)
    except K.TransportError as exc:
        print(f"baseline: {method} {path}: {exc!r}", file=sys.stderr)


class Baseline:
    def __init__(self, client: K.Session, prefix: str):
        self.client = client
        self.prefix = prefix
        self.started: set[tuple[str, str]] = set()
        self.running: set[tuple[str, str]] = set()
        self.tasks: set[asyncio.Task] = set()
        self.template: CodeStudioTemplate | None = None

    def spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start_studio(self, body: dict[str, Any]) -> None:
        studio = CodeStudio.model_validate(body)
        meta = studio.metadata
        ref = C.StudioRef(meta.name, meta.namespace, meta.uid, studio.spec.owner)
        settings = resolve_settings(studio, self.template, None)
        base = f"/api/v1/namespaces/{meta.namespace}"
        await send(self.client, "POST", f"{base}/persistentvolumeclaims",
                   C.build_pvc(ref, settings, None))
        await asyncio.gather(
            send(self.client, "POST", f"{base}/services", C.build_service(ref, settings)),
            send(self.client, "POST", f"{base}/pods", C.build_pod(ref, settings, None)),
        )

    async def mark_running(self, namespace: str, name: str, pod: str) -> None:
        status = {"state": "Running", "lastStateChange": rfc3339_now(), "pod": pod}
        await send(self.client, "PATCH", f"/apis/{API}/namespaces/{namespace}/codestudios/{name}/status",
                   {"status": status}, content_type="application/merge-patch+json")

    async def watch_studios(self, synced: asyncio.Event) -> None:
        async for kind, obj in K.watch(self.client, STUDIOS):
            if kind == "SYNCED":
                synced.set()
                continue
            meta = obj["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            if kind != "ADDED" or not key[0].startswith(self.prefix) or key in self.started:
                continue
            self.started.add(key)
            self.spawn(self.start_studio(obj))

    async def watch_pods(self, synced: asyncio.Event) -> None:
        async for kind, pod in K.watch(self.client, "/api/v1/pods", {"labelSelector": L.STUDIO}):
            if kind == "SYNCED":
                synced.set()
                continue
            meta = pod["metadata"]
            key = (meta.get("namespace", ""), meta["labels"][L.STUDIO])
            if kind == "DELETED" or not key[0].startswith(self.prefix) or key in self.running:
                continue
            statuses = pod.get("status", {}).get("containerStatuses") or []
            if pod.get("status", {}).get("phase") == "Running" and statuses and statuses[0].get("ready"):
                self.running.add(key)
                self.spawn(self.mark_running(*key, meta["name"]))

    async def run(self) -> None:
        template = await K.request(self.client, "GET", f"/apis/{API}/codestudiotemplates/bench")
        self.template = CodeStudioTemplate.model_validate(template)
        pods_synced, studios_synced = asyncio.Event(), asyncio.Event()
        watches = [asyncio.create_task(self.watch_pods(pods_synced))]
        await pods_synced.wait()
        watches.append(asyncio.create_task(self.watch_studios(studios_synced)))
        await studios_synced.wait()
        print("baseline: watching", flush=True)
        await asyncio.gather(*watches)


async def main(kubeconfig: str, prefix: str) -> None:
    async with K.connect(kubeconfig, USER_AGENT, max_connections=100) as client:
        await Baseline(client, prefix).run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
