"""Hostile input: every case is refused with a clear message, or surfaced as a studio's or
workspace's condition, and the test asserts that nothing else in the cluster changed.

The cases run against one settled world (two workspaces, each with a running studio) through
the real API server's RBAC, schema, CEL and admission, as the users themselves (impersonated).
Then the invalid-manifest corpus (tests/e2e/invalid/) runs against the same world.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.kube import Cluster, unique_name
from tests.e2e.rest import STUDIO, Rest, RestError, core_path, rbac_path, studios_path, templates_path
from tests.e2e.studios import make_template, studio_manifest, template_manifest, wait_state
from tests.e2e.workspaces import install_member_roles, make_workspace, member, wait_ready, workspace_manifest

pytestmark = pytest.mark.usefixtures("running_operator")

INVALID = pathlib.Path(__file__).parent / "invalid"
OWNER, ADMIN, MEMBER, PEER, VIEWER, B_MEMBER = "hana", "abe", "mia", "max", "vera", "bob"
FORBIDDEN = "is forbidden"
# Kinds of the two workspaces' namespaces compared before and after each case.
NAMESPACED = ("/apis/studio.dev/v1alpha1/{ns}/codestudios", "/api/v1/{ns}/pods", "/api/v1/{ns}/persistentvolumeclaims",
              "/api/v1/{ns}/services", "/api/v1/{ns}/resourcequotas", "/api/v1/{ns}/serviceaccounts",
              "/apis/rbac.authorization.k8s.io/v1/{ns}/roles", "/apis/rbac.authorization.k8s.io/v1/{ns}/rolebindings",
              "/apis/networking.k8s.io/v1/{ns}/networkpolicies")


@dataclasses.dataclass
class World:
    rest: Rest
    cluster: Cluster
    a: str  # workspace (and namespace) A: OWNER, ADMIN, MEMBER, PEER, VIEWER
    b: str  # workspace B: B_MEMBER
    template: str
    created: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # accepted studios to delete
    # The snapshot the last case ended with, when it passed: the next case's "before".
    last: dict[str, Any] | None = None

    def as_(self, user: str | None, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        # Unknown fields are refused as kubectl refuses them, not silently dropped.
        params = {"fieldValidation": "Strict"} if method in ("POST", "PATCH", "PUT") else None
        return self.rest.request(method, path, body, content_type=content_type, params=params, impersonate=user)

    def studio(self, name: str, namespace: str | None = None, owner: str | None = MEMBER, **spec: Any) -> dict[str, Any]:
        template = spec.pop("template", self.template)
        manifest = studio_manifest(name, namespace or self.a, template, owner=owner or "", **spec)
        if owner is None:
            del manifest["spec"]["owner"]
        return manifest


def _fingerprint(obj: dict[str, Any]) -> str:
    """What a hostile request could change: identity, labels, spec and the like, a studio's state."""
    meta = obj["metadata"]
    kept = {k: obj.get(k) for k in ("spec", "rules", "subjects", "roleRef", "automountServiceAccountToken")}
    kept["state"] = (obj.get("status") or {}).get("state")
    kept["phase"] = (obj.get("status") or {}).get("phase")
    return json.dumps([meta.get("uid"), meta.get("labels"), meta.get("ownerReferences"), kept], sort_keys=True)


def snapshot(w: World) -> dict[str, Any]:
    objects: dict[tuple[str, str, str], str] = {}
    for ns in (w.a, w.b):
        for pattern in NAMESPACED:
            path = pattern.format(ns=f"namespaces/{ns}")
            for obj in w.rest.items(path):
                if obj["metadata"]["name"].startswith("kube-root-ca"):
                    continue
                objects[(path, ns, obj["metadata"]["name"])] = _fingerprint(obj)
    for name in (w.a, w.b):
        objects[("workspace", "", name)] = _fingerprint(w.rest.get(f"{STUDIO}/workspaces/{name}"))
        objects[("namespace", "", name)] = _fingerprint(w.rest.get(core_path("namespaces", name=name)))
    objects[("template", "", w.template)] = _fingerprint(w.rest.get(templates_path(w.template)))
    return {
        "objects": objects,
        "workspaces": {o["metadata"]["name"] for o in w.rest.items(f"{STUDIO}/workspaces")},
        "templates": {o["metadata"]["name"] for o in w.rest.items(templates_path())},
        "namespaces": {o["metadata"]["name"] for o in w.rest.items(core_path("namespaces"))},
    }


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed; a workspace, template or namespace that went away is someone else's cleanup."""
    found = [f"{key} changed" for key in before["objects"].keys() & after["objects"].keys()
             if before["objects"][key] != after["objects"][key]]
    found += [f"{key} appeared" for key in after["objects"].keys() - before["objects"].keys()]
    found += [f"{key} disappeared" for key in before["objects"].keys() - after["objects"].keys()]
    for kind in ("workspaces", "templates", "namespaces"):
        found += [f"{kind[:-1]} {name} appeared" for name in after[kind] - before[kind]]
    return found


def refusal(request: Callable[[], Any]) -> str:
    try:
        request()
    except RestError as exc:
        return str(exc)
    raise AssertionError("the request was accepted")


def studio_condition(w: World, namespace: str, name: str, state: str, timeout: float = 60) -> str:
    """Creates nothing itself: waits for the accepted studio's state and returns its Ready message."""
    obj = wait_state(w.cluster, namespace, name, state, timeout=timeout)
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return f"{state}: {obj['status'].get('message') or ''} | {ready['status']} {ready['message']}"


def accepted_studio(w: World, manifest: dict[str, Any], state: str) -> str:
    """Creates a studio (as the member) that the API accepts, and returns what it says in state."""
    ns, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    w.as_(MEMBER, "POST", studios_path(ns), manifest)
    w.created.append((ns, name))
    return studio_condition(w, ns, name, state)


def foreign_namespace_workspace(w: World) -> str:
    """A cluster admin points a new workspace at B's namespace: it is not adopted, and deleting
    that workspace leaves B's namespace and everything in it alone."""
    name = unique_name("hostile")
    w.as_(None, "POST", f"{STUDIO}/workspaces", workspace_manifest(name, namespace=w.b))
    try:
        def failed():
            obj = w.rest.get(f"{STUDIO}/workspaces/{name}") or {}
            ready = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"]
            return ready[0]["message"] if ready and ready[0]["reason"] == "NamespaceNotOwned" else None
        return w.cluster.wait_for(failed, timeout=30, what="the foreign-namespace workspace's condition")
    finally:
        w.rest.delete(f"{STUDIO}/workspaces/{name}")
        w.cluster.wait_for(lambda: w.rest.get(f"{STUDIO}/workspaces/{name}") is None, timeout=30,
                           what="the foreign-namespace workspace to go")


def _env(n: int) -> list[dict[str, str]]:
    return [{"name": f"V{i}", "value": "x"} for i in range(n)]


# id -> (the hostile request, returning the message a user sees; a fragment that message must hold)
CASES: dict[str, tuple[Callable[[World], str], str]] = {
    # --- another tenant's namespace and objects --------------------------------------------------
    "member-of-a-creates-a-studio-in-b": (
        lambda w: refusal(lambda: w.as_(MEMBER, "POST", studios_path(w.b), w.studio("x", w.b, owner=None))), FORBIDDEN),
    "member-of-a-lists-b-studios": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", studios_path(w.b))), FORBIDDEN),
    "member-of-a-reads-b-studio": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", studios_path(w.b, "theirs"))),
                                   FORBIDDEN),
    "member-of-a-stops-b-studio": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", studios_path(w.b, "theirs"), {"spec": {"state": "Stopped"}})), FORBIDDEN),
    "member-of-a-deletes-b-studio": (lambda w: refusal(lambda: w.as_(MEMBER, "DELETE", studios_path(w.b, "theirs"))),
                                     FORBIDDEN),
    "member-of-a-reads-b-pods": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", core_path("pods", w.b))), FORBIDDEN),
    "member-of-a-reads-b-volume": (lambda w: refusal(lambda: w.as_(
        MEMBER, "GET", core_path("persistentvolumeclaims", w.b, "theirs-home"))), FORBIDDEN),
    "member-of-a-reads-workspace-b": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", f"{STUDIO}/workspaces/{w.b}")),
                                      FORBIDDEN),
    "member-of-a-lists-workspaces": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", f"{STUDIO}/workspaces")), FORBIDDEN),
    "member-of-b-joins-workspace-a": (lambda w: refusal(lambda: w.as_(
        B_MEMBER, "PATCH", f"{STUDIO}/workspaces/{w.a}",
        {"spec": {"members": [member(B_MEMBER, "owner")]}})), FORBIDDEN),
    "cluster-admin-points-a-workspace-at-b-namespace": (foreign_namespace_workspace, "was not created by studio-operator"),
    "owner-moves-workspace-a-to-b-namespace": (lambda w: refusal(lambda: w.as_(
        OWNER, "PATCH", f"{STUDIO}/workspaces/{w.a}", {"spec": {"namespace": w.b}})), "is immutable"),
    # --- reserved namespaces -----------------------------------------------------------------------
    **{f"studio-in-{ns}": (lambda w, ns=ns: refusal(lambda: w.as_(None, "POST", studios_path(ns), w.studio("x", ns))),
                           "is reserved")
       for ns in ("default", "kube-system", "kube-public", "kube-node-lease")},
    "member-creates-a-studio-in-default": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path("default"), w.studio("x", "default", owner=None))), FORBIDDEN),
    "admin-deletes-the-workspace-namespace": (lambda w: refusal(lambda: w.as_(
        None, "DELETE", core_path("namespaces", name=w.a))), "delete the workspace instead"),
    "owner-deletes-the-workspace-namespace": (lambda w: refusal(lambda: w.as_(
        OWNER, "DELETE", core_path("namespaces", name=w.a))), FORBIDDEN),
    # --- privilege escalation ----------------------------------------------------------------------
    "member-creates-a-pod": (lambda w: refusal(lambda: w.as_(MEMBER, "POST", core_path("pods", w.a), {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
        "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": {"privileged": True}}]}})),
        FORBIDDEN),
    "member-patches-the-studio-pod-image": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", core_path("pods", w.a, "mine"), {"spec": {"containers": [{"name": "studio", "image": "evil"}]}})),
        FORBIDDEN),
    "member-deletes-the-studio-volume": (lambda w: refusal(lambda: w.as_(
        MEMBER, "DELETE", core_path("persistentvolumeclaims", w.a, "mine-home"))), FORBIDDEN),
    "member-binds-himself-admin": (lambda w: refusal(lambda: w.as_(MEMBER, "POST", rbac_path("rolebindings", w.a), {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "mine"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "User", "name": MEMBER}]})), FORBIDDEN),
    "member-widens-the-studio-access-role": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", rbac_path("roles", w.a, "mine-access"), {"rules": []})), FORBIDDEN),
    "member-raises-the-quota": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", core_path("resourcequotas", w.a, "workspace-quota"), {"spec": {"hard": {"requests.cpu": "999"}}})),
        FORBIDDEN),
    "member-deletes-the-network-policy": (lambda w: refusal(lambda: w.as_(
        MEMBER, "DELETE", f"/apis/networking.k8s.io/v1/namespaces/{w.a}/networkpolicies/workspace-isolation")),
        FORBIDDEN),
    "member-reads-secrets": (lambda w: refusal(lambda: w.as_(MEMBER, "GET", core_path("secrets", w.a))), FORBIDDEN),
    "member-mints-a-service-account-token": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", core_path("serviceaccounts", w.a, "studio") + "/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})), FORBIDDEN),
    "owner-raises-the-workspace-quota": (lambda w: refusal(lambda: w.as_(
        OWNER, "PATCH", f"{STUDIO}/workspaces/{w.a}", {"spec": {"quota": {"cpu": "999"}}})), "may not change spec.quota"),
    "admin-makes-himself-owner": (lambda w: refusal(lambda: w.as_(
        ADMIN, "PATCH", f"{STUDIO}/workspaces/{w.a}", {"spec": {"members": [member(ADMIN, "owner")]}})), FORBIDDEN),
    "member-creates-a-workspace": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", f"{STUDIO}/workspaces", workspace_manifest("mine"))), FORBIDDEN),
    "member-creates-a-template": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", templates_path(), template_manifest("mine"))), FORBIDDEN),
    "member-changes-the-template-image": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", templates_path(w.template), {"spec": {"image": {"prebuilt": "evil.example/x:1"}}})),
        FORBIDDEN),
    "studio-asks-for-privileged": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, securityContext={"privileged": True}))),
        'unknown field "spec.securityContext"'),
    "studio-env-reads-a-secret": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, env=[
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]))),
        'unknown field "spec.env[0].valueFrom"'),
    "studio-mounts-a-host-path": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, volumes=[{"name": "h", "hostPath": {"path": "/"}}]))),
        'unknown field "spec.volumes"'),
    "template-grants-capabilities": (lambda w: refusal(lambda: w.as_(None, "POST", templates_path(), template_manifest(
        "hostile-caps", securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}))),
        'unknown field "spec.securityContext.capabilities"'),
    "template-runs-privileged": (lambda w: refusal(lambda: w.as_(None, "POST", templates_path(), template_manifest(
        "hostile-priv", securityContext={"privileged": True}))), 'unknown field "spec.securityContext.privileged"'),
    "studio-over-the-cpu-quota": (lambda w: accepted_studio(w, w.studio(
        "greedy", owner=None, volumeReclaimPolicy="Delete", resources={"requests": {"cpu": "64"}}), "Failed"),
        "exceeded quota"),
    "studio-requests-above-its-limits": (lambda w: accepted_studio(w, w.studio(
        "upside", owner=None, volumeReclaimPolicy="Delete",
        resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}), "Failed"), "must be less than or equal to"),
    # --- owner spoofing ----------------------------------------------------------------------------
    "member-creates-a-studio-for-a-peer": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=PEER))), f"{MEMBER} may not create CodeStudio"),
    "member-creates-a-studio-for-the-cluster-admin": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner="system:admin"))), "only workspace owners"),
    "peer-takes-over-the-member-studio": (lambda w: refusal(lambda: w.as_(
        PEER, "PATCH", studios_path(w.a, "mine"), {"spec": {"owner": PEER}})), FORBIDDEN),
    "peer-stops-the-member-studio": (lambda w: refusal(lambda: w.as_(
        PEER, "PATCH", studios_path(w.a, "mine"), {"spec": {"state": "Stopped"}})), FORBIDDEN),
    "viewer-creates-a-studio": (lambda w: refusal(lambda: w.as_(
        VIEWER, "POST", studios_path(w.a), w.studio("x", owner=None))), FORBIDDEN),
    "viewer-stops-a-studio": (lambda w: refusal(lambda: w.as_(
        VIEWER, "PATCH", studios_path(w.a, "mine"), {"spec": {"state": "Stopped"}})), FORBIDDEN),
    "member-empties-the-owner": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", studios_path(w.a, "mine"), {"spec": {"owner": ""}})), "spec.owner"),
    "member-moves-the-studio-to-a-missing-template": (lambda w: refusal(lambda: w.as_(
        MEMBER, "PATCH", studios_path(w.a, "mine"), {"spec": {"template": "no-such-template"}})), "does not exist"),
    # --- oversized specs ---------------------------------------------------------------------------
    "studio-with-129-env-vars": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, env=_env(129)))), "must have at most 128 items"),
    "studio-env-value-over-32k": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, env=[{"name": "BIG", "value": "x" * 40000}]))),
        "may not be more than 32768"),
    "template-argument-over-32k": (lambda w: refusal(lambda: w.as_(None, "POST", templates_path(), template_manifest(
        "hostile-args", args=["-c", "x" * 40000]))), "spec.args[1]: Too long: may not be more than 32768"),
    "template-command-over-32k": (lambda w: refusal(lambda: w.as_(None, "POST", templates_path(), template_manifest(
        "hostile-command", command=["x" * 40000]))), "spec.command[0]: Too long: may not be more than 32768"),
    "studio-with-300kib-of-annotations": (lambda w: refusal(lambda: w.as_(MEMBER, "POST", studios_path(w.a), {
        **w.studio("x", owner=None), "metadata": {"name": "x", "annotations": {"a": "x" * (300 << 10)}}})),
        "may not be more than 262144 bytes"),
    "workspace-with-thousands-of-members": (lambda w: refusal(lambda: w.as_(None, "POST", f"{STUDIO}/workspaces",
        workspace_manifest("hostile-crowd", members=[member(f"u{i}", "member") for i in range(5000)]))),
        "must have at most"),
    "studio-with-17-resource-limits": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, resources={
            "limits": {f"example.com/r{i}": "1" for i in range(17)}}))), "must have at most 16 items"),
    # --- names -------------------------------------------------------------------------------------
    "unicode-studio-name": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("stüdio", owner=None))), "metadata.name"),
    "studio-name-of-64-characters": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("s" * 64, owner=None))), "must be a DNS-1035 label"),
    "studio-name-with-a-dot": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("a.b", owner=None))), "must be a DNS-1035 label"),
    "studio-name-of-63-characters-runs": (lambda w: accepted_studio(w, w.studio(
        "m" + "x" * 62, owner=None, volumeReclaimPolicy="Delete"), "Running"), "Running:  | True"),
    "unicode-template-name": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, template="tëmplate"))), "spec.template"),
    "owner-name-over-253-characters": (lambda w: refusal(lambda: w.as_(
        None, "POST", studios_path(w.a), w.studio("x", owner="o" * 300))), "spec.owner"),
    # --- quantities --------------------------------------------------------------------------------
    "cpu-quantity-overflow": (lambda w: accepted_studio(w, w.studio(
        "overflow", owner=None, volumeReclaimPolicy="Delete", resources={"requests": {"cpu": "1e999999"}}), "Failed"),
        "exceeded quota"),
    "memory-quantity-of-65-digits": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, resources={"requests": {"memory": "9" * 65}}))),
        "Too long"),
    "storage-size-exabytes": (lambda w: accepted_studio(w, w.studio(
        "hoarder", owner=None, volumeReclaimPolicy="Delete", storage={"size": "8Ei"}), "Failed"), "exceeded quota"),
    "negative-cpu": (lambda w: refusal(lambda: w.as_(
        MEMBER, "POST", studios_path(w.a), w.studio("x", owner=None, resources={"requests": {"cpu": "-1"}}))),
        "non-negative"),
}


@pytest.fixture(scope="module")
def world(cluster: Cluster, crds, request) -> World:
    install_member_roles(cluster)
    tpl = make_template(cluster, request)
    a = make_workspace(cluster, request, members=[member(OWNER, "owner"), member(ADMIN, "admin"),
                                                  member(MEMBER, "member"), member(PEER, "member"),
                                                  member(VIEWER, "viewer")],
                       quota={"cpu": "4", "memory": "8Gi", "storage": "100Gi"})
    b = make_workspace(cluster, request, members=[member(B_MEMBER, "member")])
    wait_ready(cluster, a)
    wait_ready(cluster, b)
    rest = Rest(cluster.kubeconfig)
    w = World(rest, cluster, a, b, tpl)
    cluster.apply(studio_manifest("mine", a, tpl, owner=MEMBER))
    cluster.apply(studio_manifest("theirs", b, tpl, owner=B_MEMBER))
    wait_state(cluster, a, "mine", "Running")
    wait_state(cluster, b, "theirs", "Running")
    yield w
    rest.close()


def settled(w: World, timeout: float = 60) -> dict[str, Any]:
    """The world once two snapshots in a row agree (a status write may still be landing)."""
    deadline = time.monotonic() + timeout
    last = snapshot(w)
    while True:
        time.sleep(0.5)
        now = snapshot(w)
        if not (moved := changes(last, now)):
            return now
        if time.monotonic() > deadline:
            raise AssertionError(f"the world kept changing for {timeout}s: {moved}")
        last = now


def _remove_created(w: World) -> None:
    for ns, name in w.created:
        w.rest.delete(studios_path(ns, name))
        # Its pod, volume (reclaim policy Delete), Service and Role go with it, by GC.
        w.cluster.wait_for(lambda: not w.rest.items(core_path("persistentvolumeclaims", ns),
                                                     labelSelector=f"studio.dev/codestudio={name}")
                           and not w.rest.items(core_path("pods", ns), labelSelector=f"studio.dev/codestudio={name}")
                           and w.rest.get(studios_path(ns, name)) is None,
                           timeout=60, what=f"studio {name} and its children to go")
    w.created.clear()


def test_there_are_at_least_60_hostile_cases():
    assert len(CASES) + len(list(INVALID.glob("*.yaml"))) >= 60


def _before(w: World) -> dict[str, Any]:
    before, w.last = w.last or settled(w), None
    return before


def _unchanged_since(w: World, before: dict[str, Any], after: dict[str, Any]) -> None:
    assert changes(before, after) == []
    w.last = after


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_request_is_refused_or_surfaced_and_nothing_else_changes(world: World, case: str):
    act, says = CASES[case]
    before = _before(world)
    try:
        message = act(world)
        assert says in message, message
    finally:
        _remove_created(world)
    _unchanged_since(world, before, settled(world))


def _expectations(path: pathlib.Path) -> dict[str, str]:
    found = dict(re.findall(r"^# (expect|says): (.+)$", path.read_text(), re.M))
    assert set(found) == {"expect", "says"}, f"{path.name} needs '# expect: <field>' and '# says: <text>'"
    return found


def test_the_invalid_corpus_is_large_and_labelled():
    cases = sorted(INVALID.glob("*.yaml"))
    assert len(cases) >= 30
    for path in cases:
        _expectations(path)


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_manifest_is_refused_naming_the_field(world: World, path: pathlib.Path):
    expected = _expectations(path)
    before = _before(world)
    proc = world.cluster.kubectl("apply", "-n", world.a, "-f", str(path), check=False)
    if proc.returncode == 0:
        world.cluster.kubectl("delete", "-n", world.a, "-f", str(path), "--wait=false", check=False)
        pytest.fail(f"accepted: {proc.stdout.strip()}")
    error = proc.stderr
    assert "is invalid" in error or "unknown field" in error, error
    # The field itself, not a parent or a child: spec.image must not match spec.image.build.
    assert re.search(rf"(?<![\w.\]]){re.escape(expected['expect'])}(?![\w.\[])", error), error
    assert expected["says"] in error, error
    _unchanged_since(world, before, snapshot(world))  # refused by the schema: nothing follows later
