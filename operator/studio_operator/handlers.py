"""kopf registrations: indexes of what the operator watches, and events that queue work.

Handlers here only observe and enqueue; the reconcilers (studios/, ...) decide what to do from
the cached state. Nothing here writes to the API, so kopf stores no progress annotations and
adds no finalizers to users' objects. Index and event handlers are coroutines although they
never await: kopf runs plain functions in a thread pool, a thread hop for every handler of
every watch event. The indexes keep each object as it came from the watch, already slimmed to
what the operator reads of it (watched.py). The studios' children never reach kopf's handlers:
the operator indexes them itself (child_index.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import kopf

from . import index_readiness, kube
from . import labels as L
from .api.common import GROUP, VERSION
from .config import Config
from .controller import Controller
from .admission import webhooks  # noqa: F401 - registers the admission handlers
from .admission.server import configure_admission
from .kube import Kube
from .studios.reconcile import reconcile_studio
from .templates.reconcile import reconcile_template
from .workspaces.children import ROLES, member_clusterrole
from .workspaces.reconcile import reconcile_workspace

log = logging.getLogger(__name__)

CHILD = {L.STUDIO: kopf.PRESENT}
# A template or workspace looks at all its studios (counts, rollouts, running slots); while they
# change, it does so at most once a second, not after every event of every studio: with 1,000
# new studios of one template, that took a third of the operator's CPU (bench/README.md).
ROLLUP_DELAY = 1.0
WORKSPACE_CHILD = {L.WORKSPACE: kopf.PRESENT}
MEMBER_CLUSTERROLES = frozenset(member_clusterrole(r) for r in ROLES)
IMAGE_BUILD = {"app.kubernetes.io/component": L.IMAGE_BUILD, L.TEMPLATE: kopf.PRESENT}


# --- startup and settings -------------------------------------------------------------------


class RetryForever:
    """kopf's backoffs between retries of a failed API request: 1, 2, 5, 10, then 20 s for ever."""

    def __iter__(self) -> Iterator[float]:
        return itertools.chain((1, 2, 5, 10), itertools.repeat(20))


def shared_credentials(memo: kopf.Memo) -> asyncio.Future:
    """One set of credentials for kopf's watches and the operator's writes, whichever asks first.
    Getting them asks the API server its version: if that failed (a server not up yet), the next
    login or startup retry asks again."""
    pending = memo.get("credentials")
    if pending is None or (pending.done() and (pending.cancelled() or pending.exception() is not None)):
        memo.credentials = pending = asyncio.ensure_future(kube.credentials())
    return pending


# Both ask the API server for its version first (kr8s): one that is not up yet is asked again
# in 5 s, not kopf's default 60.
@kopf.on.login(backoff=5)
async def login(memo: kopf.Memo, settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo:
    # Any login after a successful one is kopf's answer to a 401: the credentials have expired.
    info = await kube.connection_info(await shared_credentials(memo), memo.get("logged_in", False),
                                      settings.networking.trust_env)
    memo.logged_in = True
    return info


@kopf.on.startup(backoff=5)
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=GROUP)
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    # A watch silent this long is reconnected (from its resourceVersion, no relist): a half-open
    # connection must not blind the operator until client_timeout; an idle watch just reconnects.
    settings.watching.inactivity_timeout = 60
    # Lists in pages, as client-go's reflector does: unpaged, the list of 5,000 studio pods
    # would be one response of about 30 MB (6.3 KB of JSON each), which kopf parses whole.
    settings.watching.chunk_size = 500
    # An object's kopf worker (a task, its queue and events) ends this long after the object's
    # last event, not 5 s: a new operator among 5,000 studios peaked 15 MiB lower (bench/README.md).
    settings.queueing.idle_timeout = 1.0
    # kopf gives up on a request after its backoffs run out and then stops the whole operator;
    # an API outage must only delay it, so its own requests retry for ever, and never hang.
    settings.networking.error_backoffs = RetryForever()
    settings.networking.request_timeout = 60
    kube.check_usable(await shared_credentials(memo))
    config = memo.get("config") or Config()
    configure_admission(settings, config)
    memo.template_inputs = {}  # what each template's studios last saw of it (template_changed)
    memo.controller = Controller(
        await Kube.connect(await shared_credentials(memo)),
        config,
        reconcilers={"studio": (reconcile_studio, "studios"), "template": (reconcile_template, "templates"),
                     "workspace": (reconcile_workspace, "workspaces")},
    )
    memo.controller.start()
    memo.stop_waiting_for_indexes = index_readiness.when_indexed(memo.controller.cache.set_indexed)
    log.info("studio-operator started: %s", config)


@kopf.on.cleanup()
async def shutdown(memo: kopf.Memo, **_: Any) -> None:
    memo.stop_waiting_for_indexes()
    await memo.controller.stop()


@kopf.on.probe(id="queue")
def queue_depth(memo: kopf.Memo, **_: Any) -> int:
    return len(memo.controller.queue)


# --- indexes ------------------------------------------------------------------------------


@kopf.index(GROUP, VERSION, "codestudios")
async def studios(body: kopf.Body, namespace: str, name: str, **_: Any) -> dict:
    return {(namespace, name): dict(body)}


@kopf.index(GROUP, VERSION, "codestudios")
async def studios_by_template(spec: kopf.Spec, namespace: str, name: str, **_: Any) -> dict:
    return {spec.get("template"): (namespace, name)}


@kopf.index(GROUP, VERSION, "codestudiotemplates")
async def templates(body: kopf.Body, name: str, **_: Any) -> dict:
    return {name: dict(body)}


@kopf.index(GROUP, VERSION, "workspaces")
async def workspaces(body: kopf.Body, name: str, **_: Any) -> dict:
    return {name: dict(body)}


@kopf.index(GROUP, VERSION, "workspaces")
async def workspaces_by_namespace(body: kopf.Body, spec: kopf.Spec, name: str, **_: Any) -> dict:
    return {spec.get("namespace") or name: dict(body)}


@kopf.index("namespaces", labels=WORKSPACE_CHILD)
@kopf.index("serviceaccounts", labels=WORKSPACE_CHILD)
@kopf.index("resourcequotas", labels=WORKSPACE_CHILD)
@kopf.index("limitranges", labels=WORKSPACE_CHILD)
@kopf.index("networkpolicies.networking.k8s.io", labels=WORKSPACE_CHILD)
@kopf.index("rolebindings.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
@kopf.index("clusterroles.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
@kopf.index("clusterrolebindings.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
async def workspace_objects(body: kopf.Body, labels: kopf.Labels, **_: Any) -> dict:
    """Everything the operator makes for a workspace, by the workspace's name."""
    return {labels[L.WORKSPACE]: dict(body)}


@kopf.index("clusterroles.rbac.authorization.k8s.io", when=lambda name, **_: name in MEMBER_CLUSTERROLES)
async def member_clusterroles(name: str, **_: Any) -> dict:
    """Which of the ClusterRoles that workspace members are bound to exist (the install ships them)."""
    return {name: True}


def _builds_here(namespace: str, memo: kopf.Memo) -> bool:
    """Build Jobs live in the operator's namespace; look-alikes elsewhere are not ours."""
    return namespace == memo.controller.config.namespace


@kopf.index("batch", "v1", "jobs", labels=IMAGE_BUILD)
async def build_jobs(body: kopf.Body, namespace: str, labels: kopf.Labels, memo: kopf.Memo, **_: Any) -> dict:
    return {labels[L.TEMPLATE]: dict(body)} if _builds_here(namespace, memo) else {}


@kopf.index("pods", labels=IMAGE_BUILD)
async def build_pods(body: kopf.Body, namespace: str, labels: kopf.Labels, memo: kopf.Memo, **_: Any) -> dict:
    job = labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
    return {job: dict(body)} if job and _builds_here(namespace, memo) else {}


# --- events that queue work ------------------------------------------------------------------
# All async: kopf runs a plain `def` handler in a thread, and these touch the work queue and
# read the indexes, which belong to the event loop (from a thread, an event can get lost).


@kopf.on.event(GROUP, VERSION, "codestudios")
async def studio_changed(namespace: str, name: str, spec: kopf.Spec, memo: kopf.Memo, **kwargs: Any) -> None:
    ctrl: Controller = memo.controller
    ctrl.cache.bind(kwargs)
    ctrl.enqueue("studio", namespace, name)
    # Its template counts its studios and rolls changes out to them.
    ctrl.enqueue("template", spec.get("template"), delay=ROLLUP_DELAY)
    # A studio that left a template (deleted, or moved to another) changes that one's count too.
    for template, body in ctrl.cache.items("templates"):
        if (body.get("status") or {}).get("codeStudios", 0) != ctrl.cache.count("studios_by_template", template):
            ctrl.enqueue("template", template, delay=ROLLUP_DELAY)
    # Its workspace counts its studios and wakes those waiting for a running slot.
    workspace = ctrl.cache.one("workspaces_by_namespace", namespace)
    if workspace is not None:
        ctrl.enqueue("workspace", workspace["metadata"]["name"], delay=ROLLUP_DELAY)


# kopf watches only what a handler is registered for. The studios' children are taken from
# these watches into the operator's own index before kopf sees them, and queue their studio
# (child_index.py). This handler only makes kopf watch them: kopf never sees an object that
# carries a studio label, so it is never called.
@kopf.on.event("pods", labels=CHILD)
@kopf.on.event("persistentvolumeclaims", labels=CHILD)
@kopf.on.event("services", labels=CHILD)
@kopf.on.event("roles.rbac.authorization.k8s.io", labels=CHILD)
@kopf.on.event("rolebindings.rbac.authorization.k8s.io", labels=CHILD)
async def studio_children_watched(**_: Any) -> None:
    pass


@kopf.on.event(GROUP, VERSION, "codestudiotemplates")
async def template_changed(name: str, event: dict, body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    ctrl: Controller = memo.controller
    ctrl.cache.bind(kwargs)
    ctrl.enqueue("template", name)
    # Studios read the template's spec and status.image only; the template's own status writes
    # (counts, build progress, rollout) must not wake every studio of it.
    if event.get("type") == "DELETED":
        memo.template_inputs.pop(name, None)
    else:
        seen = L.content_hash([body.get("spec"), (body.get("status") or {}).get("image")])
        if memo.template_inputs.get(name) == seen:
            return
        memo.template_inputs[name] = seen
    for namespace, studio in ctrl.cache.all("studios_by_template", name):
        ctrl.enqueue("studio", namespace, studio)


@kopf.on.event("batch", "v1", "jobs", labels=IMAGE_BUILD)
@kopf.on.event("pods", labels=IMAGE_BUILD)
async def build_changed(namespace: str, labels: kopf.Labels, memo: kopf.Memo, **kwargs: Any) -> None:
    ctrl: Controller = memo.controller
    ctrl.cache.bind(kwargs)
    if _builds_here(namespace, memo):
        ctrl.enqueue("template", labels[L.TEMPLATE])


@kopf.on.event(GROUP, VERSION, "workspaces")
async def workspace_changed(body: kopf.Body, spec: kopf.Spec, name: str, memo: kopf.Memo, **kwargs: Any) -> None:
    ctrl: Controller = memo.controller
    ctrl.cache.bind(kwargs)
    ctrl.enqueue("workspace", name)
    # Its studios read its spec (state, quota, defaults), not its status, which changes with
    # every studio's: look at them again only when the spec changed (memo is this object's).
    generation = body["metadata"].get("generation")
    if memo.get("studios_saw_generation") == generation:
        return
    memo["studios_saw_generation"] = generation
    namespace = spec.get("namespace") or name
    for ns, studio in ctrl.cache.keys("studios"):
        if ns == namespace:
            ctrl.enqueue("studio", ns, studio)


@kopf.on.event("namespaces", labels=WORKSPACE_CHILD)
@kopf.on.event("serviceaccounts", labels=WORKSPACE_CHILD)
@kopf.on.event("resourcequotas", labels=WORKSPACE_CHILD)
@kopf.on.event("limitranges", labels=WORKSPACE_CHILD)
@kopf.on.event("networkpolicies.networking.k8s.io", labels=WORKSPACE_CHILD)
@kopf.on.event("rolebindings.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
@kopf.on.event("clusterroles.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
@kopf.on.event("clusterrolebindings.rbac.authorization.k8s.io", labels=WORKSPACE_CHILD)
async def workspace_object_changed(labels: kopf.Labels, memo: kopf.Memo, **kwargs: Any) -> None:
    memo.controller.cache.bind(kwargs)
    memo.controller.enqueue("workspace", labels[L.WORKSPACE])


@kopf.on.event("clusterroles.rbac.authorization.k8s.io", when=lambda name, **_: name in MEMBER_CLUSTERROLES)
async def member_clusterrole_changed(memo: kopf.Memo, **kwargs: Any) -> None:
    ctrl: Controller = memo.controller
    ctrl.cache.bind(kwargs)
    for workspace in ctrl.cache.keys("workspaces"):
        ctrl.enqueue("workspace", workspace)
