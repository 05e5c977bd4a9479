"""Tenant isolation through the real API server, with the requests users make (kubectl --as):
get, exec and port-forward into another workspace's studio, or into another member's studio in
one's own workspace, are refused; studios run under Pod Security `restricted`.

test_workspaces.py asks the authorizer (`kubectl auth can-i`) the whole role table; here the
real requests are made, so nothing between the authorizer and the pod (a subresource, a Service
proxy) is missed.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.kube import Cluster
from tests.e2e.studios import make_template, studio_manifest, wait_state
from tests.e2e.workspaces import install_member_roles, kubectl_as, make_workspace, member, wait_ready

pytestmark = pytest.mark.usefixtures("running_operator")

A_OWNER, A_MEMBER, A_PEER, A_VIEWER, B_MEMBER = "ana", "amir", "ava", "avi", "ben"


@pytest.fixture(scope="module")
def tenants(cluster: Cluster, crds, request) -> tuple[str, str]:
    """Workspaces A and B, each with one running studio owned by a member: a/amir, b/ben."""
    install_member_roles(cluster)
    tpl = make_template(cluster, request)
    a = make_workspace(cluster, request, members=[member(A_OWNER, "owner"), member(A_MEMBER, "member"),
                                                  member(A_PEER, "member"), member(A_VIEWER, "viewer")])
    b = make_workspace(cluster, request, members=[member(B_MEMBER, "member")])
    wait_ready(cluster, a)
    wait_ready(cluster, b)
    cluster.apply([studio_manifest("amirs", a, tpl, owner=A_MEMBER), studio_manifest("bens", b, tpl, owner=B_MEMBER)])
    wait_state(cluster, a, "amirs", "Running")
    wait_state(cluster, b, "bens", "Running")
    return a, b


def forbidden(proc, user: str) -> bool:
    return proc.returncode != 0 and f'is forbidden: User "{user}" cannot' in proc.stderr


def exec_as(cluster: Cluster, user: str, namespace: str, pod: str):
    return kubectl_as(cluster, user, "-n", namespace, "exec", pod, "--", "true")


def port_forward_as(cluster: Cluster, user: str, namespace: str, pod: str):
    # A refused port-forward ends at once; an allowed one would keep listening (the timeout).
    return kubectl_as(cluster, user, "-n", namespace, "port-forward", f"pod/{pod}", "0:8888", "--pod-running-timeout=5s")


def test_a_member_of_one_workspace_cannot_read_exec_or_port_forward_into_another(cluster: Cluster, tenants):
    a, b = tenants
    for user in (A_OWNER, A_MEMBER, A_VIEWER):
        for request in (
            lambda: kubectl_as(cluster, user, "-n", b, "get", "codestudio", "bens"),
            lambda: kubectl_as(cluster, user, "-n", b, "get", "pod", "bens"),
            lambda: kubectl_as(cluster, user, "-n", b, "get", "pvc", "bens-home"),
            lambda: kubectl_as(cluster, user, "get", "workspace", b),
            lambda: exec_as(cluster, user, b, "bens"),
            lambda: port_forward_as(cluster, user, b, "bens"),
            lambda: kubectl_as(cluster, user, "get", "--raw", f"/api/v1/namespaces/{b}/services/bens:http/proxy/"),
        ):
            proc = request()
            assert forbidden(proc, user), (user, proc.stderr)
    # The other way round too.
    assert forbidden(kubectl_as(cluster, B_MEMBER, "-n", a, "get", "codestudios"), B_MEMBER)
    assert forbidden(exec_as(cluster, B_MEMBER, a, "amirs"), B_MEMBER)


def test_only_the_owner_may_exec_or_port_forward_into_a_studio(cluster: Cluster, tenants):
    a, _ = tenants
    for user in (A_VIEWER, A_PEER, A_OWNER):
        assert forbidden(exec_as(cluster, user, a, "amirs"), user), user
        assert forbidden(port_forward_as(cluster, user, a, "amirs"), user), user
        assert forbidden(kubectl_as(cluster, user, "get", "--raw",
                                    f"/api/v1/namespaces/{a}/services/amirs:http/proxy/"), user), user
    # The owner's request passes the API server's authorization and admission; it then fails
    # only at the fake node (kwok runs no containers), never as forbidden.
    own = exec_as(cluster, A_MEMBER, a, "amirs")
    assert own.returncode != 0 and "forbidden" not in own.stderr.lower(), own.stderr
    # Everyone in the workspace may see the studio exists.
    for user in (A_VIEWER, A_PEER, A_OWNER):
        assert kubectl_as(cluster, user, "-n", a, "get", "codestudio", "amirs").returncode == 0, user


def test_studios_run_under_pod_security_restricted(cluster: Cluster, tenants):
    a, _ = tenants
    labels = cluster.get("namespace", a)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    # The live pod, submitted again as a new pod, is admitted by today's restricted policy (pods
    # admitted earlier are not checked again when the policy tightens).
    pod = cluster.get("pod", "amirs", a)
    spec = {k: v for k, v in pod["spec"].items() if k not in ("nodeName",)}
    again = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "amirs-again", "namespace": a}, "spec": spec}
    proc = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(again), check=False)
    assert proc.returncode == 0 and "Warning" not in proc.stderr, proc.stderr
    # And the same pod made privileged is not.
    spec["containers"][0]["securityContext"] = {**spec["containers"][0].get("securityContext", {}),
                                                "allowPrivilegeEscalation": True}
    proc = cluster.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(again), check=False)
    assert proc.returncode != 0 and 'violates PodSecurity "restricted:latest"' in proc.stderr, proc.stderr
