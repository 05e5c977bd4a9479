"""Workspaces end to end, through the real API server's RBAC and admission, as the users
themselves: every request that a member would make is made with `kubectl --as`."""

from __future__ import annotations

import time

import pytest

from tests.e2e.kube import Cluster, unique_name
from tests.e2e.operator import validating_webhooks_bypassed
from tests.e2e.studios import condition, make_template, pvc_uid, studio_manifest, wait_state
from tests.e2e.workspaces import (
    apply_as,
    can_i,
    install_member_roles,
    kubectl_as,
    make_workspace,
    member,
    patch_as,
    wait_phase,
    wait_ready,
    workspace,
)

pytestmark = pytest.mark.usefixtures("running_operator")

OWNER, ADMIN, MEMBER, VIEWER, OUTSIDER = "olivia", "adam", "mia", "victor", "oscar"
VIEWERS_GROUP = "auditors"
TEAM = [member(OWNER, "owner"), member(ADMIN, "admin"), member(MEMBER, "member"),
        member(VIEWERS_GROUP, "viewer", kind="Group")]


@pytest.fixture(scope="module", autouse=True)
def member_roles(cluster: Cluster, crds) -> None:
    install_member_roles(cluster)


def own_studio(name: str, namespace: str, template: str, **spec) -> dict:
    """A studio manifest without spec.owner: the creating user becomes its owner."""
    manifest = studio_manifest(name, namespace, template, **spec)
    del manifest["spec"]["owner"]
    return manifest


def refusal(proc) -> str:
    assert proc.returncode != 0, f"expected a refusal, got: {proc.stdout}"
    return proc.stderr


def test_workspace_sets_up_namespace_roles_quota_and_isolation(cluster: Cluster, request):
    ws = make_workspace(cluster, request, members=TEAM, tier="gold",
                        quota={"maxCodeStudios": 5, "cpu": "8", "memory": "16Gi", "storage": "100Gi", "gpu": 1})
    obj = wait_ready(cluster, ws)
    status = obj["status"]
    assert status["phase"] == "Active"
    assert status["namespace"] == ws and status["tier"] == "gold" and status["members"] == 4
    assert status["codeStudios"] == {"total": 0, "running": 0, "stopped": 0}
    assert status["usage"] == {"codeStudios": "0", "cpu": "0", "gpu": "0", "memory": "0", "storage": "0"}
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "NamespaceReady": "True", "RBACReady": "True", "QuotaReady": "True", "Ready": "True"}

    ns = cluster.get("namespace", ws)
    labels = ns["metadata"]["labels"]
    assert labels["studio.dev/workspace"] == ws
    assert all(labels[f"pod-security.kubernetes.io/{m}"] == "restricted" for m in ("enforce", "audit", "warn"))
    assert ns["metadata"]["annotations"]["studio.dev/workspace-uid"] == obj["metadata"]["uid"]
    assert "ownerReferences" not in ns["metadata"]  # no garbage-collector dependent of the workspace

    quota = cluster.get("resourcequota", "workspace-quota", ws)
    assert quota["spec"]["hard"] == {"count/codestudios.studio.dev": "5", "requests.cpu": "8", "requests.memory": "16Gi",
                                     "requests.storage": "100Gi", "requests.nvidia.com/gpu": "1"}
    policy = cluster.get("networkpolicy", "workspace-isolation", ws)
    assert policy["spec"]["podSelector"] == {} and policy["spec"]["policyTypes"] == ["Ingress"]
    assert cluster.get("serviceaccount", "studio", ws)["automountServiceAccountToken"] is False
    bindings = {b["metadata"]["name"]: b for b in cluster.get("rolebindings", namespace=ws)["items"]}
    assert [s["name"] for s in bindings["studio-workspace-owner"]["subjects"]] == [OWNER]
    assert [s["name"] for s in bindings["studio-workspace-viewer"]["subjects"]] == [VIEWERS_GROUP]

    # A pod that breaks the restricted Pod Security level is refused in the namespace.
    privileged = cluster.kubectl("-n", ws, "run", "root", "--image=busybox", "--restart=Never",
                                 "--overrides", '{"spec":{"containers":[{"name":"root","image":"busybox",'
                                 '"securityContext":{"privileged":true}}]}}', check=False)
    assert "violates PodSecurity" in refusal(privileged)


def test_each_role_can_do_exactly_what_it_should(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM)
    other = make_workspace(cluster, request)
    wait_ready(cluster, ws)
    viewer = (VIEWER, (VIEWERS_GROUP,))
    users = {"owner": (OWNER, ()), "admin": (ADMIN, ()), "member": (MEMBER, ()), "viewer": viewer,
             "outsider": (OUTSIDER, ())}
    expected = {
        # question: roles that may (owner, admin, member, viewer, outsider)
        ("list", "codestudios", "-n", ws): {"owner", "admin", "member", "viewer"},
        ("create", "codestudios", "-n", ws): {"owner", "admin", "member"},
        ("patch", "codestudios", "-n", ws): {"owner", "admin"},
        ("delete", "codestudios", "-n", ws): {"owner", "admin"},
        ("delete", "pods", "-n", ws): {"owner", "admin"},
        ("delete", "persistentvolumeclaims", "-n", ws): {"owner"},
        ("create", "pods", "-n", ws): set(),
        ("create", "pods", "--subresource=exec", "-n", ws): set(),
        ("create", "pods", "--subresource=portforward", "-n", ws): set(),
        ("get", "pods", "--subresource=log", "-n", ws): set(),
        ("get", "secrets", "-n", ws): set(),
        ("create", "rolebindings", "-n", ws): set(),
        ("patch", "resourcequotas", "-n", ws): set(),
        ("get", f"workspaces/{ws}"): {"owner", "admin", "member", "viewer"},
        ("patch", f"workspaces/{ws}"): {"owner"},
        ("delete", f"workspaces/{ws}"): {"owner"},
        ("get", f"workspaces/{other}"): set(),
        ("list", "workspaces"): set(),
        ("list", "codestudiotemplates"): set(),
        ("list", "namespaces"): set(),
        ("create", "codestudios", "-n", other): set(),
        ("create", "codestudios", "-n", namespace): set(),
        ("list", "codestudios", "--all-namespaces"): set(),
    }
    got = {q: {role for role, (user, groups) in users.items() if can_i(cluster, user, *q, groups=groups)}
           for q in expected}
    assert got == expected

    # Real requests: a member creates a studio and may use and stop it; no one else may use it.
    assert apply_as(cluster, MEMBER, own_studio("mine", ws, tpl)).returncode == 0
    wait_state(cluster, ws, "mine", "Running")
    for user, may in ((MEMBER, True), (OWNER, False), (ADMIN, False), (VIEWER, False)):
        assert can_i(cluster, user, "create", "pods/mine", "--subresource=exec", "-n", ws) is may, user
        assert can_i(cluster, user, "create", "pods/mine", "--subresource=portforward", "-n", ws) is may, user
    # The admin's own studio: the member may see it but not stop it; the admin may stop the member's.
    assert apply_as(cluster, ADMIN, own_studio("theirs", ws, tpl)).returncode == 0
    assert "forbidden" in refusal(patch_as(cluster, MEMBER, "codestudio", "theirs", {"spec": {"state": "Stopped"}}, ws))
    assert kubectl_as(cluster, MEMBER, "-n", ws, "get", "codestudio", "theirs").returncode == 0
    assert patch_as(cluster, ADMIN, "codestudio", "mine", {"spec": {"state": "Stopped"}}, ws).returncode == 0
    assert patch_as(cluster, MEMBER, "codestudio", "mine", {"spec": {"state": "Running"}}, ws).returncode == 0
    assert "forbidden" in refusal(apply_as(cluster, VIEWER, own_studio("peek", ws, tpl), groups=(VIEWERS_GROUP,)))
    assert "forbidden" in refusal(kubectl_as(cluster, OUTSIDER, "-n", ws, "get", "codestudios"))
    # Owners change the workspace itself; no one else does.
    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"displayName": "Team A"}}).returncode == 0
    assert "forbidden" in refusal(patch_as(cluster, ADMIN, "workspace", ws, {"spec": {"displayName": "Mine"}}))
    assert kubectl_as(cluster, VIEWER, "get", "workspace", ws, groups=(VIEWERS_GROUP,)).returncode == 0
    assert "forbidden" in refusal(kubectl_as(cluster, VIEWER, "get", "workspaces", groups=(VIEWERS_GROUP,)))


def test_removing_a_member_revokes_access_within_seconds(cluster: Cluster, request):
    ws = make_workspace(cluster, request, members=[member(OWNER, "owner"), member(MEMBER, "member")])
    wait_ready(cluster, ws)
    assert can_i(cluster, MEMBER, "create", "codestudios", "-n", ws)
    assert can_i(cluster, MEMBER, "get", f"workspaces/{ws}")
    # The owner removes the member (the list is replaced by a merge patch).
    start = time.monotonic()
    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"members": [member(OWNER, "owner")]}}).returncode == 0
    cluster.wait_for(lambda: not can_i(cluster, MEMBER, "create", "codestudios", "-n", ws)
                     and not can_i(cluster, MEMBER, "get", f"workspaces/{ws}"),
                     timeout=10, what="the removed member to lose access")
    revoked = time.monotonic() - start
    print(f"\nmember access revoked {revoked:.2f}s after the workspace change")
    assert can_i(cluster, OWNER, "create", "codestudios", "-n", ws)
    assert workspace(cluster, ws)["status"]["members"] == 1


def test_a_namespace_the_operator_did_not_create_is_not_adopted(cluster: Cluster, namespace: str, request):
    before = cluster.get("namespace", namespace)["metadata"]["labels"]
    ws = make_workspace(cluster, request, namespace=namespace, members=TEAM, quota={"cpu": "1"})
    obj = wait_phase(cluster, ws, "Failed")
    ready = condition(obj, "Ready")
    assert ready["status"] == "False" and ready["reason"] == "NamespaceNotOwned"
    assert f"namespace {namespace} exists and was not created by studio-operator" in ready["message"]
    assert condition(obj, "NamespaceReady")["status"] == "False"
    assert "namespace" not in obj["status"]
    time.sleep(2)  # give the operator time to do what it must not
    assert cluster.get("namespace", namespace)["metadata"]["labels"] == before
    for kind in ("rolebindings", "resourcequotas", "networkpolicies", "limitranges"):
        assert cluster.get(kind, namespace=namespace)["items"] == [], kind
    assert [sa["metadata"]["name"] for sa in cluster.get("serviceaccounts", namespace=namespace)["items"]] == ["default"]
    assert not can_i(cluster, MEMBER, "create", "codestudios", "-n", namespace)
    # Deleting such a workspace leaves the namespace alone.
    cluster.kubectl("delete", "workspace", ws, "--timeout=20s")
    assert cluster.get("namespace", namespace)["status"]["phase"] == "Active"


def test_quotas_refuse_studios_over_the_limit_with_a_clear_message(cluster: Cluster, request):
    tpl = make_template(cluster, request)
    big = make_template(cluster, request, resources={"requests": {"cpu": "3"}})
    ws = make_workspace(cluster, request, members=TEAM, quota={"maxCodeStudios": 3, "maxRunningCodeStudios": 1, "cpu": "2"})
    wait_ready(cluster, ws)
    assert apply_as(cluster, MEMBER, own_studio("first", ws, tpl)).returncode == 0
    wait_state(cluster, ws, "first", "Running")

    # maxRunningCodeStudios: the second studio waits, saying why, and starts when a slot frees.
    assert apply_as(cluster, MEMBER, own_studio("second", ws, tpl)).returncode == 0
    waiting = wait_state(cluster, ws, "second", "Failed")
    assert condition(waiting, "PodReady")["reason"] == "QuotaExceeded"
    assert "maxRunningCodeStudios=1" in waiting["status"]["message"]
    assert patch_as(cluster, MEMBER, "codestudio", "first", {"spec": {"state": "Stopped"}}, ws).returncode == 0
    wait_state(cluster, ws, "second", "Running", timeout=30)
    assert cluster.get("codestudio", "first", ws)["status"]["state"] == "Stopped"

    # The ResourceQuota: a studio asking for more CPU than the workspace has is refused its pod.
    patch_as(cluster, MEMBER, "codestudio", "second", {"spec": {"state": "Stopped"}}, ws)
    wait_state(cluster, ws, "second", "Stopped")
    assert apply_as(cluster, MEMBER, own_studio("third", ws, big)).returncode == 0
    refused = wait_state(cluster, ws, "third", "Failed")
    assert condition(refused, "PodReady")["reason"] == "QuotaExceeded"
    assert "exceeded quota" in refused["status"]["message"] and "requests.cpu=2" in refused["status"]["message"]

    # maxCodeStudios: the fourth studio is refused at apply time, naming the limit and the studios.
    error = refusal(apply_as(cluster, MEMBER, own_studio("fourth", ws, tpl)))
    assert f"workspace {ws} allows at most 3 CodeStudios (spec.quota.maxCodeStudios=3)" in error
    assert "first, second, third" in error
    assert cluster.get("codestudio", "fourth", ws) is None
    cluster.wait_for(lambda: workspace(cluster, ws)["status"]["usage"].get("codeStudios") == "3",
                     what="the workspace to show the quota's usage")


def test_studios_starting_together_never_exceed_max_running(cluster: Cluster, request):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM, state="Stopped", quota={"maxRunningCodeStudios": 2})
    wait_ready(cluster, ws)
    names = [f"r{i}" for i in range(8)]
    assert apply_as(cluster, MEMBER, {"apiVersion": "v1", "kind": "List",
                                       "items": [own_studio(n, ws, tpl) for n in names]}).returncode == 0
    for name in names:
        wait_state(cluster, ws, name, "Stopped")
    # Resuming the workspace asks all eight to start at the same moment.
    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"state": "Active"}}).returncode == 0
    most = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        most = max(most, len(cluster.get("pods", namespace=ws)["items"]))
        time.sleep(0.1)
    assert most == 2
    studios = cluster.get("codestudios", namespace=ws)["items"]
    assert sorted(s["status"]["state"] for s in studios) == ["Failed"] * 6 + ["Running"] * 2
    assert all("maxRunningCodeStudios=2" in s["status"]["message"] for s in studios if s["status"]["state"] == "Failed")


def test_concurrent_creates_never_exceed_max_code_studios(cluster: Cluster, request):
    """The webhook counts what exists; the ResourceQuota (enforced by the API server) holds the
    line when creates race past it."""
    import concurrent.futures

    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM, quota={"maxCodeStudios": 2})
    wait_ready(cluster, ws)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: apply_as(cluster, MEMBER, own_studio(f"s{i}", ws, tpl)), range(8)))
    assert sum(r.returncode == 0 for r in results) == 2
    assert all("maxCodeStudios=2" in r.stderr or "exceeded quota" in r.stderr for r in results if r.returncode)
    assert len(cluster.get("codestudios", namespace=ws)["items"]) == 2


def test_stop_all_stops_every_studio_keeps_volumes_and_active_restores(cluster: Cluster, request):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM)
    wait_ready(cluster, ws)
    for name in ("a", "b"):
        assert apply_as(cluster, MEMBER, own_studio(name, ws, tpl)).returncode == 0
    assert apply_as(cluster, MEMBER, own_studio("c", ws, tpl, state="Stopped")).returncode == 0
    for name in ("a", "b"):
        wait_state(cluster, ws, name, "Running")
    wait_state(cluster, ws, "c", "Stopped")
    volumes = {n: pvc_uid(cluster, ws, f"{n}-home") for n in "abc"}
    assert all(volumes.values())

    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"state": "Stopped"}}).returncode == 0
    stopped = wait_phase(cluster, ws, "Stopped")
    assert cluster.get("pods", namespace=ws)["items"] == []
    # Stopped means every studio says so already, not only that the pods are gone.
    assert stopped["status"]["codeStudios"] == {"total": 3, "running": 0, "stopped": 3}
    for name in "abc":
        obj = cluster.get("codestudio", name, ws)
        assert obj["status"]["state"] == "Stopped"
        assert f"workspace {ws} is stopped" in obj["status"]["message"] or name == "c"
    assert condition(stopped, "Ready")["status"] == "True"
    assert {n: pvc_uid(cluster, ws, f"{n}-home") for n in "abc"} == volumes
    # Nothing starts while the workspace is stopped, not even a studio asking to.
    patch_as(cluster, MEMBER, "codestudio", "c", {"spec": {"state": "Running"}}, ws)
    time.sleep(2)
    assert cluster.get("pods", namespace=ws)["items"] == []

    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"state": "Active"}}).returncode == 0
    for name in "abc":
        wait_state(cluster, ws, name, "Running")
    patch_as(cluster, MEMBER, "codestudio", "c", {"spec": {"state": "Stopped"}}, ws)
    wait_state(cluster, ws, "c", "Stopped")
    assert wait_phase(cluster, ws, "Active")
    assert cluster.wait_for(lambda: workspace(cluster, ws)["status"]["codeStudios"] == {"total": 3, "running": 2, "stopped": 1},
                            what="the counts to show two running studios")
    assert {n: pvc_uid(cluster, ws, f"{n}-home") for n in "abc"} == volumes


# Foreground is Argo CD's prune and `kubectl delete --cascade=foreground`: the garbage collector
# deletes the workspace's dependents at once, and must not take the namespace (its studios, their
# volumes) behind the operator's back.
@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_protected_workspace_with_studios_is_not_deleted(cluster: Cluster, request, cascade: str):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM)
    wait_ready(cluster, ws)
    for name in ("alpha", "beta"):
        assert apply_as(cluster, MEMBER, own_studio(name, ws, tpl)).returncode == 0
    error = refusal(kubectl_as(cluster, OWNER, "delete", "workspace", ws, "--wait=false"))
    assert f"workspace {ws} has deletionPolicy Protect and still holds 2 CodeStudio(s): alpha, beta" in error
    assert "deletionTimestamp" not in workspace(cluster, ws)["metadata"]

    # With the webhook out of the way, the workspace's finalizer still keeps everything.
    with validating_webhooks_bypassed(cluster.kubectl):
        cluster.kubectl("delete", "workspace", ws, f"--cascade={cascade}", "--wait=false")

    def blocked():
        obj = workspace(cluster, ws)
        ready = condition(obj, "Ready") if obj.get("status", {}).get("conditions") else {}
        return obj if ready.get("reason") == "DeletionBlocked" else None

    obj = cluster.wait_for(blocked, what="the deletion to be blocked")
    assert obj["status"]["phase"] == "Terminating"
    assert "alpha, beta" in condition(obj, "Ready")["message"]
    time.sleep(2)
    assert len(cluster.get("codestudios", namespace=ws)["items"]) == 2
    assert cluster.get("namespace", ws)["status"]["phase"] == "Active"
    # Deleting the studios lets the deletion finish.
    kubectl_as(cluster, MEMBER, "-n", ws, "delete", "codestudio", "alpha", "beta", check=True)
    cluster.wait_for(lambda: workspace(cluster, ws) is None and cluster.get("namespace", ws) is None,
                     timeout=60, what="the workspace and its namespace to go")


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_cascade_deletes_studios_then_namespace_keeping_retained_volumes(cluster: Cluster, request, cascade: str):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM, deletionPolicy="Cascade")
    wait_ready(cluster, ws)
    apply_as(cluster, MEMBER, own_studio("keep", ws, tpl, volumeReclaimPolicy="Retain"))
    apply_as(cluster, MEMBER, own_studio("drop", ws, tpl, volumeReclaimPolicy="Delete"))
    for name in ("keep", "drop"):
        wait_state(cluster, ws, name, "Running")
    volumes = {n: cluster.get("pvc", f"{n}-home", ws)["spec"]["volumeName"] for n in ("keep", "drop")}

    # The namespace goes only with the workspace: deleted directly, it would take the kept volume.
    error = refusal(cluster.kubectl("delete", "namespace", ws, "--wait=false", check=False))
    assert f"namespace {ws} belongs to workspace {ws}; delete the workspace instead" in error
    cluster.kubectl("delete", "workspace", ws, f"--cascade={cascade}", "--wait=false")

    def namespace_gone():
        ns = cluster.get("namespace", ws)
        if ns and ns["metadata"].get("deletionTimestamp"):
            reclaim = (cluster.get("pv", volumes["keep"]) or {}).get("spec", {}).get("persistentVolumeReclaimPolicy")
            assert reclaim == "Retain", f"namespace {ws} is deleting while the retained volume's policy is {reclaim}"
        return ns is None

    cluster.wait_for(namespace_gone, timeout=60, what="the namespace to go")
    cluster.wait_for(lambda: workspace(cluster, ws) is None, timeout=30, what="the workspace to go")
    kept = cluster.get("pv", volumes["keep"])
    assert kept["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert kept["metadata"]["labels"]["studio.dev/workspace"] == ws
    assert kept["metadata"]["labels"]["studio.dev/codestudio"] == "keep"
    assert kept["metadata"]["annotations"]["studio.dev/claim"] == f"{ws}/keep-home"
    assert kept["metadata"]["annotations"]["studio.dev/owner"] == MEMBER
    cluster.wait_for(lambda: cluster.get("pv", volumes["drop"]) is None, timeout=30, what="the Delete volume to go")
    assert cluster.get("clusterrole", f"studio-workspace:{ws}") is None
    cluster.kubectl("delete", "pv", volumes["keep"], "--wait=false")


def test_owner_defaults_to_the_creator_and_only_privileged_users_change_it(cluster: Cluster, request):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM)
    wait_ready(cluster, ws)

    assert apply_as(cluster, MEMBER, own_studio("mias", ws, tpl)).returncode == 0
    assert cluster.get("codestudio", "mias", ws)["spec"]["owner"] == MEMBER
    wait_state(cluster, ws, "mias", "Running")

    # A member may not create a studio for someone else; a workspace admin may.
    error = refusal(apply_as(cluster, MEMBER, studio_manifest("for-olivia", ws, tpl, owner=OWNER)))
    assert f"{MEMBER} may not create CodeStudio {ws}/for-olivia for {OWNER}" in error
    assert apply_as(cluster, ADMIN, studio_manifest("for-mia", ws, tpl, owner=MEMBER)).returncode == 0

    # Someone allowed to update studios by other means, but neither owner, workspace owner or
    # admin, nor cluster admin, may not change the owner.
    cluster.kubectl("-n", ws, "create", "role", "studio-editor", "--verb=get,update,patch",
                    "--resource=codestudios.studio.dev")
    cluster.kubectl("-n", ws, "create", "rolebinding", "studio-editor", "--role=studio-editor", f"--user={OUTSIDER}")
    error = refusal(patch_as(cluster, OUTSIDER, "codestudio", "mias", {"spec": {"owner": OUTSIDER}}, ws))
    assert f"{OUTSIDER} may not change the owner of CodeStudio {ws}/mias from {MEMBER} to {OUTSIDER}" in error
    assert patch_as(cluster, OUTSIDER, "codestudio", "mias", {"spec": {"state": "Stopped"}}, ws).returncode == 0
    patch_as(cluster, MEMBER, "codestudio", "mias", {"spec": {"state": "Running"}}, ws)

    # The owner gives the studio away; it keeps running on its volume, and access moves with it.
    volume = pvc_uid(cluster, ws, "mias-home")
    assert patch_as(cluster, MEMBER, "codestudio", "mias", {"spec": {"owner": ADMIN}}, ws).returncode == 0
    cluster.wait_for(lambda: can_i(cluster, ADMIN, "create", "pods/mias", "--subresource=exec", "-n", ws)
                     and not can_i(cluster, MEMBER, "create", "pods/mias", "--subresource=exec", "-n", ws),
                     timeout=20, what="access to move to the new owner")
    obj = wait_state(cluster, ws, "mias", "Running")
    assert obj["status"]["owner"] == ADMIN and pvc_uid(cluster, ws, "mias-home") == volume
    assert "forbidden" in refusal(patch_as(cluster, MEMBER, "codestudio", "mias", {"spec": {"owner": MEMBER}}, ws))
    # A workspace owner takes it back for the member; a cluster admin may too.
    assert patch_as(cluster, OWNER, "codestudio", "mias", {"spec": {"owner": MEMBER}}, ws).returncode == 0
    root = cluster.kubectl("-n", ws, "patch", "codestudio", "for-mia", "--type=merge", "-p",
                           '{"spec":{"owner":"oscar"}}', "--as=root", "--as-group=system:masters")
    assert root.returncode == 0
    assert cluster.get("codestudio", "for-mia", ws)["spec"]["owner"] == OUTSIDER

    # Who may update every Workspace is a cluster admin (asked through a SubjectAccessReview).
    platform = unique_name("platform")
    cluster.kubectl("create", "clusterrole", platform, "--verb=get,update,patch",
                    "--resource=workspaces.studio.dev,codestudios.studio.dev")
    request.addfinalizer(lambda: cluster.kubectl("delete", "clusterrole,clusterrolebinding", platform, check=False))
    cluster.kubectl("create", "clusterrolebinding", platform, f"--clusterrole={platform}", "--user=paula")
    assert patch_as(cluster, "paula", "codestudio", "for-mia", {"spec": {"owner": MEMBER}}, ws).returncode == 0

    # Quotas are the cluster admins' to set, not the workspace owners'.
    error = refusal(patch_as(cluster, OWNER, "workspace", ws, {"spec": {"quota": {"maxCodeStudios": 100}}}))
    assert f"{OWNER} may not change spec.quota of workspace {ws}" in error
    assert patch_as(cluster, "paula", "workspace", ws, {"spec": {"quota": {"maxCodeStudios": 100}}}).returncode == 0
    assert patch_as(cluster, OWNER, "workspace", ws, {"spec": {"displayName": "still mine"}}).returncode == 0


def test_studio_of_a_missing_template_and_deleting_a_template_in_use_are_refused(cluster: Cluster, request):
    tpl = make_template(cluster, request)
    ws = make_workspace(cluster, request, members=TEAM)
    wait_ready(cluster, ws)
    error = refusal(apply_as(cluster, MEMBER, own_studio("nope", ws, "no-such-template")))
    assert "CodeStudioTemplate 'no-such-template' does not exist" in error
    assert apply_as(cluster, MEMBER, own_studio("uses", ws, tpl)).returncode == 0
    error = refusal(cluster.kubectl("delete", "codestudiotemplate", tpl, "--wait=false", check=False))
    assert f"CodeStudioTemplate {tpl} is used by 1 CodeStudio(s): {ws}/uses" in error
    # Its owner may patch it once the operator has made the studio's access Role.
    cluster.wait_for(lambda: kubectl_as(cluster, MEMBER, "auth", "can-i", "patch", "codestudios/uses", "-n", ws,
                                        check=False).stdout.strip() == "yes", timeout=30, what="the owner's access")
    error = refusal(patch_as(cluster, MEMBER, "codestudio", "uses", {"spec": {"template": "no-such-template"}}, ws))
    assert "does not exist" in error
    kubectl_as(cluster, MEMBER, "-n", ws, "delete", "codestudio", "uses", check=True)
    cluster.kubectl("delete", "codestudiotemplate", tpl)
