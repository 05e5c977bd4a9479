"""The Python SDK (studio_operator.client) against the real API server."""

from __future__ import annotations

import datetime

import pytest

from studio_operator import api
from studio_operator.client import (
    AlreadyExists,
    Client,
    Invalid,
    Member,
    NotFound,
    NotFoundWarning,
    OperationFailed,
    StudioError,
    WaitTimeout,
)
from tests.e2e.kube import Cluster
from tests.e2e.studios import build_template, make_template, pod_uid, studio_manifest, wait_state
from tests.e2e.workspaces import install_member_roles


@pytest.fixture
def client(cluster: Cluster, crds) -> Client:
    return Client(kubeconfig=cluster.kubeconfig)


def test_client_from_kubeconfig(cluster: Cluster, crds):
    client = Client(kubeconfig=cluster.kubeconfig)
    assert client.server.startswith("https://127.0.0.1:")
    assert client.namespace == "default"
    assert Client(kubeconfig=cluster.kubeconfig, namespace="elsewhere").namespace == "elsewhere"
    with pytest.raises(StudioError, match="cannot load kubeconfig"):
        Client(kubeconfig=cluster.kubeconfig, context="no-such-context")


def test_workspaces_collection(client: Client, cluster: Cluster, ws_name: str):
    before = len(client.workspaces)
    team = client.workspaces.create(ws_name, display_name="Team", tier="gold", members=[Member(name="alice", role="owner")])
    assert team.name == ws_name and team.namespace == ws_name
    assert len(client.workspaces) == before + 1
    assert ws_name in client.workspaces and "no-such-ws" not in client.workspaces
    assert ws_name in [w.name for w in client.workspaces]

    info = client.workspaces.get(ws_name).info()
    assert isinstance(info, api.Workspace)
    assert info.spec.display_name == "Team" and info.spec.tier == "gold"

    with pytest.warns(NotFoundWarning, match="Workspace no-such-ws not found"):
        assert client.workspaces.get("no-such-ws") is None
    with pytest.raises(NotFound):
        client.workspaces["no-such-ws"]
    with pytest.raises(AlreadyExists):
        client.workspaces.create(ws_name)

    client.workspaces.delete(ws_name).wait_for_result(timeout=60)
    assert cluster.get("workspace", ws_name) is None


def test_workspace_members_and_state(client: Client, cluster: Cluster, ws_name: str):
    team = client.workspaces.create(ws_name, members=[Member(name="alice", role="owner")])
    added = team.add_user("bob", role="admin")
    assert added == Member(name="bob", role="admin")
    assert [(m.name, m.role) for m in team.users] == [("alice", "owner"), ("bob", "admin")]
    team.add_user("bob", "viewer")
    assert [(m.name, m.role) for m in team.users] == [("alice", "owner"), ("bob", "viewer")]
    team.remove_user("bob")
    assert [m.name for m in team.users] == ["alice"]
    with pytest.raises(NotFound, match=f"User bob is not a member of workspace {ws_name}"):
        team.remove_user("bob")
    with pytest.raises(Invalid, match="role"):
        team.add_user("carol", role="boss")

    stopping = team.stop()
    assert cluster.get("workspace", ws_name)["spec"]["state"] == "Stopped"
    assert stopping.what == f"Workspace {ws_name} to be Stopped"
    team.start()
    assert cluster.get("workspace", ws_name)["spec"]["state"] == "Active"


def test_server_side_validation_is_invalid(client: Client, ws_name: str):
    with pytest.raises(Invalid, match="kube-system.*reserved"):
        client.workspaces.create(ws_name, namespace="kube-system")


def test_code_studio_listing_and_settings(client: Client, cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply([studio_manifest("ana", namespace, tpl, owner="ana", state="Stopped"),
                   studio_manifest("ben", namespace, tpl, owner="ben", state="Stopped")])
    assert [s.name for s in client.code_studios(namespace)] == ["ana", "ben"]
    assert [s.name for s in client.code_studios(namespace, owner="ben")] == ["ben"]
    assert client.code_studios(namespace, template="other") == []
    assert {(s.namespace, s.name) for s in client.code_studios(template=tpl)} == {(namespace, "ana"), (namespace, "ben")}

    ana = client.code_studio("ana", namespace)
    settings = ana.get_settings()
    assert isinstance(settings, api.CodeStudioSpec)
    assert (settings.template, settings.owner, settings.state) == (tpl, "ana", "Stopped")
    assert ana.change_owner("carol").owner == "carol"
    assert cluster.get("codestudio", "ana", namespace)["spec"]["owner"] == "carol"
    with pytest.warns(NotFoundWarning):
        assert client.code_studio("nobody", namespace) is None


@pytest.mark.usefixtures("running_operator")
def test_code_studio_lifecycle_futures(client: Client, cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("cleo", namespace, tpl, owner="cleo"))
    wait_state(cluster, namespace, "cleo", "Running")
    studio = client.code_studio("cleo", namespace)
    assert studio.get_status().state == "Running"
    assert [s.name for s in client.code_studios(namespace, state="Running")] == ["cleo"]

    seen: list[str] = []
    stopped = studio.stop().wait_for_result(timeout=60, on_progress=seen.append)
    assert isinstance(stopped, api.CodeStudioStatus)
    assert stopped.state == "Stopped" and seen[-1] == "Stopped"
    assert datetime.datetime.fromisoformat(stopped.last_state_change.replace("Z", "+00:00"))
    assert cluster.get("pod", "cleo", namespace) is None

    assert studio.start().wait_for_result(timeout=60).state == "Running"
    first = pod_uid(cluster, namespace, "cleo")
    restart = studio.restart()
    result = restart.wait_for_result(timeout=60)
    assert result.state == "Running" and result.restarted_at
    assert pod_uid(cluster, namespace, "cleo") != first
    assert restart.done()


@pytest.mark.usefixtures("running_operator")
def test_futures_raise_on_failure_and_timeout(client: Client, cluster: Cluster, namespace: str, request):
    unpullable = make_template(cluster, request, image="registry.invalid/studios/none:1")  # kwok fails the pull
    cluster.apply(studio_manifest("dan", namespace, unpullable, owner="dan", state="Stopped"))
    wait_state(cluster, namespace, "dan", "Stopped")
    with pytest.raises(OperationFailed, match="is Failed: ErrImagePull: failed to pull image"):
        client.code_studio("dan", namespace).start().wait_for_result(timeout=60)

    tpl, _ = build_template(cluster, request, push_secret=None)  # never built here: the studio stays Starting
    cluster.apply(studio_manifest("eve", namespace, tpl, owner="eve", state="Stopped"))
    wait_state(cluster, namespace, "eve", "Stopped")
    with pytest.raises(WaitTimeout, match=f"timed out after 2s waiting for CodeStudio {namespace}/eve to be Running"):
        client.code_studio("eve", namespace).start().wait_for_result(timeout=2)


def test_templates(client: Client, cluster: Cluster, request):
    tpl = make_template(cluster, request)
    assert tpl in [t.name for t in client.templates]
    assert len(client.templates) >= 1
    template = client.templates.get(tpl)
    info = template.info()
    assert isinstance(info, api.CodeStudioTemplate) and info.spec.image.prebuilt
    assert template.build_status() is None  # prebuilt: nothing to build
    with pytest.raises(StudioError, match="prebuilt image; it has no build"):
        template.logs()
    with pytest.warns(NotFoundWarning):
        assert client.templates.get("no-such-template") is None


@pytest.mark.usefixtures("running_operator")
def test_workspace_studios(client: Client, cluster: Cluster, ws_name: str, request):
    """Needs the operator's workspaces: the namespace exists once the workspace is Active."""
    install_member_roles(cluster)
    tpl = make_template(cluster, request)
    team = client.workspaces.create(ws_name, members=[Member(name="alice", role="owner")])
    status = team.ready().wait_for_result(timeout=60)
    assert status.phase == "Active" and status.namespace == team.namespace
    studio = team.create_code_studio("notebook", tpl, owner="alice")
    assert studio.namespace == team.namespace
    assert studio.start().wait_for_result(timeout=60).state == "Running"
    assert [s.name for s in team.code_studios(owner="alice")] == ["notebook"]
    assert team.code_studio("notebook").get_settings().template == tpl

    assert team.stop().wait_for_result(timeout=60).phase == "Stopped"
    assert studio.get_status().state == "Stopped"
    assert team.start().wait_for_result(timeout=60).phase == "Active"
