"""Checks for objects that need someone: stuck deletions, Failed studios, failing builds,
failed workspaces, and objects the operator never looked at."""

from __future__ import annotations

import datetime
from typing import Any

from ..conditions import parse_time
from .findings import Finding, ok, problem
from .options import Options

REMOVE_FINALIZERS = "--type=json -p '[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]'"


def _ref(obj: dict[str, Any]) -> tuple[str, str]:
    """(kubectl resource, subject) for obj."""
    meta = obj["metadata"]
    resource = obj["kind"].lower()
    where = f"-n {meta['namespace']} " if meta.get("namespace") else ""
    subject = f"{resource}/{meta['namespace'] + '/' if meta.get('namespace') else ''}{meta['name']}"
    return f"{where}{resource} {meta['name']}", subject


def _ago(since: str | None, at: datetime.datetime) -> float:
    then = parse_time(since)
    return (at - then).total_seconds() if then else 0.0


def stuck_deletion(obj: dict[str, Any], at: datetime.datetime, options: Options) -> Finding | None:
    meta = obj["metadata"]
    if not meta.get("deletionTimestamp") or not meta.get("finalizers"):
        return None
    waited = _ago(meta["deletionTimestamp"], at)
    if waited < options.stuck_after:
        return None
    target, subject = _ref(obj)
    return problem(
        "stuck", subject, f"deleting for {int(waited)}s, held by finalizers {', '.join(meta['finalizers'])}",
        "the operator removes its finalizer once it has cleaned up: make sure it runs (see the operator check) and read "
        f"`kubectl describe {target}`; only if the finalizer's owner is gone for good: kubectl patch {target} {REMOVE_FINALIZERS}",
    )


def never_reconciled(obj: dict[str, Any], at: datetime.datetime, options: Options) -> Finding | None:
    if (obj.get("status") or {}).get("observedGeneration") is not None or obj["metadata"].get("deletionTimestamp"):
        return None
    waited = _ago(obj["metadata"].get("creationTimestamp"), at)
    if waited < options.stuck_after:
        return None
    _, subject = _ref(obj)
    return problem("stuck", subject, f"created {int(waited)}s ago and the operator has not reported on it yet",
                   "make sure the operator runs (see the operator check) and read its log")


def failed_studio(obj: dict[str, Any]) -> Finding | None:
    status = obj.get("status") or {}
    if status.get("state") != "Failed":
        return None
    target, subject = _ref(obj)
    meta = obj["metadata"]
    return problem("stuck", subject, f"Failed: {status.get('message') or 'no message'}",
                   "fix what the message names; the studio recovers by itself once the cause is gone "
                   f"(studioctl studio status {meta['name']} -n {meta['namespace']})")


def failed_build(obj: dict[str, Any]) -> Finding | None:
    build = (obj.get("status") or {}).get("build") or {}
    if build.get("phase") != "Failed":
        return None
    _, subject = _ref(obj)
    name = obj["metadata"]["name"]
    return problem("stuck", subject, f"image build Failed: {build.get('message') or 'no message'}",
                   f"studioctl template logs {name}; fix spec.image.build, and the operator builds again")


def failed_workspace(obj: dict[str, Any]) -> Finding | None:
    status = obj.get("status") or {}
    not_ready = [c for c in status.get("conditions") or [] if c.get("status") == "False" and c.get("type") != "Ready"]
    if status.get("phase") != "Failed" and not not_ready:
        return None
    _, subject = _ref(obj)
    why = "; ".join(f"{c['type']}: {c.get('message') or c.get('reason')}" for c in not_ready) or "phase Failed"
    return problem("stuck", subject, f"not ready: {why}",
                   f"fix what the conditions name (studioctl ws get {obj['metadata']['name']})")


def check_stuck(options: Options, at: datetime.datetime, workspaces: list[dict[str, Any]],
                studios: list[dict[str, Any]], templates: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    for obj in [*workspaces, *studios, *templates]:
        findings += [f for f in (stuck_deletion(obj, at, options), never_reconciled(obj, at, options)) if f]
    findings += [f for f in map(failed_workspace, workspaces) if f]
    findings += [f for f in map(failed_studio, studios) if f]
    findings += [f for f in map(failed_build, templates) if f]
    counts = f"{len(workspaces)} workspaces, {len(studios)} studios, {len(templates)} templates"
    return findings or [ok("stuck", "objects", f"{counts}: nothing stuck, Failed or unreconciled")]
