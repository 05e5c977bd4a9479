"""CodeStudio lifecycle against the real API server, with kwok running the pods."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.kube import Cluster
from tests.e2e.studios import (
    condition,
    make_template,
    pod_uid,
    pvc_uid,
    restart,
    set_spec,
    studio_manifest,
    wait_state,
)

pytestmark = pytest.mark.usefixtures("running_operator")


def studio_events(cluster: Cluster, namespace: str, name: str) -> list[str]:
    """The reasons of the studio's Events, sorted (posted in the same second, they have no order)."""
    events = json.loads(cluster.kubectl("-n", namespace, "get", "events", "--field-selector",
                                        f"involvedObject.kind=CodeStudio,involvedObject.name={name}", "-o", "json").stdout)
    return sorted(e["reason"] for e in events["items"])


def test_create_runs_with_children(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    started = time.monotonic()
    created = json.loads(cluster.apply(studio_manifest("alice", namespace, tpl), "-o", "json").stdout)
    # Before the operator wrote anything, the API server shows it Starting (the CRD's default).
    assert created["status"] == {"state": "Starting"}
    obj = wait_state(cluster, namespace, "alice", "Running", timeout=60)
    print(f"create -> Running in {time.monotonic() - started:.2f}s")
    assert condition(obj, "Ready")["status"] == "True"
    assert condition(obj, "VolumeReady")["status"] == "True"
    assert obj["status"]["volume"] == {"claimName": "alice-home", "phase": "Bound", "capacity": "10Gi"}
    assert obj["status"]["endpoints"] == [{"name": "http", "url": f"http://alice.{namespace}.svc:8888"}]
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]

    pod = cluster.get("pod", "alice", namespace)
    assert pod["spec"]["containers"][0]["image"] == "quay.io/jupyter/base-notebook:2024-12-02"
    sc = pod["spec"]["containers"][0]["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["metadata"]["labels"]["studio.dev/codestudio"] == "alice"
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "CodeStudio"

    pvc = cluster.get("pvc", "alice-home", namespace)
    assert "ownerReferences" not in pvc["metadata"]  # Retain: the volume outlives the studio
    assert cluster.get("service", "alice", namespace)["spec"]["ports"][0]["port"] == 8888

    # A first start is no news; a stop is. Waiting for the stop's Event, a Running Event posted
    # after the status said Running (Events are posted in the background) cannot be missed.
    set_spec(cluster, namespace, "alice", state="Stopped")
    assert cluster.wait_for(lambda: studio_events(cluster, namespace, "alice") != [], what="alice's first Event")
    assert studio_events(cluster, namespace, "alice") == ["Stopped"]


def test_stop_keeps_volume_and_start_reattaches(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("bob", namespace, tpl, owner="bob"))
    wait_state(cluster, namespace, "bob", "Running")
    volume = pvc_uid(cluster, namespace, "bob-home")

    set_spec(cluster, namespace, "bob", state="Stopped")
    obj = wait_state(cluster, namespace, "bob", "Stopped")
    assert cluster.wait_for(lambda: cluster.get("pod", "bob", namespace) is None, what="the pod to go")
    assert pvc_uid(cluster, namespace, "bob-home") == volume
    assert condition(obj, "Ready")["reason"] == "Stopped"

    set_spec(cluster, namespace, "bob", state="Running")
    wait_state(cluster, namespace, "bob", "Running")
    assert cluster.wait_for(lambda: studio_events(cluster, namespace, "bob") == ["Running", "Stopped"],
                            what="the Stopped and Running Events")
    pod = cluster.get("pod", "bob", namespace)
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "bob-home"
    assert pvc_uid(cluster, namespace, "bob-home") == volume


def test_restart_replaces_pod_on_same_volume(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("carol", namespace, tpl, owner="carol"))
    wait_state(cluster, namespace, "carol", "Running")
    before_pod, volume = pod_uid(cluster, namespace, "carol"), pvc_uid(cluster, namespace, "carol-home")

    obj = restart(cluster, namespace, "carol")
    assert pod_uid(cluster, namespace, "carol") not in (None, before_pod)
    assert pvc_uid(cluster, namespace, "carol-home") == volume
    assert obj["status"]["pendingRestart"] is False


def test_deleted_pod_comes_back(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("dave", namespace, tpl, owner="dave"))
    wait_state(cluster, namespace, "dave", "Running")
    before = pod_uid(cluster, namespace, "dave")
    cluster.kubectl("-n", namespace, "delete", "pod", "dave", "--wait=true")
    cluster.wait_for(lambda: pod_uid(cluster, namespace, "dave") not in (None, before), timeout=30, what="a new pod")
    wait_state(cluster, namespace, "dave", "Running")


def test_deleted_volume_fails_and_never_starts_empty(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("erin", namespace, tpl, owner="erin"))
    wait_state(cluster, namespace, "erin", "Running")
    set_spec(cluster, namespace, "erin", state="Stopped")
    wait_state(cluster, namespace, "erin", "Stopped")
    cluster.kubectl("-n", namespace, "delete", "pvc", "erin-home", "--wait=true")

    set_spec(cluster, namespace, "erin", state="Running")
    obj = wait_state(cluster, namespace, "erin", "Failed", timeout=30)
    assert condition(obj, "VolumeReady")["reason"] == "VolumeLost"
    assert "erin-home was deleted" in obj["status"]["message"]
    time.sleep(2)
    assert cluster.get("pod", "erin", namespace) is None
    assert cluster.get("pvc", "erin-home", namespace) is None  # never silently recreated


def test_image_pull_failure_fails_fast_and_recovers_when_template_fixed(cluster: Cluster, namespace: str, request):
    # kwok's stage (hack/kwok/stages.yaml) reports ErrImagePull for registries under .invalid,
    # exactly as a kubelet would in the pod's status.
    tpl = make_template(cluster, request, image="registry.invalid/team/missing:1.0")
    cluster.apply(studio_manifest("frank", namespace, tpl, owner="frank"))
    cluster.wait_for(
        lambda: ((cluster.get("pod", "frank", namespace) or {}).get("status", {}).get("containerStatuses") or [{}])[0]
        .get("state", {}).get("waiting", {}).get("reason") == "ErrImagePull",
        timeout=60, what="the pull error on the pod",
    )
    reported = time.monotonic()
    obj = wait_state(cluster, namespace, "frank", "Failed", timeout=10)
    print(f"pull error reported on the studio {time.monotonic() - reported:.2f}s after the pod showed it")
    assert condition(obj, "ImageReady")["reason"] == "ImagePullError"
    assert "registry.invalid/team/missing:1.0" in obj["status"]["message"]

    cluster.kubectl("patch", "codestudiotemplate", tpl, "--type=merge",
                    "-p", '{"spec":{"image":{"prebuilt":"quay.io/jupyter/base-notebook:2024-12-02"}}}')
    obj = wait_state(cluster, namespace, "frank", "Running", timeout=60)
    assert obj["status"]["image"] == "quay.io/jupyter/base-notebook:2024-12-02"


@pytest.mark.parametrize("policy", ["Retain", "Delete"])
def test_delete_follows_reclaim_policy(cluster: Cluster, namespace: str, request, policy: str):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("gina", namespace, tpl, owner="gina", volumeReclaimPolicy=policy))
    wait_state(cluster, namespace, "gina", "Running")
    volume = pvc_uid(cluster, namespace, "gina-home")
    cluster.kubectl("-n", namespace, "delete", "codestudio", "gina", "--wait=true", timeout=60)
    cluster.wait_for(lambda: cluster.get("pod", "gina", namespace) is None, timeout=60, what="the pod to go")
    if policy == "Delete":
        cluster.wait_for(lambda: cluster.get("pvc", "gina-home", namespace) is None, timeout=60, what="the volume to go")
        events = cluster.kubectl("-n", namespace, "get", "events", "--field-selector",
                                 "involvedObject.kind=CodeStudio,involvedObject.name=gina,reason=VolumeDeleted",
                                 "-o", "jsonpath={.items[*].message}").stdout
        assert events == "deleted home volume gina-home (volumeReclaimPolicy: Delete)"
        return
    time.sleep(2)
    assert pvc_uid(cluster, namespace, "gina-home") == volume
    # A new studio of the same name and owner takes the volume back.
    cluster.apply(studio_manifest("gina", namespace, tpl, owner="gina"))
    wait_state(cluster, namespace, "gina", "Running")
    assert pvc_uid(cluster, namespace, "gina-home") == volume


def test_retained_volume_is_not_handed_to_another_owner(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("hank", namespace, tpl, owner="hank"))
    wait_state(cluster, namespace, "hank", "Running")
    cluster.kubectl("-n", namespace, "delete", "codestudio", "hank", "--wait=true")
    cluster.apply(studio_manifest("hank", namespace, tpl, owner="mallory"))
    obj = wait_state(cluster, namespace, "hank", "Failed", timeout=30)
    assert condition(obj, "VolumeReady")["reason"] == "VolumeOwnedByOther"
    assert cluster.get("pod", "hank", namespace) is None


def test_operator_killed_mid_lifecycle_converges(cluster: Cluster, namespace: str, request, running_operator):
    tpl = make_template(cluster, request)
    names = [f"k{i}" for i in range(5)]
    for name in names:
        cluster.apply(studio_manifest(name, namespace, tpl, owner=name))
    running_operator.kill()
    for name in names[:2]:
        set_spec(cluster, namespace, name, state="Stopped")
    running_operator.start()
    for name in names[:2]:
        wait_state(cluster, namespace, name, "Stopped", timeout=60)
    for name in names[2:]:
        wait_state(cluster, namespace, name, "Running", timeout=60)
    volumes = {n: pvc_uid(cluster, namespace, f"{n}-home") for n in names}
    assert all(volumes.values()), f"a studio has no home volume: {volumes}"
    running_operator.kill()
    running_operator.start()
    time.sleep(3)
    assert {n: pvc_uid(cluster, namespace, f"{n}-home") for n in names} == volumes
    pods = cluster.get("pods", namespace=namespace)["items"]
    assert sorted(p["metadata"]["name"] for p in pods) == sorted(names[2:])


def test_unschedulable_fails_after_the_timeout(cluster: Cluster, namespace: str, request):
    # The e2e operator runs with STUDIO_UNSCHEDULABLE_TIMEOUT=5; no fake node has 5000 CPUs.
    tpl = make_template(cluster, request, resources={"requests": {"cpu": "5000"}})
    cluster.apply(studio_manifest("ivy", namespace, tpl, owner="ivy"))
    obj = wait_state(cluster, namespace, "ivy", "Failed", timeout=40)
    assert condition(obj, "PodReady")["reason"] == "Unschedulable"
    assert "Insufficient cpu" in obj["status"]["message"]


def test_crash_loop_fails_fast_with_the_exit_code(cluster: Cluster, namespace: str, request):
    # A kubelet reports a crash loop in the pod status; this Stage does the same for this namespace.
    stage = f"crashloop-{namespace}"
    cluster.apply({
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": stage},
        "spec": {
            "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
            "selector": {"matchExpressions": [
                {"key": ".metadata.namespace", "operator": "In", "values": [namespace]},
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
            ]},
            "weight": 1000,
            "next": {"statusTemplate": (
                "phase: Running\n"
                "containerStatuses:\n"
                "- name: studio\n  image: {{ (index .spec.containers 0).image | Quote }}\n  ready: false\n  restartCount: 4\n"
                "  state: {waiting: {reason: CrashLoopBackOff, message: 'back-off 40s restarting failed container'}}\n"
                "  lastState: {terminated: {exitCode: 2, reason: Error}}\n"
            )},
        },
    })
    request.addfinalizer(lambda: cluster.kubectl("delete", "stage", stage, check=False))
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("jack", namespace, tpl, owner="jack"))
    obj = wait_state(cluster, namespace, "jack", "Failed", timeout=30)
    assert "CrashLoopBackOff" in obj["status"]["message"]
    assert "last exit code 2" in obj["status"]["message"]


def test_volume_grows_and_owner_change_moves_access(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("kim", namespace, tpl, owner="kim", storage={"size": "10Gi"}))
    wait_state(cluster, namespace, "kim", "Running")
    volume = pvc_uid(cluster, namespace, "kim-home")

    set_spec(cluster, namespace, "kim", storage={"size": "20Gi"})
    cluster.wait_for(
        lambda: (cluster.get("codestudio", "kim", namespace)["status"].get("volume") or {}).get("capacity") == "20Gi",
        timeout=30, what="the volume to grow",
    )
    assert pvc_uid(cluster, namespace, "kim-home") == volume

    def can_exec(user: str) -> str:
        return cluster.kubectl("auth", "can-i", "create", "pods/exec", "--subresource=exec", "-n", namespace,
                               "--as", user, check=False).stdout.strip()

    def can_exec_pod(user: str) -> str:
        return cluster.kubectl("auth", "can-i", "create", "pods/kim", "--subresource=exec", "-n", namespace,
                               "--as", user, check=False).stdout.strip()

    assert can_exec_pod("kim") == "yes" and can_exec_pod("lee") == "no"
    set_spec(cluster, namespace, "kim", owner="lee")
    cluster.wait_for(lambda: can_exec_pod("lee") == "yes" and can_exec_pod("kim") == "no", timeout=20,
                     what="access to move to the new owner")
    # Clearing the owner revokes access; it is not left with the last one.
    set_spec(cluster, namespace, "kim", owner=None)
    cluster.wait_for(lambda: can_exec_pod("lee") == "no", timeout=20, what="access to be revoked")


def test_a_volume_grown_past_the_quota_says_so_and_the_studio_still_stops(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.kubectl("-n", namespace, "create", "quota", "storage", "--hard=requests.storage=15Gi")
    cluster.wait_for(lambda: (cluster.get("resourcequota", "storage", namespace).get("status") or {}).get("used"),
                     timeout=30, what="the quota to count")
    cluster.apply(studio_manifest("lena", namespace, tpl, owner="lena", storage={"size": "10Gi"}))
    wait_state(cluster, namespace, "lena", "Running")
    set_spec(cluster, namespace, "lena", storage={"size": "50Gi"})
    refused = wait_state(cluster, namespace, "lena", "Failed", timeout=30)
    assert condition(refused, "VolumeReady")["reason"] == "QuotaExceeded"
    assert "exceeded quota" in condition(refused, "Ready")["message"]
    set_spec(cluster, namespace, "lena", state="Stopped")
    stopped = wait_state(cluster, namespace, "lena", "Stopped", timeout=30)
    assert cluster.get("pod", "lena", namespace) is None
    assert condition(stopped, "VolumeReady")["reason"] == "QuotaExceeded"


def test_a_studio_applied_again_at_once_under_delete_starts_on_a_new_volume(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("mona", namespace, tpl, owner="mona", volumeReclaimPolicy="Delete"))
    wait_state(cluster, namespace, "mona", "Running")
    volume = pvc_uid(cluster, namespace, "mona-home")
    cluster.kubectl("-n", namespace, "delete", "codestudio", "mona", "--wait=true", timeout=60)
    cluster.apply(studio_manifest("mona", namespace, tpl, owner="mona", volumeReclaimPolicy="Delete"))
    wait_state(cluster, namespace, "mona", "Running", timeout=60)
    assert pvc_uid(cluster, namespace, "mona-home") not in (None, volume)


def test_an_idle_studio_is_stopped_keeping_its_volume_and_says_why(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request, idleTimeout="2h")
    cluster.apply(studio_manifest("ida", namespace, tpl, owner="ida", idleTimeout="4s"))  # the studio's own wins
    running = wait_state(cluster, namespace, "ida", "Running")
    volume = pvc_uid(cluster, namespace, "ida-home")
    started = cluster.get("pod", "ida", namespace)["metadata"]["creationTimestamp"]
    assert running["status"]["lastActivity"] == started  # nobody reported activity: idle since it started

    stopped = wait_state(cluster, namespace, "ida", "Stopped", timeout=30)
    assert stopped["spec"]["state"] == "Stopped"  # as if its user had stopped it: start it the same way
    assert stopped["status"]["message"] == (f"stopped after 4s without activity (last activity {started}); "
                                            "set spec.state: Running to start it")
    assert cluster.get("pod", "ida", namespace) is None
    assert pvc_uid(cluster, namespace, "ida-home") == volume
    events = cluster.kubectl("-n", namespace, "get", "events", "--field-selector",
                             "involvedObject.kind=CodeStudio,involvedObject.name=ida,reason=Stopped",
                             "-o", "jsonpath={.items[*].message}").stdout
    assert "stopped after 4s without activity" in events


def test_reported_activity_keeps_a_studio_running_past_its_idle_timeout(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("ian", namespace, tpl, owner="ian", idleTimeout="6s"))
    wait_state(cluster, namespace, "ian", "Running")
    for _ in range(5):  # 10 s of use, reported every 2 s, as a gateway or `studioctl studio open` does
        reported = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        cluster.kubectl("-n", namespace, "annotate", "codestudio", "ian", f"studio.dev/last-activity={reported}", "--overwrite")
        time.sleep(2)
    obj = cluster.get("codestudio", "ian", namespace)
    assert (obj["status"]["state"], obj["spec"]["state"]) == ("Running", "Running")
    assert obj["status"]["lastActivity"] == reported
    wait_state(cluster, namespace, "ian", "Stopped", timeout=30)  # then nobody: stopped 6 s after the last report


def test_switched_to_retain_and_deleted_while_the_operator_is_down_the_volume_stays(
        cluster: Cluster, namespace: str, request, operator):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("rita", namespace, tpl, owner="rita", volumeReclaimPolicy="Delete"))
    wait_state(cluster, namespace, "rita", "Running")
    volume = pvc_uid(cluster, namespace, "rita-home")
    assert "studio.dev/reclaim-volume" in cluster.get("codestudio", "rita", namespace)["metadata"]["finalizers"]

    operator.stop()  # nobody looks between the switch and the delete (as with a backlog)
    try:
        set_spec(cluster, namespace, "rita", volumeReclaimPolicy="Retain")
        cluster.kubectl("-n", namespace, "delete", "codestudio", "rita", "--wait=false")
        time.sleep(5)  # time enough for the garbage collector, had the claim been the studio's dependent
        claim = cluster.get("pvc", "rita-home", namespace)
        assert (claim["metadata"]["uid"], claim["metadata"].get("deletionTimestamp")) == (volume, None)
        assert cluster.get("codestudio", "rita", namespace)["metadata"]["deletionTimestamp"]  # waits for the operator
    finally:
        operator.start()
    cluster.wait_for(lambda: cluster.get("codestudio", "rita", namespace) is None, timeout=30, what="the studio to go")
    cluster.wait_for(lambda: cluster.get("pod", "rita", namespace) is None, timeout=30, what="the pod to go")
    claim = cluster.get("pvc", "rita-home", namespace)
    assert (claim["metadata"]["uid"], claim["metadata"].get("deletionTimestamp")) == (volume, None)
