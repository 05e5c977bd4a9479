"""What must hold for studios once the operator has converged, as pure checks over a snapshot.

Each check returns a list of violations in words (empty when it holds), so a chaos run can poll
until they are all empty and print the ones left when it gives up. tests/unit/test_invariants.py
shows each check failing on a snapshot that breaks it.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

STUDIO_LABEL = "studio.dev/codestudio"
CLAIM_STUDIO_UID = "studio.dev/codestudio-uid"
RECLAIM_FINALIZER = "studio.dev/reclaim-volume"
Obj = dict[str, Any]


def key(obj: Obj) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def controller_uid(obj: Obj) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref["uid"]
    return None


def owner_uids(obj: Obj) -> set[str]:
    return {ref["uid"] for ref in obj["metadata"].get("ownerReferences") or []}


def claim_studio_uids(pvc: Obj) -> set[str]:
    """The studio a home volume was made for: its studio.dev/codestudio-uid annotation (and an
    owner reference, on claims made before the operator deleted Delete volumes itself)."""
    uid = (pvc["metadata"].get("annotations") or {}).get(CLAIM_STUDIO_UID)
    return owner_uids(pvc) | ({uid} if uid else set())


def condition(obj: Obj, type_: str) -> Obj:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == type_), {})


def template_image(template: Obj) -> str | None:
    """The image a template's studios should run: its resolved status.image, else the prebuilt one."""
    return template.get("status", {}).get("image") or template["spec"]["image"].get("prebuilt")


@dataclasses.dataclass
class Snapshot:
    """Everything of the studios under test, read at one moment."""

    studios: list[Obj]
    templates: dict[str, Obj]
    pods: list[Obj]
    pvcs: list[Obj]
    services: list[Obj]
    roles: list[Obj]
    bindings: list[Obj]

    def children(self, objs: list[Obj]) -> dict[tuple[str, str], list[Obj]]:
        """Labelled children by (namespace, studio name)."""
        out: dict[tuple[str, str], list[Obj]] = defaultdict(list)
        for obj in objs:
            studio = (obj["metadata"].get("labels") or {}).get(STUDIO_LABEL)
            if studio:
                out[(obj["metadata"]["namespace"], studio)].append(obj)
        return out


def check_templates(snap: Snapshot) -> list[str]:
    problems = []
    for name, tpl in snap.templates.items():
        observed = tpl.get("status", {}).get("observedGeneration")
        if observed is not None and observed != tpl["metadata"]["generation"]:
            problems.append(f"template {name}: status is for generation {observed}, not {tpl['metadata']['generation']}")
    return problems


def check_studios(snap: Snapshot) -> list[str]:
    """Every studio's status matches its spec and its children."""
    problems: list[str] = []
    pods, pvcs = snap.children(snap.pods), {key(p): p for p in snap.pvcs}
    services, roles, bindings = snap.children(snap.services), snap.children(snap.roles), snap.children(snap.bindings)
    for studio in snap.studios:
        ns, name = key(studio)
        where = f"studio {ns}/{name}"
        meta, spec, status = studio["metadata"], studio["spec"], studio.get("status") or {}
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            problems.append(f"{where}: still being deleted")
            continue
        if status.get("observedGeneration") != meta["generation"]:
            problems.append(f"{where}: observedGeneration {status.get('observedGeneration')} != generation {meta['generation']}")
        want = spec.get("state", "Running")
        if status.get("state") != want:
            problems.append(f"{where}: state {status.get('state')} ({status.get('message')}), spec.state is {want}")
        ready = condition(studio, "Ready").get("status")
        if ready != ("True" if status.get("state") == "Running" else "False"):
            problems.append(f"{where}: Ready={ready} while {status.get('state')}")
        if spec.get("restartRequestedAt") and status.get("restartedAt") != spec["restartRequestedAt"]:
            problems.append(f"{where}: restart {spec['restartRequestedAt']} not carried out (restartedAt {status.get('restartedAt')})")
        if status.get("owner") != spec.get("owner"):
            problems.append(f"{where}: status.owner {status.get('owner')} != spec.owner {spec.get('owner')}")

        own_pods = [p for p in pods.get((ns, name), []) if not p["metadata"].get("deletionTimestamp")]
        template = snap.templates.get(spec["template"])
        if want == "Running":
            if len(own_pods) != 1:
                problems.append(f"{where}: {len(own_pods)} live pods, want exactly one")
            for pod in own_pods:
                problems += _check_pod(where, studio, pod, template)
        elif own_pods:
            problems.append(f"{where}: stopped but has pods {[p['metadata']['name'] for p in own_pods]}")

        claim = f"{name}-home"
        pvc = pvcs.get((ns, claim))
        volume = status.get("volume") or {}
        if pvc is None:
            problems.append(f"{where}: home volume {claim} missing")
        else:
            if volume.get("claimName") != claim or volume.get("phase") != pvc.get("status", {}).get("phase"):
                problems.append(f"{where}: status.volume {volume} does not match claim {claim} "
                                f"({pvc.get('status', {}).get('phase')})")
            if owner_uids(pvc):
                problems.append(f"{where}: the claim has owners {owner_uids(pvc)}: the garbage collector may delete it")
            if claim_studio_uids(pvc) != {uid}:
                problems.append(f"{where}: the claim was made for studio {claim_studio_uids(pvc)}")
            # Under Delete the studio holds the finalizer that deletes its claim with it, and only then.
            held = RECLAIM_FINALIZER in (studio["metadata"].get("finalizers") or [])
            if held != (spec.get("volumeReclaimPolicy", "Retain") == "Delete"):
                problems.append(f"{where}: volumeReclaimPolicy {spec.get('volumeReclaimPolicy', 'Retain')} "
                                f"but finalizer held={held}")

        for kind, index in (("service", services), ("role", roles), ("rolebinding", bindings)):
            objs = index.get((ns, name), [])
            if [controller_uid(o) for o in objs] != [uid]:
                problems.append(f"{where}: want one {kind} controlled by it, found {[(o['metadata']['name'], controller_uid(o)) for o in objs]}")
        for binding in bindings.get((ns, name), []):
            subjects = [s["name"] for s in binding.get("subjects") or []]
            if subjects != ([spec["owner"]] if spec.get("owner") else []):  # no owner: no one
                problems.append(f"{where}: access granted to {subjects}, owner is {spec.get('owner')}")
    return problems


def _check_pod(where: str, studio: Obj, pod: Obj, template: Obj | None) -> list[str]:
    problems = []
    status = studio.get("status") or {}
    image = pod["spec"]["containers"][0]["image"]
    if controller_uid(pod) != studio["metadata"]["uid"]:
        problems.append(f"{where}: pod {pod['metadata']['name']} is controlled by {controller_uid(pod)}")
    if status.get("pod") != pod["metadata"]["name"] or status.get("image") != image:
        problems.append(f"{where}: status says pod {status.get('pod')} image {status.get('image')}, "
                        f"the pod is {pod['metadata']['name']} with {image}")
    if pod.get("status", {}).get("phase") != "Running":
        problems.append(f"{where}: pod phase {pod.get('status', {}).get('phase')}")
    if template is None:
        problems.append(f"{where}: template {studio['spec']['template']} missing")
        return problems
    current = template_image(template)
    pending = status.get("pendingRestart") is True
    if image != current and not (pending and template["spec"].get("updatePolicy", "OnRestart") == "OnRestart"):
        problems.append(f"{where}: runs {image}, template has {current}, pendingRestart={status.get('pendingRestart')}")
    if image == current and pending:
        problems.append(f"{where}: pendingRestart although it runs the template's image {current}")
    return problems


def check_orphans(snap: Snapshot) -> list[str]:
    """No pod, service, role or binding outlives its studio (claims: check_volumes)."""
    live = {key(s): s["metadata"]["uid"] for s in snap.studios}
    problems = []
    for kind, objs in (("pod", snap.pods), ("service", snap.services), ("role", snap.roles), ("rolebinding", snap.bindings)):
        for obj in objs:
            studio = (obj["metadata"].get("labels") or {}).get(STUDIO_LABEL)
            if studio and live.get((obj["metadata"]["namespace"], studio)) != controller_uid(obj):
                problems.append(f"orphan {kind} {key(obj)} of studio {studio} (controller {controller_uid(obj)})")
    return problems


@dataclasses.dataclass
class VolumeLedger:
    """Every home volume seen during a run: claim UIDs by (namespace, claim), with their owners."""

    seen: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)  # uid -> (namespace, claim)
    owners: dict[str, set[str]] = dataclasses.field(default_factory=dict)  # uid -> owner studio uids

    def record(self, pvc: Obj) -> None:
        uid = pvc["metadata"]["uid"]
        self.seen[uid] = key(pvc)
        self.owners[uid] = claim_studio_uids(pvc) | self.owners.get(uid, set())


def check_volumes(ledger: VolumeLedger, pvcs: list[Obj], deleted_with_volume: set[str],
                  retained: dict[tuple[str, str], str]) -> list[str]:
    """No claim went away unless its studio was deleted under Delete (so no claim was replaced
    either: its old UID would be gone), every such studio's claim went, and every retained claim
    is still there.

    `deleted_with_volume`: UIDs of studios the test deleted under volumeReclaimPolicy Delete.
    `retained`: (namespace, claim) -> claim UID of studios the test deleted under Retain.
    """
    problems = []
    present = {p["metadata"]["uid"]: key(p) for p in pvcs}
    for uid, where in ledger.seen.items():
        if uid in present:
            continue
        if not ledger.owners.get(uid, set()) & deleted_with_volume:
            problems.append(f"claim {where} uid {uid} was deleted although no studio owning it was deleted under Delete")
    for pvc in pvcs:
        # Any studio it was ever made for: a new studio of that name may have taken it over.
        if (claim_studio_uids(pvc) | ledger.owners.get(pvc["metadata"]["uid"], set())) & deleted_with_volume:
            problems.append(f"claim {key(pvc)} outlives its studio, deleted under Delete")
    by_claim: dict[tuple[str, str], list[str]] = defaultdict(list)
    for uid, where in present.items():
        by_claim[where].append(uid)
    for (ns, claim), uid in retained.items():
        if by_claim.get((ns, claim)) != [uid]:
            problems.append(f"retained claim {ns}/{claim} uid {uid} is gone or replaced (now {by_claim.get((ns, claim))})")
    return problems


MEMBER_ROLES = ("owner", "admin", "member", "viewer")


def check_members(namespace: str, members: list[dict[str, str]], bindings: list[Obj]) -> list[str]:
    """The workspace's RoleBinding for each role (studio-workspace-<role>) names exactly the
    members of that role: an added member may act, a removed one may not."""
    found = {b["metadata"]["name"]: sorted(s["name"] for s in b.get("subjects") or []) for b in bindings}
    problems = []
    for role in MEMBER_ROLES:
        want = sorted(m["name"] for m in members if m["role"] == role)
        got = found.get(f"studio-workspace-{role}")
        if got != want:
            problems.append(f"workspace namespace {namespace}: {role}s bound are {got}, members say {want}")
    return problems


KINDS = ("studio", "pod", "claim", "service", "role", "rolebinding")


def _versions(snap: Snapshot) -> dict[tuple[str, str, str], str]:
    lists = (snap.studios, snap.pods, snap.pvcs, snap.services, snap.roles, snap.bindings)
    return {(kind, *key(o)): o["metadata"].get("resourceVersion", "") for kind, objs in zip(KINDS, lists) for o in objs}


def check_quiet(before: Snapshot, after: Snapshot) -> list[str]:
    """Nothing of the studios changed between two snapshots of a converged run: an operator that
    keeps writing (a hot loop) breaks no other invariant. Templates are left out: their counts
    follow the studios a moment later."""
    was, now = _versions(before), _versions(after)
    problems = []
    for (kind, ns, name), version in sorted(was.items(), key=lambda kv: KINDS.index(kv[0][0])):
        if (kind, ns, name) not in now:
            problems.append(f"{kind} {ns}/{name} was deleted or created after convergence")
        elif now[(kind, ns, name)] != version:
            problems.append(f"{kind} {ns}/{name} was written after convergence "
                            f"(resourceVersion {version} -> {now[(kind, ns, name)]})")
    problems += [f"{kind} {ns}/{name} was deleted or created after convergence" for kind, ns, name in now.keys() - was.keys()]
    return problems


def check_all(snap: Snapshot) -> list[str]:
    return check_templates(snap) + check_studios(snap) + check_orphans(snap)
