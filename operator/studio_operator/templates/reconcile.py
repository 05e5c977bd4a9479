"""Glue: gather what the operator observed for one template, run the plan, write what changed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import labels as L
from .. import metrics
from ..api import CodeStudioTemplate
from ..api.common import API_VERSION
from .. import actions
from ..conditions import REFUSAL_MAX, clip, get_condition, merge_conditions, now, rfc3339, status_patch
from ..kube import ApiError
from ..tallies import forget, tally_wait
from .plan import Action, Observed, Plan, SetFinalizer, plan_template, retry_delay
from .rollout import StudioView, studio_view

if TYPE_CHECKING:
    from ..controller import Controller


def _studio_view(ctrl: Controller, namespace: str, name: str) -> StudioView | None:
    body = ctrl.cache.one("studios", (namespace, name))
    if body is None:
        return None
    return studio_view(body, ctrl.cache.one("studio_pods", (namespace, name)), _restarted(ctrl).get((namespace, name)))


def _restarted(ctrl: Controller) -> dict[tuple[str, str], str | None]:
    """Pods the rollout deleted, by studio: until the studio reports on its new pod, the cache
    still shows it Running with pendingRestart, which must not count as a second candidate."""
    return ctrl.memo.setdefault("rollout-deleted-pods", {})


def observe(ctrl: Controller, name: str) -> Observed | None:
    body = ctrl.cache.one("templates", name)
    if body is None:
        return None
    template = CodeStudioTemplate.model_validate(body)
    uid = template.metadata.uid
    # Jobs of an earlier template of the same name belong to the garbage collector, not to us.
    jobs = [j for j in ctrl.cache.all("build_jobs", name)
            if any(r.get("uid") == uid for r in j["metadata"].get("ownerReferences") or ())]
    pods = {j["metadata"]["name"]: pod for j in jobs if (pod := _latest(ctrl.cache.all("build_pods", j["metadata"]["name"])))}
    studios = [view for ns, studio in ctrl.cache.all("studios_by_template", name)
               if (view := _studio_view(ctrl, ns, studio))]
    return Observed(template=template, namespace=ctrl.config.namespace, jobs=jobs, pods=pods, studios=studios)


def _latest(pods: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", default=None)


async def reconcile_template(ctrl: Controller, name: str) -> float | None:
    obs = observe(ctrl, name)
    if obs is None:
        forget(ctrl, ("template", name))
        return None
    at = now()
    plan = plan_template(obs, at)
    forbidden: ApiError | None = None  # the operator's own RBAC denied the build Job
    for action in plan.actions:
        try:
            await execute(ctrl, obs.template, action)
        except ApiError as exc:
            if exc.retryable or not isinstance(action, actions.Create):
                raise
            # The build Job was refused (no such namespace, a quota, an admission policy): say so.
            _refused(plan, f"the build Job {action.manifest['metadata']['name']} was refused: {exc}", at)
            forbidden = forbidden or (exc if exc.operator_forbidden else None)
    if plan.restarted:
        s = plan.restarted
        _restarted(ctrl)[(s.namespace, s.name)] = s.pod_uid
        ctrl.event(_involved(obs.template), "Normal", "RolloutRestart",
                   f"restarting studio {s.key} to pick up the template's changes (updatePolicy: Immediate)")
    count_due = await write_status(ctrl, obs.template, plan, at)
    if forbidden:
        raise forbidden  # retried with backoff, logged, counted as Forbidden (which alerts)
    return min(filter(None, (plan.recheck_after, count_due)), default=None)


def _refused(plan: Plan, message: str, at) -> None:
    """Counts a build Job the API server refused as a failed attempt, retried with the same backoff."""
    assert plan.status is not None and plan.status["build"] is not None
    build = plan.status["build"]
    message = clip(message, REFUSAL_MAX)
    build.update(phase="Failed", finishedAt=rfc3339(at), message=message)
    delay = retry_delay(build.get("attempts") or 1)
    for c in plan.status["conditions"]:
        if c["type"] in ("Built", "Ready"):
            c.update(status="False", reason="BuildFailed", message=f"{message}; retrying in {int(delay)}s")
    plan.recheck_after = delay


def _involved(template: CodeStudioTemplate) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "CodeStudioTemplate",
            "metadata": {"name": template.metadata.name, "uid": template.metadata.uid}}


async def execute(ctrl: Controller, template: CodeStudioTemplate, action: Action) -> None:
    if not isinstance(action, SetFinalizer):
        await actions.execute(ctrl, None, action)
    else:
        # Server-side apply of the finalizer alone: the operator owns that list entry and nothing else,
        # so applying without it removes only ours. The uid makes it a no-op on a newer namesake.
        meta: dict[str, Any] = {"name": template.metadata.name, "uid": template.metadata.uid}
        if action.present:
            meta["finalizers"] = [L.IN_USE_FINALIZER]
        try:
            stored = await ctrl.kube.apply({"apiVersion": API_VERSION, "kind": "CodeStudioTemplate", "metadata": meta})
        except ApiError as exc:
            if exc.status == 409:  # the uid precondition: this template is gone; a namesake has its own reconcile
                return
            raise
        if stored:
            ctrl.cache.wrote("templates", template.metadata.name, stored)


async def write_status(ctrl: Controller, template: CodeStudioTemplate, plan: Plan, at) -> float | None:
    """Writes the status when it differs from the stored one; posts Events on build and deletion
    transitions. A change of its studio count alone may wait: returns the seconds until it is due."""
    if plan.status is None:
        return None
    current = template.status.to_dict()
    desired = dict(plan.status)
    desired["conditions"] = merge_conditions(current.get("conditions"), desired["conditions"],
                                             template.metadata.generation, at)
    desired = {k: v for k, v in desired.items() if v is not None}
    patch = status_patch(current, desired)
    if not patch:
        return None
    name = template.metadata.name
    if (wait := tally_wait(ctrl, ("template", name), patch, ("codeStudios",), at)) is not None:
        return wait
    stored = await ctrl.kube.patch_status(API_VERSION, "CodeStudioTemplate", None, name, patch)
    if stored:
        ctrl.cache.wrote("templates", name, stored)
    for type_, reason, message in _transitions(current, desired):
        ctrl.event(_involved(template), type_, reason, message)
        if reason in ("BuildSucceeded", "BuildFailed"):
            metrics.build_finished(desired["build"])
    return None


def _transitions(current: dict[str, Any], desired: dict[str, Any]) -> list[tuple[str, str, str]]:
    events = []
    before, after = current.get("build") or {}, desired.get("build") or {}
    if after.get("job") and (after.get("job"), after.get("phase")) != (before.get("job"), before.get("phase")):
        phase = after["phase"]
        if phase == "Pending" and before.get("job") != after["job"]:
            events.append(("Normal", "BuildStarted", f"build job {after['job']} started"))
        elif phase == "Succeeded":
            events.append(("Normal", "BuildSucceeded", f"built and pushed {desired.get('image')}"))
        elif phase == "Failed":
            events.append(("Warning", "BuildFailed", after.get("message") or "the build failed"))
    was = get_condition(current.get("conditions"), "Ready") or {}
    ready = get_condition(desired.get("conditions"), "Ready") or {}
    if ready.get("reason") == "DeletionBlocked" and was.get("reason") != "DeletionBlocked":
        events.append(("Warning", "DeletionBlocked", ready.get("message", "")))
    return events
